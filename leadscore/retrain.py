"""The machine-readable summary of a retraining, for cron or any scheduler.

One entry per model asked for: promoted, kept champion, skipped or failed,
with the gate's reason and checks, the validation AUC and its interval, the
data window and the run; the scheduler reads `exit_code` or the process's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from leadscore.jobs.training_job import TrainingOutcome, TrainingRequest
from training.pipeline import ChannelReport
from training.rep_pipeline import RepReport
from training.reports import Skipped

SummaryStatus = Literal["promoted", "kept champion", "skipped", "failed"]


class DataWindowSummary(BaseModel):
    rows: int = Field(description="Rows the registered model was fitted on.")
    first_created: str | None = Field(description="Creation time of the oldest row (ISO).")
    last_created: str | None = Field(description="Creation time of the newest row (ISO).")


class ModelSummary(BaseModel):
    model: str = Field(description="Registered name, e.g. lead-score-inbound.")
    status: SummaryStatus
    reason: str = Field(description="The gate's reason, or why it was skipped or failed.")
    checks: list[str] = Field(default_factory=list, description="Every gate rule, in order.")
    new_version: str | None = Field(default=None, description="The version this run registered.")
    champion_before: str | None = Field(
        default=None, description="Version holding the alias before."
    )
    champion_after: str | None = Field(default=None, description="Version holding it after.")
    validation_roc_auc: float | None = None
    validation_roc_auc_ci: tuple[float, float] | None = Field(
        default=None, description="95% bootstrap interval of the validation ROC AUC."
    )
    data: DataWindowSummary | None = None
    run_id: str | None = None


class RetrainSummary(BaseModel):
    started_at: str
    finished_at: str
    data: str = Field(description="The training folder.")
    alias: str
    drift_report: str | None = None
    exit_code: int = Field(description="0: every model trained or skipped; 1: a failure.")
    models: list[ModelSummary]


def _trained(report: ChannelReport | RepReport) -> ModelSummary:
    gate, lineage = report.gate, report.lineage
    window = lineage.data if lineage is not None else None
    metrics = report.served_metrics if isinstance(report, ChannelReport) else report.metrics
    interval = (
        report.intervals.by_model["baseline"]["roc_auc"]
        if isinstance(report, ChannelReport) and report.served == "baseline" and report.intervals
        else report.roc_auc_interval
    )
    return ModelSummary(
        model=report.model_name,
        status="promoted" if gate.promote else "kept champion",
        reason=gate.reason,
        checks=list(gate.checks),
        new_version=report.version,
        champion_before=lineage.parent_champion_version if lineage else None,
        champion_after=lineage.champion_after if lineage else None,
        validation_roc_auc=round(float(metrics["roc_auc"]), 6),
        validation_roc_auc_ci=(round(float(interval[0]), 6), round(float(interval[1]), 6)),
        data=None
        if window is None
        else DataWindowSummary(
            rows=window.rows,
            first_created=window.first_created,
            last_created=window.last_created,
        ),
        run_id=report.run_id,
    )


def _untrained(item: Skipped, champion_of: Callable[[str], str | None]) -> ModelSummary:
    champion = champion_of(item.model_name)
    status: SummaryStatus = "failed" if item.status == "failed" else "skipped"
    return ModelSummary(
        model=item.model_name,
        status=status,
        reason=item.reason,
        champion_before=champion,
        champion_after=champion,
    )


def retrain_summary(
    request: TrainingRequest,
    outcome: TrainingOutcome,
    started_at: datetime,
    finished_at: datetime,
    champion_of: Callable[[str], str | None],
) -> RetrainSummary:
    """The summary of one retraining; `champion_of(name)` says which version holds the
    alias now, for the models that were not trained (their champion did not move)."""
    trained: list[ChannelReport | RepReport] = [*outcome.lead_reports, *outcome.fit_reports]
    return RetrainSummary(
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=finished_at.isoformat(timespec="seconds"),
        data=str(request.folder),
        alias=request.alias,
        drift_report=str(request.drift_report) if request.drift_report else None,
        exit_code=outcome.exit_code,
        models=[_trained(r) for r in trained]
        + [_untrained(s, champion_of) for s in [*outcome.skipped, *outcome.failed]],
    )


def write_summary(summary: RetrainSummary, target: str, echo: Callable[[str], Any]) -> None:
    """Write the JSON to `target`, a file path, or to standard output for '-'."""
    text = json.dumps(summary.model_dump(mode="json"), indent=2)
    if target == "-":
        echo(text)
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
