"""`leadscore train`, `retrain` and `report`: models in, and what the store says of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from data.labels import MATURITY_DAYS
from leadscore.cli.training_options import (
    Channels,
    Models,
    ModelsOption,
    RetrainAlias,
    RetrainData,
    RetrainDatabaseUrl,
    RetrainDecidedAfterDays,
    RetrainDriftReport,
    RetrainFromStore,
    RetrainMinOutcomes,
    RetrainTimeFeatures,
    Seed,
    Target,
    TargetOption,
    TrainAlias,
    TrainData,
    TrainDatabaseUrl,
    TrainDecidedAfterDays,
    TrainDriftReport,
    TrainFromStore,
    TrainMinOutcomes,
    TrainTimeFeatures,
    store_or_folder,
    training_request,
)
from leadscore.console import make_console
from leadscore.console_tables import outcome_table
from leadscore.jobs.training_job import champion_lookup, train_requested
from leadscore.retrain import retrain_summary, write_summary
from leadscore.settings import get_settings
from training.training_config import TrainingConfig


def train(
    data: TrainData = None,
    channel: Channels = None,
    target: Target = TargetOption.won,
    alias: TrainAlias = "champion",
    seed: Seed = 7,
    models: Models = ModelsOption.all,
    min_outcomes: TrainMinOutcomes = TrainingConfig.min_positives,
    leakage_auc: Annotated[
        float,
        typer.Option(
            min=0.5,
            max=1.0,
            help="Leakage guard: drop a column that alone predicts the outcome with this "
            "ROC AUC or more.",
        ),
    ] = TrainingConfig.leakage_auc,
    keep_column: Annotated[
        list[str] | None,
        typer.Option(
            help="Keep this column whatever the leakage guard says (repeatable); "
            "only for columns known before first contact.",
        ),
    ] = None,
    accept_jump: Annotated[
        bool,
        typer.Option(
            help="Let the gate promote a model whose validation AUC is above 0.95 or more "
            "than 0.05 over the champion's (suspicious of leakage) once you have checked "
            "the columns it names.",
        ),
    ] = False,
    time_features: TrainTimeFeatures = True,
    drift_report: TrainDriftReport = None,
    from_store: TrainFromStore = False,
    database_url: TrainDatabaseUrl = None,
    decided_after_days: TrainDecidedAfterDays = MATURITY_DAYS,
) -> None:
    """Train, evaluate and register the models in MLflow: lead-score-inbound,
    lead-score-outbound, closer-fit and account-manager-fit.

    Each model asked for is reported as trained, skipped (not enough data or no
    table for it, with the reason) or failed; the exit code is 1 only on failures."""
    config = TrainingConfig(
        target=target.value,
        seed=seed,
        min_positives=min_outcomes,
        leakage_auc=leakage_auc,
        keep_columns=tuple(keep_column or ()),
        time_features=time_features,
    )
    console = make_console()
    data = store_or_folder(console, data, from_store, database_url, decided_after_days)
    request = training_request(
        data, models, channel, config, alias, accept_jump=accept_jump, drift_report=drift_report
    )
    outcome = train_requested(console, get_settings(), request)
    console.print(outcome_table(outcome.trained, outcome.skipped, outcome.failed))
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


def retrain(
    data: RetrainData = None,
    models: Models = ModelsOption.all,
    target: Target = TargetOption.won,
    alias: RetrainAlias = "champion",
    seed: Seed = 7,
    min_outcomes: RetrainMinOutcomes = TrainingConfig.min_positives,
    drift_report: RetrainDriftReport = None,
    time_features: RetrainTimeFeatures = True,
    from_store: RetrainFromStore = False,
    database_url: RetrainDatabaseUrl = None,
    decided_after_days: RetrainDecidedAfterDays = MATURITY_DAYS,
    json_out: Annotated[
        str | None,
        typer.Option(
            "--json",
            help="Write the summary (JSON) to this file, or '-' for standard output (the "
            "tables then go to standard error).",
        ),
    ] = None,
) -> None:
    """Retrain as a scheduled job: train, evaluate on the newest period, gate against the
    champion on the same rows, register, move the alias, and summarise in JSON.

    Exit code 0 when every model asked for was trained (promoted or kept champion) or
    skipped for lack of data; 1 when one failed. Serving processes pick up a new champion
    by themselves (LEADSCORE_API__MODEL_POLL_SECONDS)."""
    console = make_console(stderr=json_out == "-")
    settings = get_settings()
    config = TrainingConfig(
        target=target.value, seed=seed, min_positives=min_outcomes, time_features=time_features
    )
    data = store_or_folder(console, data, from_store, database_url, decided_after_days)
    request = training_request(data, models, None, config, alias, drift_report=drift_report)
    started = datetime.now(UTC)
    outcome = train_requested(console, settings, request)
    console.print(outcome_table(outcome.trained, outcome.skipped, outcome.failed))
    summary = retrain_summary(
        request, outcome, started, datetime.now(UTC), champion_lookup(settings, alias)
    )
    for item in summary.models:
        console.print(f"{item.model}: {item.status}; {item.reason}", soft_wrap=True)
    if json_out is not None:
        write_summary(summary, json_out, typer.echo)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


def report(
    data: Annotated[
        Path | None,
        typer.Option(
            help="A SQLite store, or a folder holding one: the demo's (demo.db) or the served "
            "one (leadscore.db), e.g. .leadscore after `make demo`. Default: the configured "
            "store (LEADSCORE_DATABASE_URL, else leadscore.db in LEADSCORE_HOME)."
        ),
    ] = None,
    start: Annotated[
        datetime | None, typer.Option(help="Leads created from (UTC); default: END - DAYS.")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option(help="Leads created before (UTC); default now.")
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="Length of the default period.")] = 90,
    horizon_days: Annotated[
        int,
        typer.Option(
            min=1, help="Backtest: days a lead has to convert; scores one horizon earlier."
        ),
    ] = 90,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report's data as JSON instead of tables.")
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option(
            help="Also write a self-contained HTML report with charts (opens with no server)."
        ),
    ] = None,
) -> None:
    """Print the funnel (by channel and by role), speed-to-lead, workload and the score
    backtest of the operational store."""
    from leadscore.store_report.console_report import ReportError, print_report, report_data

    console = make_console()
    settings = get_settings()
    try:
        gathered = report_data(settings, data, start, end, days, horizon_days)
    except ReportError as error:
        console.print(f"[red]error:[/red] {error}", soft_wrap=True)
        raise typer.Exit(1) from error
    if as_json:
        typer.echo(json.dumps(gathered, indent=2))
    else:
        print_report(console, gathered)
    if html is not None:
        from leadscore.store_report.report_html import registry_models, write_html_report

        try:
            written = write_html_report(
                gathered, registry_models(settings.tracking_uri), html, "leadscore report"
            )
        except OSError as error:
            console.print(f"[red]error:[/red] {html}: {error.strerror}", soft_wrap=True)
            raise typer.Exit(1) from error
        console.print(f"wrote {written}")
