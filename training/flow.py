"""The one train -> evaluate -> gate -> register flow every model goes through.

The lead-score and rep-fit pipelines differ in what they fit and how they
log it; what they share lives here: judging the model and its baseline on
the same validation rows with paired intervals, choosing what to serve,
comparing with the champion on the same rows and inputs, and recording the
decision on the run and on the registered version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from training.evaluation_metrics import Intervals, bootstrap_intervals, evaluate
from training.gate import (
    GATE_METRIC,
    JUMP_AUC,
    JUMP_GAIN,
    BaselineRule,
    ChampionComparison,
    ChampionScorer,
    Evidence,
    GateDecision,
    apply_gate,
    compare_with_champion,
    current_holder,
)
from training.run_logging import log_gate

MODEL, BASELINE = "lightgbm", "baseline"


@dataclass(frozen=True)
class Judged:
    """A model and its baseline on the same validation rows, with paired intervals."""

    metrics: dict[str, float]
    baseline: dict[str, float]
    intervals: Intervals

    @property
    def roc_auc_interval(self) -> tuple[float, float]:
        return self.intervals.by_model[MODEL][GATE_METRIC]

    @property
    def baseline_significantly_better(self) -> bool:
        gain = self.intervals.roc_auc_difference
        return gain is not None and gain[1] < 0

    def evidence(self, served: str, gain_columns: tuple[str, ...] = ()) -> Evidence:
        """What the gate judges for `served` (the model, or the baseline standing in)."""
        if served == BASELINE:
            figure = self.baseline[GATE_METRIC]
            return Evidence(
                figure, self.intervals.by_model[BASELINE][GATE_METRIC], gain_columns=gain_columns
            )
        return Evidence(
            self.metrics[GATE_METRIC],
            self.roc_auc_interval,
            baseline=self.baseline[GATE_METRIC],
            baseline_gain=self.intervals.roc_auc_difference,
            gain_columns=gain_columns,
        )


def judge(y: np.ndarray, model: np.ndarray, baseline: np.ndarray, seed: int = 0) -> Judged:
    """Metrics of both, and bootstrap intervals on the same resamples."""
    intervals = bootstrap_intervals(y, {MODEL: model, BASELINE: baseline}, seed=seed)
    return Judged(evaluate(y, model), evaluate(y, baseline), intervals)


def log_judged(judged: Judged) -> None:
    """Every interval on the run: val_*_ci_low/high, baseline_val_*_ci_*, the AUC gain."""
    for model, metrics in judged.intervals.by_model.items():
        prefix = "val" if model == MODEL else "baseline_val"
        for metric, (low, high) in metrics.items():
            mlflow.log_metrics(
                {f"{prefix}_{metric}_ci_low": low, f"{prefix}_{metric}_ci_high": high}
            )
    if judged.intervals.roc_auc_difference is not None:
        low, high = judged.intervals.roc_auc_difference
        mlflow.log_metrics({"val_roc_auc_gain_ci_low": low, "val_roc_auc_gain_ci_high": high})


@dataclass(frozen=True)
class GatePolicy:
    alias: str = "champion"
    baseline_rule: BaselineRule = "not_worse"
    accept_jump: bool = False


@dataclass(frozen=True)
class Registration:
    """Where a pipeline registers what it trains, how the gate judges it, and who is told."""

    client: Any
    policy: GatePolicy
    say: Callable[[str], None]
    drift_report: Path | None = None
    """Attached to each run as the reason for this training."""


def might_jump(value: float, champion: ChampionComparison | None) -> bool:
    """Whether the gate's jump rule could fire: only then are the gain's columns needed."""
    if value > JUMP_AUC:
        return True
    return bool(champion and champion.value is not None and value - champion.value > JUMP_GAIN)


@dataclass(frozen=True)
class DataWindow:
    """The rows a served model was fitted on, and when the first and last were created."""

    rows: int
    first_created: str | None = None
    last_created: str | None = None
    """ISO times; None when the data has no usable creation dates."""

    @classmethod
    def of(cls, created: Any) -> DataWindow:
        times = pd.to_datetime(pd.Series(created), errors="coerce").dropna()
        if times.empty:
            return cls(len(created))
        first, last = times.min(), times.max()
        return cls(len(created), first.isoformat(), last.isoformat())


@dataclass(frozen=True)
class Lineage:
    """Why the version exists and what it replaced, as tagged on its run and version."""

    parent_champion_version: str | None
    """The version holding the alias when training began (None: there was none)."""
    champion_after: str | None
    data: DataWindow | None = None
    promoted_at: str | None = None
    """UTC ISO time the alias moved to this version (None: it did not)."""
    drift_report: str | None = None
    """The drift report's artifact path on the run, when one was given."""


