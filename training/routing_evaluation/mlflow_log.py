"""The MLflow edge of the routing evaluations: an evaluation onto the active run, or
why there is none."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mlflow


def log_evaluation(
    params: Mapping[str, Any], metrics: Mapping[str, float], data: dict[str, Any], artifact: str
) -> None:
    """Params, metrics and the JSON artifact, into the active MLflow run."""
    mlflow.log_params(dict(params))
    mlflow.log_metrics(dict(metrics))
    mlflow.log_dict(data, artifact)


def log_skipped(param: str, reason: str) -> None:
    """Say on the run, under ``param``, why an evaluation was skipped."""
    mlflow.log_param(param, f"skipped: {reason}"[:500])
