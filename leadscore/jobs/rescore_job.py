"""`leadscore rescore`: a whole lead base scored by the batch job, with a progress bar."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from leadscore.console_tables import rescore_table
from leadscore.settings import Settings
from serving.batch.job import Engine, RescoreOptions, RouteSource, load_route_source, rescore
from serving.batch.summary import RescoreSummary


class RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "- rows/s", style="progress.data.speed")


class RowProgress:
    """The job's progress hook, drawn as a rich bar: rows done, rows/s, time left."""

    def __init__(self, progress: Progress, description: str) -> None:
        self._progress = progress
        self._description = description
        self._task: TaskID | None = None

    def start(self, total: int | None) -> None:
        self._task = self._progress.add_task(self._description, total=total)

    def advance(self, rows: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, rows)


def rescore_leads(console: Console, options: RescoreOptions) -> RescoreSummary:
    """Re-score a lead base with a progress bar, then print the summary; errors propagate."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("leads"),
        RowsPerSecond(),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
    )
    where = "with Spark " + options.spark_master if options.engine is Engine.spark else "locally"
    with Progress(*columns, console=console, transient=True) as progress:
        summary = rescore(options, RowProgress(progress, f"Scoring {where}"))
    console.print(rescore_table(summary))
    console.print(
        f"{summary.rows_read:,} leads in {summary.seconds:.1f} s "
        f"({summary.rows_per_second:,.0f} leads/s): scores in {summary.output}, "
        f"{summary.rows_rejected:,} rejected rows in {summary.rejects}"
    )
    if summary.ignored_columns:
        console.print(
            f"Columns not in the lead table, ignored: {', '.join(summary.ignored_columns)}"
        )
    if lacked := {name: leads for name, leads in summary.lacking.items() if leads}:
        counts = ", ".join(f"{name} {leads:,}" for name, leads in lacked.items())
        console.print(
            f"Leads without custom fields the models read (scored as if unknown; "
            f"see the warnings column): {counts}",
            style="yellow",
        )
    return summary


def route_source(settings: Settings, alias: str) -> RouteSource:
    """closer-fit and the closers `rescore --route` may recommend: the database's roster
    when it has closers, else the model's training roster."""
    from data.store import Store, current_revision

    closers: list[dict[str, object]] = []
    if current_revision(settings.database) is not None:
        with Store(settings.database) as store:
            closers = [r.model_dump() for r in store.list_reps("closer")]
    return load_route_source(settings.tracking_uri, alias, closers or None)
