"""Train, evaluate, log and register the lead-score models: one MLflow run per channel.

This is the edge where files and MLflow meet the pure fitting code in
`training.lead_score`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from features.columns import from_frame, take
from features.lead_features import default_spec, with_custom_columns
from features.spec import FeatureSpec
from models.packaging import load_lead_model, log_lead_model, registered_name
from training.gate import GATE_METRIC, GateDecision, apply_gate
from training.labelled import LabelledLeads, load_labelled
from training.lead_score import (
    ChannelData,
    FittedChannel,
    NotEnoughDataError,
    Progress,
    TrainingConfig,
    check_enough,
    fit_channel,
    labelled_channel,
    make_split,
    time_feature_plan,
    without_calendar,
)
from training.leakage import LeakageReport, check_leakage
from training.metrics import Intervals, bootstrap_intervals, evaluate
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
    intervals: Intervals | None = None
    leakage: LeakageReport | None = None
    unused_fields: tuple[str, ...] = ()
    """Fields the spec could read but that hold no value in this data."""


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
    labelled = load_labelled(data_dir)
    target = labelled.target(config.target)
    config = replace(config, target=target)
    leads = labelled.leads
    if labelled.imported:
        say(f"imported data from {labelled.source}; outcome: {target}")
    present = set(leads["channel"].dropna().unique())
    absent = [c for c in channels if c not in present]
    if absent and len(absent) == len(channels):
        raise NotEnoughDataError(f"no {' or '.join(absent)} leads in {data_dir}")
    for channel in absent:
        say(f"{channel}: no leads in this data; skipped")
    client = use_tracking(tracking)
    reports = []
    for channel in [c for c in channels if c in present]:
        say(f"{channel}: preparing {int((leads['channel'] == channel).sum()):,} leads")
        spec = with_custom_columns(default_spec(channel), labelled.custom)
        data = labelled_channel(leads, labelled.outcomes, channel, target, spec)
        # The spec may only shrink from here; `data` keeps every column it read.
        spec, unused, leakage = _checked_spec(
            spec, data, config, say, undecided=labelled.undecided(channel)
        )
        with mlflow.start_run(run_name=f"{registered_name(channel)}") as run:
            _log_data_checks(labelled, leakage, unused)
            fitted = fit_channel(data, spec, config, progress(channel) if progress else None)
            report = _log_and_register(client, fitted, config, alias, run.info.run_id, say)
        reports.append(replace(report, leakage=leakage, unused_fields=tuple(unused)))
    return reports


def _checked_spec(
    spec: FeatureSpec,
    data: ChannelData,
    config: TrainingConfig,
    say: Callable[[str], None],
    undecided: pd.DataFrame | None = None,
) -> tuple[FeatureSpec, list[str], LeakageReport]:
    """`spec` less what this data cannot support: fields with no values, calendar
    features the dates cannot carry (`time_feature_plan`), and columns the leakage guard
    drops. Refuses too few outcomes first."""
    channel = data.channel
    split = make_split(data, config)
    check_enough(data.y, split, channel, config.min_positives)
    spec, unused = _without_empty_fields(spec, data)
    if unused:
        say(f"{channel}: no values for {', '.join(unused)}; not used")
    learning = data.leads.iloc[split.earlier]
    dropped, notes = time_feature_plan(learning["created_at"], config)
    spec = without_calendar(spec, dropped)
    for note in notes:
        say(f"{channel}: {note}")
    leakage = check_leakage(
        learning,
        data.y[split.earlier],
        spec.input_fields,
        keep=config.keep_columns,
        max_auc=config.leakage_auc,
        seed=config.seed,
        undecided=undecided,
        held_out=data.leads.iloc[split.validation],
    )
    for check in leakage.suspicious:
        verdict = "DROPPED" if check.decision == "dropped" else "kept (--keep-column)"
        say(f"{channel}: leakage guard: {check.column} {verdict}: {check.reason}")
    return spec.without(leakage.dropped), unused, leakage


def _without_empty_fields(spec: FeatureSpec, data: ChannelData) -> tuple[FeatureSpec, list[str]]:
    """Drop features whose fields never hold a value here (an export has few of the contract's)."""
    empty = [
        name
        for name, values in data.columns.items()
        if name != "created_at" and _all_missing(values)
    ]
    return (spec.without(empty), empty) if empty else (spec, [])


def _all_missing(values: np.ndarray) -> bool:
    if values.dtype == object:
        return bool(all(v is None for v in values))
    if values.dtype.kind == "M":
        return bool(np.isnat(values).all())
    return bool(np.isnan(values).all())


def _log_data_checks(labelled: LabelledLeads, leakage: LeakageReport, unused: list[str]) -> None:
    """What the data let the model use and why: the leakage decisions, printed and kept."""
    mlflow.log_dict(
        {
            **leakage.as_dict(),
            "post_contact_dropped_at_import": labelled.post_contact_dropped,
            "fields_without_values": unused,
        },
        "leakage_guard.json",
    )
    mlflow.log_params(
        {
            "data_source": labelled.source[:250],
            "custom_columns": ",".join(labelled.custom)[:500] or "none",
            "leakage_dropped": ",".join(leakage.dropped)[:500] or "none",
            "leakage_max_auc": leakage.max_auc,
        }
    )


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
    # The production model learnt the validation rows too: the figures are the evaluated one's.
    p_model = fitted.evaluated.score(validation).probability
    p_base = fitted.evaluated_baseline.predict_proba(fitted.evaluated.spec.transform(validation))
    p_base = p_base[:, 1]
    metrics, baseline = evaluate(y_val, p_model), evaluate(y_val, p_base)
    intervals = bootstrap_intervals(
        y_val, {"lightgbm": p_model, "baseline": p_base}, seed=config.seed
    )
    interval = intervals.by_model["lightgbm"]["roc_auc"]
    rows = {"earlier": len(split.earlier), "validation": len(split.validation), "all": len(data.y)}
    _log_run(fitted, config, metrics, baseline, interval, rows, y_val, p_model, p_base)
    _log_intervals(intervals)
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
        intervals=intervals,
    )


def _log_intervals(intervals: Intervals) -> None:
    for model, metrics in intervals.by_model.items():
        prefix = "val" if model == "lightgbm" else "baseline_val"
        for metric, (low, high) in metrics.items():
            mlflow.log_metrics(
                {f"{prefix}_{metric}_ci_low": low, f"{prefix}_{metric}_ci_high": high}
            )
    if intervals.roc_auc_difference is not None:
        low, high = intervals.roc_auc_difference
        mlflow.log_metrics({"val_roc_auc_gain_ci_low": low, "val_roc_auc_gain_ci_high": high})


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
            **{f"fit_{key}": value for key, value in fitted.settings.items()},
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
