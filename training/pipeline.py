"""Train, evaluate, log and register the lead-score models: one MLflow run per channel.

This is the edge where files and MLflow meet the pure fitting code in
`training.channel_fit`; the evaluate -> gate -> register steps every model
shares live in `training.flow`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from features.columns import Columns, from_frame, take
from features.lead_features import default_spec, with_custom_columns
from models.lead_score import LeadScoreModel
from models.packaging import load_lead_model, log_lead_model, registered_name
from training.boosting import Progress
from training.channel_data import ChannelData, labelled_channel
from training.channel_fit import FittedChannel, baseline_model, fit_channel
from training.evaluation_metrics import evaluate
from training.flow import (
    BASELINE,
    MODEL,
    DataWindow,
    GatePolicy,
    Judged,
    Registration,
    judge,
    log_judged,
    register_and_gate,
)
from training.gate import TRAINED_THROUGH_TAG, MissingInputsError
from training.labelled import LabelledLeads, load_labelled
from training.leakage import LeakageReport
from training.reference import with_reference
from training.reports import Skipped, TrainedReport
from training.run_logging import log_validation
from training.spec_checks import checked_spec
from training.tracking import TrackingTarget, use_tracking
from training.training_config import NotEnoughDataError, TrainingConfig

NO_DATES_WARNING = (
    "no usable creation dates: validated on a stratified random 20% instead of the newest "
    "period, so the figures are optimistic (they assume tomorrow's leads look like "
    "yesterday's); no time features"
)


@dataclass(frozen=True, kw_only=True)
class ChannelReport(TrainedReport):
    """What one channel's training produced, for the console and the tests. `metrics` are
    the LightGBM model's validation figures (trained before the validation period)."""

    channel: str
    leakage: LeakageReport | None = None
    unused_fields: tuple[str, ...] = ()
    """Fields the spec could read but that hold no value in this data."""
    served: str = MODEL
    """What was registered as `version`: the LightGBM model, or the logistic baseline when
    it ranked significantly better."""
    notes: tuple[str, ...] = ()
    """Warnings a reader of the figures must see (e.g. no creation dates)."""

    @property
    def served_metrics(self) -> dict[str, float]:
        return self.baseline if self.served == BASELINE else self.metrics


def train_lead_scores(
    data_dir: Path,
    tracking: TrackingTarget,
    config: TrainingConfig | None = None,
    channels: Sequence[str] = ("inbound", "outbound"),
    alias: str = "champion",
    progress: Callable[[str], Progress] | None = None,
    say: Callable[[str], None] = lambda _: None,
    *,
    accept_jump: bool = False,
    skipped: list[Skipped] | None = None,
    drift_report: Path | None = None,
) -> list[ChannelReport]:
    """Train each channel's model on `data_dir`, log everything, register, and gate `alias`.

    `progress(channel)` may return a callback that receives boosting progress.
    With `skipped`, a channel without enough data is recorded there and the
    others go on; without it, `NotEnoughDataError` stops the run. `drift_report`
    (any file) is attached to each run as the reason for this training.
    """
    config = config or TrainingConfig()
    labelled = load_labelled(data_dir)
    target = labelled.target(config.target)
    labelled = labelled.for_target(target)
    config = replace(config, target=target, dated=config.dated and labelled.dates_known)
    notes: tuple[str, ...] = ()
    if not config.dated:
        notes = (f"{NO_DATES_WARNING} ({labelled.dates_note})",)
        say(f"WARNING: {notes[0]}")
    leads = labelled.leads
    if labelled.imported:
        say(f"imported data from {labelled.source}; outcome: {target}")
    present = set(leads["channel"].dropna().unique())
    absent = [c for c in channels if c not in present]
    if absent and len(absent) == len(channels) and skipped is None:
        raise NotEnoughDataError(f"no {' or '.join(absent)} leads in {data_dir}")
    for channel in absent:
        say(f"{channel}: no leads in this data; skipped")
        if skipped is not None:
            skipped.append(Skipped(registered_name(channel), f"no {channel} leads in {data_dir}"))
    with use_tracking(tracking) as client:
        policy = GatePolicy(alias=alias, accept_jump=accept_jump)
        registration = Registration(client, policy, say, drift_report)
        reports = []
        for channel in [c for c in channels if c in present]:
            say(f"{channel}: preparing {int((leads['channel'] == channel).sum()):,} leads")
            spec = with_custom_columns(default_spec(channel), labelled.custom)
            data = labelled_channel(leads, labelled.outcomes, channel, target, spec)
            try:
                # The spec may only shrink from here; `data` keeps every column it read.
                spec, unused, leakage = checked_spec(
                    spec, data, config, say, undecided=labelled.undecided(channel)
                )
            except NotEnoughDataError as error:
                if skipped is None:
                    raise
                say(f"{channel}: skipped: {error}")
                skipped.append(Skipped(registered_name(channel), str(error)))
                continue
            with mlflow.start_run(run_name=f"{registered_name(channel)}") as run:
                _log_data_checks(labelled, leakage, unused, config, notes)
                fitted = fit_channel(data, spec, config, progress(channel) if progress else None)
                report = _log_and_register(fitted, config, run.info.run_id, registration)
            reports.append(
                replace(report, leakage=leakage, unused_fields=tuple(unused), notes=notes)
            )
    return reports


