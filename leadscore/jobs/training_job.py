"""The jobs behind the CLI commands, with their console output.

Each job wires settings to the packages and prints progress and results; the
CLI and `make demo` call the same functions, so the demo shows exactly what
the commands do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

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

from data.generator import GeneratorConfig, write_history
from data.importing.fit_tables import is_fit_import
from data.summary import summarize_history
from data.tables import MissingTableError, read_table, table_path
from leadscore.settings import Settings
from leadscore.console_tables import (
    leakage_table,
    measured_lift_lines,
    model_expectation_line,
    policy_table,
    rep_fit_table,
    rep_verdict_notes,
    rescore_table,
    routing_estimate_table,
    routing_table,
    summary_table,
    training_table,
    verdict_notes,
)
from models.packaging import registered_name
from models.rep_packaging import rep_registered_name
from serving.batch.job import Engine, RescoreOptions, RouteSource, load_route_source, rescore
from serving.batch.summary import RescoreSummary
from training.flow import Skipped
from training.lead_score import NotEnoughDataError, TrainingConfig
from training.pipeline import ChannelReport, train_lead_scores
from training.rep_fit import rep_training_config
from training.rep_pipeline import RepReport, train_rep_fits
from training.tracking import TrackingTarget


def tracking_target(settings: Settings) -> TrackingTarget:
    return TrackingTarget(
        uri=settings.tracking_uri,
        experiment=settings.experiment,
        artifact_location=settings.artifact_location,
    )


def generate_history(console: Console, folder: Path, config: GeneratorConfig) -> None:
    started = time.perf_counter()
    with console.status(f"Generating {config.leads:,} leads into {folder} ..."):
        write_history(config, folder)
        summary = summarize_history(folder)
    console.print(summary_table(summary, folder))
    console.print(
        f"Done in {time.perf_counter() - started:.1f} s; hidden truth in {folder / 'truth'}"
    )


@contextmanager
def _boosting_progress(console: Console) -> Iterator[Progress]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rounds at most (early stopping)"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield progress


def train_models(
    console: Console,
    settings: Settings,
    folder: Path,
    config: TrainingConfig,
    channels: Sequence[str] = ("inbound", "outbound"),
    alias: str = "champion",
    *,
    accept_jump: bool = False,
    skipped: list[Skipped] | None = None,
    drift_report: Path | None = None,
) -> list[ChannelReport]:
    """Train and register; a channel without enough data goes to `skipped` when given;
    errors propagate for the caller to report."""
    started = time.perf_counter()
    with _boosting_progress(console) as progress:

        def on_channel(name: str) -> Callable[[int, int], None]:
            task = progress.add_task(f"{name}: boosting", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            return advance

        reports = train_lead_scores(
            folder,
            tracking_target(settings),
            config,
            channels=channels,
            alias=alias,
            progress=on_channel,
            say=lambda message: console.log(message),
            accept_jump=accept_jump,
            skipped=skipped,
            drift_report=drift_report,
        )
    if not reports:
        return reports
    console.print(training_table(reports, alias))
    for note in verdict_notes(reports):
        console.print(note)
    if (leakage := leakage_table(reports)) is not None:
        console.print(leakage)
    console.print(
        f"Trained in {time.perf_counter() - started:.1f} s. Runs and models: "
        f"mlflow ui --backend-store-uri {settings.tracking_uri}"
    )
    return reports


def train_fit_models(
    console: Console,
    settings: Settings,
    folder: Path,
    roles: Sequence[str] = ("closer", "account_manager"),
    alias: str = "champion",
    *,
    skipped: list[Skipped] | None = None,
    min_outcomes: int | None = None,
    drift_report: Path | None = None,
) -> list[RepReport]:
    """Train and register closer-fit and account-manager-fit; a role without its table or
    enough data goes to `skipped` when given; errors propagate. `min_outcomes` overrides
    the positives and negatives needed in each period."""
    changes = {} if min_outcomes is None else {"min_positives": min_outcomes}
    started = time.perf_counter()
    with console.status("Training the rep-fit models ..."):
        reports = train_rep_fits(
            folder,
            tracking_target(settings),
            rep_training_config(**changes),
            roles=roles,
            alias=alias,
            say=lambda message: console.log(message),
            skipped=skipped,
            drift_report=drift_report,
        )
    if not reports:
        return reports
    console.print(rep_fit_table(reports, alias))
    for note in rep_verdict_notes(reports):
        console.print(note)
    for report in reports:
        if report.routing_estimate is not None:
            console.print(routing_estimate_table(report.routing_estimate))
        if report.policy_evaluation is not None:
            console.print(policy_table(report.policy_evaluation))
    console.print(f"Trained in {time.perf_counter() - started:.1f} s.")
    return reports


@dataclass(frozen=True)
class TrainingRequest:
    """What `leadscore train` and `leadscore retrain` were asked to train, and how."""

    folder: Path
    lead_channels: tuple[str, ...] = ("inbound", "outbound")
    """Empty: no lead-score model asked for."""
    fit_roles: tuple[str, ...] = ("closer", "account_manager")
    """Empty: no rep-fit model asked for."""
    config: TrainingConfig = field(default_factory=TrainingConfig)
    alias: str = "champion"
    accept_jump: bool = False
    drift_report: Path | None = None


@dataclass
class TrainingOutcome:
    """Every model asked for, as trained (with its report), skipped or failed."""

    lead_reports: list[ChannelReport] = field(default_factory=list)
    fit_reports: list[RepReport] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Skipped] = field(default_factory=list)

    @property
    def trained(self) -> list[str]:
        return [r.model_name for r in self.lead_reports] + [r.model_name for r in self.fit_reports]

    @property
    def exit_code(self) -> int:
        """1 only when a model failed; skipped for lack of data is not a failure."""
        return 1 if self.failed else 0


def train_requested(
    console: Console, settings: Settings, request: TrainingRequest
) -> TrainingOutcome:
    """Train every model asked for, each group on its own: a failure of the lead scores
    does not stop the rep fits. Prints the per-group tables; errors end up in `failed`."""
    outcome = TrainingOutcome()
    folder = request.folder
    channels = request.lead_channels
    if channels and is_fit_import(folder) and not table_path(folder, "leads").exists():
        outcome.skipped += [
            Skipped(registered_name(c), f"no leads imported into {folder} (leads.parquet)")
            for c in channels
        ]
        channels = ()
    if channels:
        try:
            outcome.lead_reports = train_models(
                console, settings, folder, request.config,
                channels=channels, alias=request.alias, accept_jump=request.accept_jump,
                skipped=outcome.skipped, drift_report=request.drift_report,
            )  # fmt: skip
        except Exception as error:
            outcome.failed += _failed_group([registered_name(c) for c in channels], outcome, error)
    if request.fit_roles:
        try:
            outcome.fit_reports = train_fit_models(
                console, settings, folder, request.fit_roles, alias=request.alias,
                skipped=outcome.skipped, min_outcomes=request.config.min_positives,
                drift_report=request.drift_report,
            )  # fmt: skip
        except Exception as error:
            outcome.failed += _failed_group(
                [rep_registered_name(r) for r in request.fit_roles], outcome, error
            )
    return outcome


def _failed_group(names: list[str], outcome: TrainingOutcome, error: Exception) -> list[Skipped]:
    """A group's failure, as one entry per model of the group neither trained nor skipped."""
    done = set(outcome.trained) | {s.model_name for s in outcome.skipped}
    return [Skipped(name, error_text(error), "failed") for name in names if name not in done]


