"""Pointing MLflow at a tracking store for one training run (an edge: called by the
training entry points)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import mlflow
from mlflow import MlflowClient
from mlflow.tracking import fluent
from mlflow.tracking._model_registry import utils as registry_utils
from mlflow.tracking._tracking_service import utils as tracking_utils

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


# What MLflow's fluent API keeps process-wide; it mirrors each in an environment
# variable for subprocesses, so both are saved and put back.
_FLUENT_ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID")


@contextmanager
def use_tracking(target: TrackingTarget) -> Iterator[MlflowClient]:
    """Point MLflow's fluent API (`start_run`, `log_model`) at `target` for the block, with
    a client bound to it; on exit the tracking and registry URIs and the experiment are
    what they were, so later code in the process (the API, other tests) is not redirected.

    A new experiment gets `artifact_location`, so with the embedded SQLite
    store artifacts land in the generated-files folder instead of an
    `mlruns/` beside wherever the command ran.
    """
    _quiet_mlflow_logs()
    # MLflow has no public way to unset these; its own setters write the same globals.
    saved = (
        tracking_utils._tracking_uri,
        registry_utils._registry_uri,
        fluent._active_experiment_id,
        {name: os.environ.get(name) for name in _FLUENT_ENV},
    )
    try:
        yield _point_at(target)
    finally:
        tracking_uri, registry_uri, experiment_id, environment = saved
        mlflow.set_tracking_uri(tracking_uri)  # type: ignore[arg-type]  # None: "unset"
        registry_utils._registry_uri = registry_uri
        fluent._active_experiment_id = experiment_id
        for name, value in environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _point_at(target: TrackingTarget) -> MlflowClient:
    mlflow.set_tracking_uri(target.uri)
    mlflow.set_registry_uri(target.uri)
    client = MlflowClient(tracking_uri=target.uri, registry_uri=target.uri)
    if client.get_experiment_by_name(target.experiment) is None:
        client.create_experiment(target.experiment, artifact_location=target.artifact_location)
    mlflow.set_experiment(target.experiment)
    return client


def _quiet_mlflow_logs() -> None:
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    pyfunc_logger = logging.getLogger("mlflow.pyfunc")
    if not any(isinstance(f, _KnownPickleNotice) for f in pyfunc_logger.filters):
        pyfunc_logger.addFilter(_KnownPickleNotice())