def _log_data_checks(
    labelled: LabelledLeads,
    leakage: LeakageReport,
    unused: list[str],
    config: TrainingConfig,
    notes: tuple[str, ...],
) -> None:
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
            "split": "time" if config.dated else "stratified random (no usable dates)",
        }
    )
    mlflow.set_tag("dates", "real" if config.dated else "none: figures optimistic")
    for i, note in enumerate(notes):
        mlflow.set_tag(f"warning_{i}", note[:5000])


def gain_columns(model: LeadScoreModel, columns: Columns, y: np.ndarray) -> tuple[str, ...]:
    """The fields whose removal costs the most validation AUC, largest first, with the cost."""
    fields, grouped, raw = model.field_contributions(columns)
    whole = evaluate(y, 1.0 / (1.0 + np.exp(-raw)))["roc_auc"]
    costs = []
    for j, field in enumerate(fields):
        without = raw - grouped[:, j]
        costs.append((whole - evaluate(y, 1.0 / (1.0 + np.exp(-without)))["roc_auc"], field))
    costs.sort(reverse=True)
    return tuple(f"{field} ({-cost:+.3f} AUC without it)" for cost, field in costs[:4] if cost > 0)


def _log_and_register(
    fitted: FittedChannel, config: TrainingConfig, run_id: str, registration: Registration
) -> ChannelReport:
    say = registration.say
    data, split = fitted.data, fitted.split
    name = registered_name(data.channel)
    validation = take(data.columns, split.validation)
    y_val = data.y[split.validation]
    evaluated = fitted.evaluated
    p_model = evaluated.score(validation).probability
    p_base = fitted.evaluated_baseline.predict_proba(evaluated.spec.transform(validation))[:, 1]
    judged = judge(y_val, p_model, p_base, seed=config.seed)
    served, candidate, serve = _choose(judged, fitted, config, say)
    rows = {"train": len(split.earlier), "validation": len(split.validation), "refit": len(data.y)}
    _log_run(fitted, config, judged, rows, y_val, p_model, p_base, served, serve)
    say(f"{data.channel}: logging and registering {name}")
    # The rows the production model learnt from: what its drift is measured against.
    reference = with_reference(serve, data.columns, data.leads["created_at"])
    mlflow.log_dict(reference, "drift_reference.json")
    info = log_lead_model(serve, data.leads.iloc[split.validation], registered_model_name=name)
    version = str(info.registered_model_version)
    validation_leads = data.leads.iloc[split.validation]
    window = DataWindow.of(data.leads["created_at"]) if config.dated else DataWindow(len(data.y))
    gate, lineage = register_and_gate(
        registration.client,
        name,
        version,
        judged.evidence(served),
        y_val,
        candidate,
        _champion_scorer(validation_leads),
        registration.policy,
        created_at=validation_leads["created_at"].to_numpy() if config.dated else None,
        gain_columns=lambda: gain_columns(
            evaluated if served == MODEL else _evaluated_baseline(fitted, config),
            validation,
            y_val,
        ),
        tags=_version_tags(data, config, served),
        seed=config.seed,
        data=window,
        drift_report=registration.drift_report,
    )
    return ChannelReport(
        channel=data.channel,
        model_name=name,
        version=version,
        run_id=run_id,
        metrics=judged.metrics,
        baseline=judged.baseline,
        roc_auc_interval=judged.roc_auc_interval,
        gate=gate,
        rows=rows,
        intervals=judged.intervals,
        served=served,
        lineage=lineage,
    )


