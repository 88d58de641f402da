"""Pulling models from the MLflow registry by alias.

`RegistryLoader` is how the API, the batch re-scoring and `leadscore route` reach
the registry. Every call goes through one `MlflowClient` bound to an explicit
tracking and registry URI and downloads the version's artifacts with that URI;
nothing here reads or sets MLflow's process-wide URIs, so several apps (or tests)
with different registries can live in one process. Training needs MLflow's fluent
API, which reads the process-wide URIs: it sets them only for the duration of a
training run and puts the previous ones back (`training.tracking.use_tracking`).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from typing import Generic

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from serving.model_store import LoadedModel, M, MissingModel, ModelSet, ModelStore

logger = logging.getLogger(__name__)

TRAIN_HINT = "train and register one with `leadscore train --data DIR`"
FIT_FALLBACK = "routing falls back to weighted round-robin"
FIT_TRAIN_HINT = (
    f"train and register one with `leadscore train --data DIR --models rep-fit`; "
    f"until then {FIT_FALLBACK}"
)

# What the registry answers when the model or the alias does not exist.
_NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}


def newest_rejection(client: MlflowClient, name: str) -> str | None:
    """'the newest version, v3, was not promoted: <the gate's reason>', or None when the
    newest version was promoted (or there is none, or the registry cannot say)."""
    try:
        versions = client.search_model_versions(f"name = '{name}'")
    except MlflowException:
        return None
    if not versions:
        return None
    newest = max(versions, key=lambda v: int(v.version))
    tags = newest.tags or {}
    if tags.get("gate") != "rejected":
        return None
    reason = tags.get("gate_reason") or "no reason recorded"
    return f"the newest version, v{newest.version}, was not promoted: {reason}"


def missing_reason(
    client: MlflowClient, name: str, alias: str, train_hint: str, fallback: str = ""
) -> str:
    """Why no model serves under `alias`: the gate's own reason when training ran and the
    gate said no (retraining on the same history would not change that), else how to
    train one; with the `fallback` that serves instead."""
    missing = f"no version of {name} carries the alias '{alias}'"
    rejected = newest_rejection(client, name)
    if rejected is None:
        return f"{missing}; {train_hint}"
    return f"{missing}: {rejected}" + (f"; {fallback}" if fallback else "")


class RegistryLoader(Generic[M]):
    """Loads `models:/<name_of(slot)>@<alias>` for one slot at a time with `load`."""

    def __init__(
        self,
        tracking_uri: str,
        alias: str,
        name_of: Callable[[str], str],
        load: Callable[[str], M],
        train_hint: str = TRAIN_HINT,
        fallback: str = "",
    ) -> None:
        self.tracking_uri = tracking_uri
        self.alias = alias
        # The registry too: left out, MlflowClient takes the process-wide registry URI,
        # which another component (a training run in the same process) may have set.
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        self._name_of = name_of
        self._load = load
        self._train_hint = train_hint
        self._fallback = fallback

    def __call__(self, channel: str) -> LoadedModel[M] | MissingModel:
        name = self._name_of(channel)
        try:
            version = self.client.get_model_version_by_alias(name, self.alias)
        except Exception as exc:  # not found, or e.g. the tracking server is unreachable
            if isinstance(exc, MlflowException) and exc.error_code in _NOT_FOUND:
                return MissingModel(
                    slot=channel,
                    name=name,
                    alias=self.alias,
                    reason=missing_reason(
                        self.client, name, self.alias, self._train_hint, self._fallback
                    ),
                )
            return self._failed(channel, name, f"the registry did not answer for {name}", exc)
        try:
            # The version, not the alias: the alias may move while we download.
            source = self.client.get_model_version_download_uri(name, version.version)
            with tempfile.TemporaryDirectory(prefix="leadscore-model-") as folder:
                local = mlflow.artifacts.download_artifacts(
                    artifact_uri=source, dst_path=folder, tracking_uri=self.tracking_uri
                )
                model = self._load(local)
        except Exception as exc:
            return self._failed(
                channel, name, f"{name} version {version.version} could not be loaded", exc
            )
        tags = version.tags or {}
        return LoadedModel(
            slot=channel,
            name=name,
            alias=self.alias,
            version=str(version.version),
            run_id=version.run_id,
            model=model,
            metrics=self._metrics(version.run_id),
            promoted_at=tags.get("promoted_at"),
            replaced_version=tags.get("replaced_version"),
        )

    def alias_version(self, slot: str) -> str | None:
        """The version holding the alias for `slot` now, None if none does: one registry
        call, no download. Raises when the registry does not answer."""
        try:
            version = self.client.get_model_version_by_alias(self._name_of(slot), self.alias)
        except MlflowException as exc:
            if exc.error_code in _NOT_FOUND:
                return None
            raise
        return str(version.version)

    def _metrics(self, run_id: str | None) -> dict[str, float]:
        """The metrics training recorded in the version's run (none if the run is gone)."""
        if not run_id:
            return {}
        try:
            return dict(self.client.get_run(run_id).data.metrics)
        except Exception:
            logger.warning("metrics of run %s could not be read", run_id, exc_info=True)
            return {}

    def _failed(self, channel: str, name: str, what: str, exc: BaseException) -> MissingModel:
        logger.error("%s (alias '%s')", what, self.alias, exc_info=exc)
        return MissingModel(
            slot=channel,
            name=name,
            alias=self.alias,
            reason=f"{what} (alias '{self.alias}'): {exc}",
            failed=True,
        )


class AliasWatcher(Generic[M]):
    """Reloads a `ModelStore` when the alias of one of its slots moved in the registry.

    Each check asks only which version holds the alias; the models are downloaded
    only when one moved, and swapped in by the store's one-assignment `load`.
    """

    def __init__(self, store: ModelStore[M], loader: RegistryLoader[M]) -> None:
        self._store = store
        self._loader = loader

    def moved(self, current: ModelSet[M] | None) -> list[str]:
        """'inbound: v1 -> v2' for each slot whose alias holder differs from what serves."""
        changes = []
        for slot in self._store.slots:
            holder = self._loader.alias_version(slot)
            serving = current.loaded.get(slot) if current is not None else None
            served = serving.version if serving is not None else None
            if holder != served:
                changes.append(f"{slot}: v{served or '-'} -> v{holder or '-'}")
        return changes

    def check(self) -> list[str]:
        """Reload if an alias moved; the changes seen (empty: nothing to do). Raises when
        the registry does not answer, and the current models stay."""
        changes = self.moved(self._store.current)
        if changes:
            logger.info("alias '%s' moved (%s): reloading", self._loader.alias, ", ".join(changes))
            self._store.load()
        return changes
