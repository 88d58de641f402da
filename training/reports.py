"""What a training run reports: each trained model's figures and gate decision, and each
model asked for that was not trained."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from training.evaluation_metrics import Intervals
from training.flow import Lineage
from training.gate import GateDecision

Status = Literal["trained", "skipped", "failed"]


@dataclass(frozen=True)
class Skipped:
    """A model that was asked for and not trained, and why."""

    model_name: str
    reason: str
    status: Status = "skipped"


@dataclass(frozen=True, kw_only=True)
class TrainedReport:
    """What one model's training produced, whatever the model: the registered version,
    its validation figures beside its baseline's, and the gate's decision."""

    model_name: str
    version: str
    run_id: str
    metrics: dict[str, float]
    baseline: dict[str, float]
    roc_auc_interval: tuple[float, float]
    gate: GateDecision
    rows: dict[str, int]
    intervals: Intervals | None = None
    lineage: Lineage | None = None