DRIFT_ARTIFACTS = "drift"


def register_and_gate(
    client: Any,
    name: str,
    version: str,
    evidence: Evidence,
    y: np.ndarray,
    candidate: np.ndarray,
    champion_scorer: ChampionScorer,
    policy: GatePolicy,
    *,
    created_at: np.ndarray | None = None,
    gain_columns: Callable[[], tuple[str, ...]] | None = None,
    tags: Mapping[str, str] | None = None,
    seed: int = 0,
    data: DataWindow | None = None,
    drift_report: Path | None = None,
) -> tuple[GateDecision, Lineage]:
    """Compare registered `version` with the champion on the same rows, apply the gate,
    tag the version and log the decision and the lineage on the active run."""
    for key, value in (tags or {}).items():
        client.set_model_version_tag(name, version, key, value)
    parent = current_holder(client, name, policy.alias)
    champion = compare_with_champion(
        client, name, policy.alias, champion_scorer, y, candidate, created_at, seed
    )
    if gain_columns is not None and might_jump(evidence.candidate, champion):
        evidence = replace(evidence, gain_columns=gain_columns())
    gate = apply_gate(
        client,
        name,
        policy.alias,
        version,
        evidence,
        champion,
        baseline_rule=policy.baseline_rule,
        accept_jump=policy.accept_jump,
    )
    log_gate(gate)
    if champion is not None and champion.gain is not None:
        mlflow.log_metrics(
            {"champion_gain_ci_low": champion.gain[0], "champion_gain_ci_high": champion.gain[1]}
        )
    lineage = Lineage(
        parent_champion_version=parent,
        champion_after=version if gate.promote else parent,
        data=data,
        promoted_at=datetime.now(UTC).isoformat(timespec="seconds") if gate.promote else None,
        drift_report=_log_drift_report(drift_report),
    )
    record_lineage(client, name, version, lineage, gate)
    return gate, lineage


def _log_drift_report(path: Path | None) -> str | None:
    """Attach the drift report that preceded this training to the run; its artifact path."""
    if path is None:
        return None
    mlflow.log_artifact(str(path), DRIFT_ARTIFACTS)
    return f"{DRIFT_ARTIFACTS}/{path.name}"


def lineage_tags(lineage: Lineage, gate: GateDecision) -> dict[str, str]:
    """The tags that say where a version came from, for its run and the version itself."""
    tags = {
        "parent_champion_version": lineage.parent_champion_version or "none",
        "gate_decision": "promoted" if gate.promote else "kept champion",
    }
    if lineage.data is not None:
        tags["data_rows"] = str(lineage.data.rows)
        if lineage.data.first_created and lineage.data.last_created:
            tags["data_first_created"] = lineage.data.first_created
            tags["data_last_created"] = lineage.data.last_created
    if lineage.drift_report is not None:
        tags["drift_report"] = lineage.drift_report
    return tags


def record_lineage(
    client: Any, name: str, version: str, lineage: Lineage, gate: GateDecision
) -> None:
    """Tag the active run and the version; a promoted version also says when it took the
    alias and which version it replaced."""
    tags = lineage_tags(lineage, gate)
    mlflow.set_tags(tags)
    if lineage.promoted_at is not None:
        tags["promoted_at"] = lineage.promoted_at
        tags["replaced_version"] = lineage.parent_champion_version or "none"
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
