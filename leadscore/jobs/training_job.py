"""`leadscore train` and `retrain`: the models asked for, trained, gated and registered,
with their tables printed.

The CLI and `make demo` call the same functions, so the demo shows exactly what the
commands do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from data.importing.fit_tables import is_fit_import
from data.tables import MissingTableError, table_path
from leadscore.console_tables import (
    leakage_table,
    policy_table,
    rep_fit_table,
    rep_verdict_notes,
    routing_estimate_table,
    training_table,
    verdict_notes,
)
from leadscore.settings import Settings
from models.packaging import registered_name
from models.rep_packaging import rep_registered_name
from training.pipeline import ChannelReport, train_lead_scores
from training.rep_pipeline import RepReport, train_rep_fits
from training.reports import Skipped
from training.role_fit import rep_training_config
from training.tracking import TrackingTarget
from training.training_config import NotEnoughDataError, TrainingConfig


def tracking_target(settings: Settings) -> TrackingTarget:
    return TrackingTarget(
        uri=settings.tracking_uri,
        experiment=settings.experiment,
        artifact_location=settings.artifact_location,
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
    _print(console, training_table(reports, alias), *verdict_notes(reports))
    _print(console, leakage_table(reports))
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
    _print(console, rep_fit_table(reports, alias), *rep_verdict_notes(reports))
    for report in reports:
        estimate, evaluation = report.routing_estimate, report.policy_evaluation
        _print(
            console,
            None if estimate is None else routing_estimate_table(estimate),
            None if evaluation is None else policy_table(evaluation),
        )
    console.print(f"Trained in {time.perf_counter() - started:.1f} s.")
    return reports


def _print(console: Console, *parts: RenderableType | None) -> None:
    """Print each table or line in turn; None stands for one with nothing to show."""
    for part in parts:
        if part is not None:
            console.print(part)


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
                console,
                settings,
                folder,
                request.config,
                channels=channels,
                alias=request.alias,
                accept_jump=request.accept_jump,
                skipped=outcome.skipped,
                drift_report=request.drift_report,
            )
        except Exception as error:
            outcome.failed += _failed_group([registered_name(c) for c in channels], outcome, error)
    if request.fit_roles:
        try:
            outcome.fit_reports = train_fit_models(
                console,
                settings,
                folder,
                request.fit_roles,
                alias=request.alias,
                skipped=outcome.skipped,
                min_outcomes=request.config.min_positives,
                drift_report=request.drift_report,
            )
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
