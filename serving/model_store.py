"""The models the API serves, one per channel, swapped atomically on reload.

A `ModelSet` is immutable: a request reads `ModelStore.current` once and
scores with that set, so a reload running at the same time never hands it a
mix of old and new models. Loading itself (MLflow) lives in `serving.registry`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from data.contract import Channel
from features.columns import FieldType
from models.lead_score import LeadScoreModel


@dataclass(frozen=True)
class LoadedModel:
    """One channel's model as pulled from the registry."""

    channel: str
    name: str
    alias: str
    version: str
    run_id: str | None
    model: LeadScoreModel
    metrics: Mapping[str, float] = field(default_factory=dict)
    input_fields: Mapping[str, FieldType] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The raw fields the spec reads, computed once instead of on every request.
        object.__setattr__(self, "input_fields", self.model.spec.input_fields)


@dataclass(frozen=True)
class MissingModel:
    """A channel without a usable model, and why.

    `failed` is True when a version exists but could not be loaded (registry
    unreachable, broken artifact), False when nothing carries the alias.
    """

    channel: str
    name: str
    alias: str
    reason: str
    failed: bool = False


@dataclass(frozen=True)
class ModelSet:
    loaded: Mapping[str, LoadedModel]
    missing: Mapping[str, MissingModel]
    errors: Sequence[str] = ()
    """Load failures during a reload for which the previous version was kept."""

    @property
    def complete(self) -> bool:
        return not self.missing


Loader = Callable[[str], LoadedModel | MissingModel]
"""Loads the model of one channel, or says why there is none."""


class ModelStore:
    """Holds the current `ModelSet`; `load()` replaces it in one assignment."""

    def __init__(self, loader: Loader, channels: Sequence[str] = tuple(Channel)) -> None:
        self._loader = loader
        self._channels = tuple(str(c) for c in channels)
        self._current: ModelSet | None = None
        self._reload_lock = threading.Lock()

    @property
    def current(self) -> ModelSet | None:
        """The models in use; None until the first load has finished."""
        return self._current

    def load(self) -> ModelSet:
        """(Re)load every channel and swap the new set in.

        A channel whose alias is gone becomes missing. A channel whose new
        version fails to load keeps serving the version it had, so a broken
        registry or artifact never takes a working service down.
        """
        with self._reload_lock:
            previous = self._current
            loaded: dict[str, LoadedModel] = {}
            missing: dict[str, MissingModel] = {}
            errors: list[str] = []
            for channel in self._channels:
                result = self._loader(channel)
                if isinstance(result, LoadedModel):
                    loaded[channel] = result
                elif result.failed and previous is not None and channel in previous.loaded:
                    kept = previous.loaded[channel]
                    loaded[channel] = kept
                    errors.append(f"{result.reason}; still serving {kept.name} v{kept.version}")
                else:
                    missing[channel] = result
            self._current = ModelSet(loaded=loaded, missing=missing, errors=tuple(errors))
            return self._current
