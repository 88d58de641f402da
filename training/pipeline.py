"""Train, evaluate, log and register the lead-score models: one MLflow run per channel.

This is the edge where files and MLflow meet the pure fitting code in
`training.lead_score`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np

from data.tables import read_table
from features.columns import from_frame, take
from features.lead_features import default_spec
from models.packaging import load_lead_model, log_lead_model, registered_name
from training.gate import GATE_METRIC, GateDecision, apply_gate
from training.lead_score import (
    ChannelData,
    FittedChannel,
    Progress,
    TrainingConfig,
    channel_data,
    fit_channel,
)
from training.metrics import bootstrap_interval, evaluate
from training.run_logging import log_gate, log_validation
from training.tracking import TrackingTarget, use_tracking


@dataclass(frozen=True)
class ChannelReport:
    """What one channel's training produced, for the console and the tests."""

    channel: str
    model_name: str
    version: str
    run_id: str
    metrics: dict[str, float]
    baseline: dict[str, float]
    roc_auc_interval: tuple[float, float]
    gate: GateDecision
    rows: dict[str, int]


def train_lead_scores(
    data_dir: Path,
    tracking: TrackingTarget,
    config: TrainingConfig | None = None,
    channels: Sequence[str] = ("inbound", "outbound"),
    alias: str = "champion",
    progress: Callable[[str], Progress] | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> list[ChannelReport]:
    """Train each channel's model on `data_dir`, log everything, register, and gate `alias`.

    `progress(channel)` may return a callback that receives boosting progress.
    """
    config = config or TrainingConfig()
    leads = read_table(data_dir, "leads")
    opportunities = read_table(data_dir, "opportunities")
    client = use_tracking(tracking)
    reports = []
    for channel in channels:
        spec = default_spec(channel)
        say(f"{channel}: preparing {int((leads['channel'] == channel).sum()):,} leads")
        data = channel_data(leads, opportunities, channel, config.target, spec)
        with mlflow.start_run(run_name=f"{registered_name(channel)}") as run:
            fitted = fit_channel(data, spec, config, progress(channel) if progress else None)
            report = _log_and_register(client, fitted, config, alias, run.info.run_id, say)
        reports.append(report)
    return reports


def _log_and_register(
    client: Any,
    fitted: FittedChannel,
    config: TrainingConfig,
    alias: str,
    run_id: str,
    say: Callable[[str], None],
) -> ChannelReport:
    data, split, model = fitted.data, fitted.split, fitted.model
    name = registered_name(data.channel)
    validation = take(data.columns, split.validation)
    y_val = data.y[split.validation]
    p_model = model.score(validation).probability
    p_base = fitted.baseline.predict_proba(model.spec.transform(validation))[:, 1]
    metrics, baseline = evaluate(y_val, p_model), evaluate(y_val, p_base)
    interval = bootstrap_interval(y_val, p_model, "roc_auc", seed=config.seed)
    rows = {
        "train": len(split.train),
        "calibration": len(split.calibration),
        "validation": len(split.validation),
    }
    _log_run(fitted, config, metrics, baseline, interval, rows, y_val, p_model, p_base)
    say(f"{data.channel}: logging and registering {name}")
    info = log_lead_model(model, data.leads.iloc[split.validation], registered_model_name=name)
    version = str(info.registered_model_version)
    gate = _gate(client, name, alias, version, data, split.validation, metrics)
    log_gate(gate)
    return ChannelReport(
        channel=data.channel,
        model_name=name,
        version=version,
        run_id=run_id,
        metrics=metrics,
        baseline=baseline,
        roc_auc_interval=interval,
        gate=gate,
        rows=rows,
    )


def _gate(
    client: Any,
    name: str,
    alias: str,
    version: str,
    data: ChannelData,
    validation_rows: np.ndarray,
    metrics: dict[str, float],
) -> GateDecision:
    validation_leads = data.leads.iloc[validation_rows]

    def champion_probability(uri: str) -> np.ndarray:
        champion = load_lead_model(uri)
        columns = from_frame(validation_leads, champion.spec.input_fields)
        return champion.score(columns).probability

    y = data.y[validation_rows]
    return apply_gate(
        client, name, alias, version, metrics[GATE_METRIC], champion_probability, y, GATE_METRIC
    )


def _log_run(
    fitted: FittedChannel,
    config: TrainingConfig,
    metrics: dict[str, float],
    baseline: dict[str, float],
    interval: tuple[float, float],
    rows: dict[str, int],
    y_val: np.ndarray,
    p_model: np.ndarray,
    p_base: np.ndarray,
) -> None:
    model = fitted.model
    mlflow.set_tags({"channel": fitted.data.channel, "target": config.target})
    mlflow.log_params(
        {
            "channel": fitted.data.channel,
            "target": config.target,
            "validation_start": str(fitted.split.validation_start),
            "best_iteration": fitted.best_iteration,
            "features": len(model.spec.features),
            **{f"rows_{part}": count for part, count in rows.items()},
            **{f"lgbm_{key}": value for key, value in config.lgbm_params.items()},
            "calibration": "platt",
            "baseline": "logistic_regression",
        }
    )
    mlflow.log_dict(
        {
            "features": [f.__dict__ | {"kind": f.kind.value} for f in model.spec.features],
            "vocabularies": {k: list(v) for k, v in model.spec.vocabularies.items()},
            "grade_thresholds": dict(model.scale.grade_thresholds),
            "calibration": model.calibration.__dict__,
        },
        "model_card.json",
    )
    log_validation(
        metrics,
        baseline,
        interval,
        y_val,
        {"lightgbm": p_model, "baseline": p_base},
        model.spec.names,
        model.booster.feature_importance(importance_type="gain"),
    )
