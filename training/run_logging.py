"""What every training run logs the same way: validation metrics of the model and
its baseline, the plots, and the validation predictions (shared by the
lead-score and rep-fit pipelines)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from training.gate import GateDecision
from training.plots import calibration_figure, gains_figure, importance_figure


def log_validation(
    metrics: Mapping[str, float],
    baseline: Mapping[str, float],
    interval: tuple[float, float],
    y_val: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    feature_names: Sequence[str],
    gains: np.ndarray,
) -> None:
    """`predictions` maps a model's name to its validation probabilities."""
    mlflow.log_metrics({f"val_{k}": v for k, v in metrics.items()})
    mlflow.log_metrics({f"baseline_val_{k}": v for k, v in baseline.items()})
    mlflow.log_metrics({"val_roc_auc_ci_low": interval[0], "val_roc_auc_ci_high": interval[1]})
    mlflow.log_figure(calibration_figure(y_val, predictions), "plots/calibration.png")
    mlflow.log_figure(gains_figure(y_val, predictions), "plots/cumulative_gains.png")
    mlflow.log_figure(
        importance_figure(list(feature_names), gains, title="Feature importance (gain)"),
        "plots/feature_importance.png",
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "validation_predictions.parquet"
        pd.DataFrame({"y": y_val, **predictions}).to_parquet(path)
        mlflow.log_artifact(str(path))


def log_gate(gate: GateDecision) -> None:
    """The promotion decision, its reason and the champion's figure on the same rows."""
    mlflow.log_params(
        {
            "gate_decision": "promoted" if gate.promote else "kept champion",
            "gate_reason": gate.reason[:500],
        }
    )
    if gate.champion is not None:
        mlflow.log_metric(f"champion_val_{gate.metric}", gate.champion)
    mlflow.log_dict(
        {
            "promoted": gate.promote,
            "reason": gate.reason,
            "checks": list(gate.checks),
            "candidate": gate.candidate,
            "champion": gate.champion,
            "champion_version": gate.champion_version,
        },
        "gate.json",
    )
