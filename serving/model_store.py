"""The models the API serves, one per slot, swapped atomically on reload.

A slot is a lead channel (inbound, outbound) for the lead-score models, or a
role (closer, account_manager) for the rep-fit models; each kind has its own
`ModelStore`.

A `ModelSet` is immutable: a request reads `ModelStore.current` once and
scores with that set, so a reload running at the same time never hands it a
mix of old and new models. Loading itself (MLflow) lives in `serving.registry`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from models.lead_score_model import LeadScoreModel
from models.rep_fit_model import RepFitModel

M = TypeVar("M")


@dataclass(frozen=True)
class LoadedModel(Generic[M]):
    """One slot's model as pulled from the registry."""

    slot: str
    name: str
    alias: str
    version: str
    run_id: str | None
    model: M
    metrics: Mapping[str, float] = field(default_factory=dict)
    loaded_at: float = field(default_factory=time.time)
    """Unix time of the load; a version kept through a failed reload keeps its time."""
    promoted_at: str | None = None
    """When the gate moved the alias to this version (UTC ISO), from its version tags."""
    replaced_version: str | None = None
    """The version that held the alias before ('none': it was the first)."""


@dataclass(frozen=True)
class MissingModel:
    """A slot without a usable model, and why.

    `failed` is True when a version exists but could not be loaded (registry
    unreachable, broken artifact), False when nothing carries the alias.
    """

    slot: str
    name: str
    alias: str
    reason: str
    failed: bool = False


@dataclass(frozen=True)
class ModelSet(Generic[M]):
    loaded: Mapping[str, LoadedModel[M]]
    missing: Mapping[str, MissingModel]
    errors: Sequence[str] = ()
    """Load failures during a reload for which the previous version was kept."""

    @property
    def complete(self) -> bool:
        return not self.missing


Loader = Callable[[str], LoadedModel[M] | MissingModel]
"""Loads the model of one slot, or says why there is none."""

OnLoad = Callable[["ModelSet[M] | None", "ModelSet[M]"], None]
"""Told (previous set, new set) after each load, e.g. to update the metrics."""


class ModelStore(Generic[M]):
    """Holds the current `ModelSet`; `load()` replaces it in one assignment."""

    def __init__(
        self, loader: Loader[M], slots: Sequence[str], on_load: OnLoad[M] | None = None
    ) -> None:
        self._loader = loader
        self._on_load = on_load
        self._slots = tuple(str(s) for s in slots)
        self._current: ModelSet[M] | None = None
        self._reload_lock = threading.Lock()

    @property
    def slots(self) -> tuple[str, ...]:
        return self._slots

    @property
    def current(self) -> ModelSet[M] | None:
        """The models in use; None until the first load has finished."""
        return self._current

    def load(self) -> ModelSet[M]:
        """(Re)load every slot and swap the new set in.

        A slot whose alias is gone becomes missing. A slot whose new version
        fails to load keeps serving the version it had, so a broken registry
        or artifact never takes a working service down.
        """
        with self._reload_lock:
            previous = self._current
            loaded: dict[str, LoadedModel[M]] = {}
            missing: dict[str, MissingModel] = {}
            errors: list[str] = []
            for slot in self._slots:
                result = self._loader(slot)
                if isinstance(result, LoadedModel):
                    loaded[slot] = result
                elif result.failed and previous is not None and slot in previous.loaded:
                    kept = previous.loaded[slot]
                    loaded[slot] = kept
                    errors.append(f"{result.reason}; still serving {kept.name} v{kept.version}")
                else:
                    missing[slot] = result
            self._current = ModelSet(loaded=loaded, missing=missing, errors=tuple(errors))
            if self._on_load is not None:
                self._on_load(previous, self._current)
            return self._current


LeadModels = ModelStore[LeadScoreModel]
LeadModelSet = ModelSet[LeadScoreModel]
LoadedLeadModel = LoadedModel[LeadScoreModel]
FitModels = ModelStore[RepFitModel]
FitModelSet = ModelSet[RepFitModel]
LoadedFitModel = LoadedModel[RepFitModel]
