"""Pulling lead-score models from the MLflow registry by alias.

Every call goes through one `MlflowClient` bound to the configured tracking
URI; nothing touches MLflow's process-wide tracking URI, so several apps (or
tests) with different registries can live in one process.
"""

from __future__ import annotations

import logging
import tempfile

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from models.packaging import load_lead_model, registered_name
from serving.model_store import LoadedModel, MissingModel

logger = logging.getLogger(__name__)

TRAIN_HINT = "train and register one with `leadscore train --data DIR`"

# What the registry answers when the model or the alias does not exist.
_NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}


class RegistryLoader:
    """Loads `models:/lead-score-<channel>@<alias>` for one channel at a time."""

    def __init__(self, tracking_uri: str, alias: str) -> None:
        self.tracking_uri = tracking_uri
        self.alias = alias
        self.client = MlflowClient(tracking_uri=tracking_uri)

    def __call__(self, channel: str) -> LoadedModel | MissingModel:
        name = registered_name(channel)
        try:
            version = self.client.get_model_version_by_alias(name, self.alias)
        except Exception as exc:  # not found, or e.g. the tracking server is unreachable
            if isinstance(exc, MlflowException) and exc.error_code in _NOT_FOUND:
                return MissingModel(
                    channel=channel,
                    name=name,
                    alias=self.alias,
                    reason=f"no version of {name} carries the alias '{self.alias}'; {TRAIN_HINT}",
                )
            return self._failed(channel, name, f"the registry did not answer for {name}", exc)
        try:
            # The version, not the alias: the alias may move while we download.
            source = self.client.get_model_version_download_uri(name, version.version)
            with tempfile.TemporaryDirectory(prefix="leadscore-model-") as folder:
                local = mlflow.artifacts.download_artifacts(
                    artifact_uri=source, dst_path=folder, tracking_uri=self.tracking_uri
                )
                model = load_lead_model(local)
        except Exception as exc:
            return self._failed(
                channel, name, f"{name} version {version.version} could not be loaded", exc
            )
        return LoadedModel(
            channel=channel,
            name=name,
            alias=self.alias,
            version=str(version.version),
            run_id=version.run_id,
            model=model,
            metrics=self._metrics(version.run_id),
        )

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
            channel=channel,
            name=name,
            alias=self.alias,
            reason=f"{what} (alias '{self.alias}'): {exc}",
            failed=True,
        )