def error_text(error: Exception) -> str:
    """The error for the outcome table: expected ones by message, others with their type."""
    if isinstance(error, MissingTableError | NotEnoughDataError | ValueError | OSError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def champion_lookup(settings: Settings, alias: str) -> Callable[[str], str | None]:
    """name -> the version holding `alias` now (None: none, or the registry cannot say)."""
    from mlflow import MlflowClient

    from training.gate import current_holder

    client = MlflowClient(settings.tracking_uri, settings.tracking_uri)
    return lambda name: current_holder(client, name, alias)


def route_file(
    console: Console, settings: Settings, data: Path, out: Path, limit: int | None, alias: str
) -> None:
    """Route the newest leads of a data folder to its closers and write the assignments."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from models.rep_packaging import load_rep_model, rep_registered_name
    from serving.batch_routing import read_leads_to_route, route_batch
    from serving.registry import FIT_FALLBACK, FIT_TRAIN_HINT, missing_reason

    leads = read_leads_to_route(data, limit)
    reps = read_table(data, "reps")
    mlflow.set_tracking_uri(settings.tracking_uri)
    name = rep_registered_name("closer")
    version: str | None = None
    lifts: list[str] = []
    try:
        model = load_rep_model(f"models:/{name}@{alias}")
    except MlflowException:
        model = None
        client = MlflowClient(settings.tracking_uri, settings.tracking_uri)
        why = missing_reason(client, name, alias, FIT_TRAIN_HINT, FIT_FALLBACK)
        console.print(f"[yellow]{why}[/yellow]", soft_wrap=True)
    else:
        version, lifts = _recorded_routing_lifts(name, alias)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("routing", total=len(leads))
        result = route_batch(
            leads,
            reps,
            model,
            settings.serving().policy(),
            progress=lambda done, total: progress.update(task, completed=done),
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    result.assignments.to_parquet(out, index=False)
    console.print(routing_table(result))
    if model is not None:
        console.print(model_expectation_line(result))
    for line in measured_lift_lines(version, lifts):
        console.print(line)
    console.print(f"Assignments of {len(result.assignments):,} leads written to {out}")


def _recorded_routing_lifts(name: str, alias: str) -> tuple[str, list[str]]:
    """The registered version and the DR lifts its training run recorded (sentences)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from training.routing_ope_report import recorded_lifts

    client = MlflowClient()
    version = client.get_model_version_by_alias(name, alias)
    try:
        run = client.get_run(version.run_id) if version.run_id else None
    except MlflowException:  # the run was deleted: the model serves, nothing was measured
        run = None
    if run is None:
        return str(version.version), []
    return str(version.version), recorded_lifts(run.data.params, run.data.metrics)


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