def _choose(
    judged: Judged, fitted: FittedChannel, config: TrainingConfig, say: Callable[[str], None]
) -> tuple[str, np.ndarray, LeadScoreModel]:
    """LightGBM, unless the logistic baseline ranks significantly better on the same rows:
    then the baseline is the candidate (refit on all rows like the model)."""
    data = fitted.data
    validation = take(data.columns, fitted.split.validation)
    if not judged.baseline_significantly_better:
        return MODEL, fitted.evaluated.score(validation).probability, fitted.model
    low, high = judged.intervals.roc_auc_difference or (0.0, 0.0)
    say(
        f"{data.channel}: the logistic baseline ranks significantly better than LightGBM "
        f"(AUC {judged.baseline['roc_auc']:.3f} vs {judged.metrics['roc_auc']:.3f}, gain "
        f"95% CI {low:+.3f} to {high:+.3f}): the baseline is the candidate"
    )
    evaluated = _evaluated_baseline(fitted, config)
    serve = baseline_model(
        fitted.baseline, fitted.model.spec, data.columns, data.channel, config.target
    )
    return BASELINE, evaluated.score(validation).probability, serve


def _evaluated_baseline(fitted: FittedChannel, config: TrainingConfig) -> LeadScoreModel:
    earlier = take(fitted.data.columns, fitted.split.earlier)
    channel = fitted.data.channel
    return baseline_model(
        fitted.evaluated_baseline, fitted.evaluated.spec, earlier, channel, config.target
    )


def _champion_scorer(validation_leads: pd.DataFrame) -> Callable[[str], np.ndarray]:
    def champion_probability(uri: str) -> np.ndarray:
        champion = load_lead_model(uri)
        missing = [
            f
            for f in champion.spec.input_fields
            if f not in validation_leads.columns or validation_leads[f].isna().all()
        ]
        if missing:
            raise MissingInputsError(missing)
        columns = from_frame(validation_leads, champion.spec.input_fields)
        return champion.score(columns).probability

    return champion_probability


def _version_tags(data: ChannelData, config: TrainingConfig, served: str) -> dict[str, str]:
    tags = {
        "algorithm": "lightgbm" if served == MODEL else "logistic regression",
        "dates": "real" if config.dated else "none: figures optimistic",
    }
    if config.dated:
        newest = pd.to_datetime(data.leads["created_at"]).max()
        tags[TRAINED_THROUGH_TAG] = pd.Timestamp(newest).isoformat()
    return tags


def _log_run(
    fitted: FittedChannel,
    config: TrainingConfig,
    judged: Judged,
    rows: dict[str, int],
    y_val: np.ndarray,
    p_model: np.ndarray,
    p_base: np.ndarray,
    served: str,
    serve: LeadScoreModel,
) -> None:
    mlflow.set_tags({"channel": fitted.data.channel, "target": config.target, "served": served})
    mlflow.log_params(
        {
            "channel": fitted.data.channel,
            "target": config.target,
            "validation_start": str(fitted.split.validation_start),
            "best_iteration": fitted.best_iteration,
            "features": len(serve.spec.features),
            **{f"rows_{part}": count for part, count in rows.items()},
            **{f"lgbm_{key}": value for key, value in config.lgbm_params.items()},
            **{f"fit_{key}": str(value)[:250] for key, value in fitted.settings.items()},
            "baseline": "logistic_regression",
            "served": "lightgbm" if served == MODEL else "logistic regression (the baseline)",
        }
    )
    mlflow.log_dict(
        {
            "algorithm": "lightgbm" if served == MODEL else "logistic regression",
            "dates": "real" if config.dated else "none: validated on a random split, optimistic",
            "fit": {key: str(value) for key, value in fitted.settings.items()},
            "features": [f.__dict__ | {"kind": f.kind.value} for f in serve.spec.features],
            "vocabularies": {k: list(v) for k, v in serve.spec.vocabularies.items()},
            "grade_thresholds": dict(serve.scale.grade_thresholds),
            "calibration": serve.calibration.__dict__,
        },
        "model_card.json",
    )
    log_validation(
        judged.metrics,
        judged.baseline,
        judged.roc_auc_interval,
        y_val,
        {MODEL: p_model, BASELINE: p_base},
        serve.spec.names,
        serve.booster.feature_importance(importance_type="gain"),
    )
    log_judged(judged)
