"""Pointing MLflow at a tracking store (an edge: called by the CLI and jobs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import mlflow
from mlflow import MlflowClient

# MLflow logs every database migration and experiment creation at INFO.
_NOISY_LOGGERS = (
    "mlflow.store.db.utils",
    "mlflow.tracking.fluent",
    "mlflow.pyfunc",
    "alembic.runtime.migration",
)


class _KnownPickleNotice(logging.Filter):
    """Drop MLflow's notice that a python_model object is pickled: we know, and
    `models.packaging` documents why (the fitted spec must travel with the model)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "CloudPickle" not in record.getMessage()


@dataclass(frozen=True)
class TrackingTarget:
    """Where runs and registered models go."""

    uri: str
    experiment: str = "leadscore"
    artifact_location: str | None = None


def use_tracking(target: TrackingTarget) -> MlflowClient:
    """Set the tracking URI and experiment for this process; returns a client for it.

    A new experiment gets `artifact_location`, so with the embedded SQLite
    store artifacts land in the generated-files folder instead of an
    `mlruns/` beside wherever the command ran.
    """
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    pyfunc_logger = logging.getLogger("mlflow.pyfunc")
    if not any(isinstance(f, _KnownPickleNotice) for f in pyfunc_logger.filters):
        pyfunc_logger.addFilter(_KnownPickleNotice())
    mlflow.set_tracking_uri(target.uri)
    mlflow.set_registry_uri(target.uri)
    client = MlflowClient(tracking_uri=target.uri, registry_uri=target.uri)
    if client.get_experiment_by_name(target.experiment) is None:
        client.create_experiment(target.experiment, artifact_location=target.artifact_location)
    mlflow.set_experiment(target.experiment)
    return client
