"""The `leadscore` command line: one sub-command per job.

Commands only translate options into calls on the packages and print what
came back; the work itself lives in `data`, `training` and `serving`, where
tests call it as plain functions.
"""

from __future__ import annotations

import errno
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from data.crm_export import PLANTS, write_crm_export
from data.crm_records import write_crm_records
from data.generator import GeneratorConfig
from data.importing.importer import NothingImportedError, import_export
from data.importing.mapping import load_mapping
from data.importing.record_mapping import load_record_mapping, table_of
from data.importing.records import WRITES, import_accounts, import_deals, import_users
from data.importing.report import report_table
from data.labels import MATURITY_DAYS
from data.store.export import StoreNotReadyError, export_store, redacted
from data.tables import MissingTableError
from leadscore.console import make_console
from leadscore.jobs.training_job import (
    TrainingOutcome,
    TrainingRequest,
    champion_lookup,
    generate_history,
    rescore_leads,
    route_file,
    route_source,
    train_requested,
)
from leadscore.retrain import retrain_summary, write_summary
from leadscore.settings import Settings, get_settings
from leadscore.cli.store_commands import db_app, keys_app
from leadscore.console_tables import outcome_table
from serving.batch.errors import RescoreError
from serving.batch.job import Engine, RescoreOptions
from serving.batch.scoring import REASONS
from training.lead_score import TrainingConfig

MIN_LEADS = 100

app = typer.Typer(
    no_args_is_help=True,
    help="Open ML lead scoring and assignment: inbound and outbound lead scores, "
    "closer and account-manager fit.",
)


@app.callback()
def main() -> None:
    """leadscore: generate, import, train, serve, rescore, demo."""


class ExportOption(StrEnum):
    salesforce = "salesforce"
    hubspot = "hubspot"


class AssignmentOption(StrEnum):
    historical = "historical"
    territory = "territory"


@app.command()
def generate(
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the Parquet tables; default: data/ in LEADSCORE_HOME."),
    ] = None,
    leads: Annotated[
        int, typer.Option(min=MIN_LEADS, help=f"Number of leads, at least {MIN_LEADS}.")
    ] = 50_000,
    seed: Annotated[
        int, typer.Option(help="Random seed; one seed always gives the same data.")
    ] = 7,
    export: Annotated[
        list[ExportOption] | None,
        typer.Option(
            help="Also write the inbound leads as this CRM exports them, OUT/export-STYLE.csv "
            "with its mapping OUT/export-STYLE.yaml, and its deals, accounts and users "
            "(OUT/export-STYLE-TABLE.csv and .yaml) (repeatable)."
        ),
    ] = None,
    plant: Annotated[
        str,
        typer.Option(
            help="Problems to plant in the exports, comma-separated: leaks (fields sales "
            "fills in after contact), no-dates (no creation date), no-ids (no record id)."
        ),
    ] = "",
    drift: Annotated[
        bool,
        typer.Option(
            help="A drifting history: the conversion rate rises about four-fold, one "
            "effect changes sign and new lead sources appear part-way."
        ),
    ] = False,
    rep_effects: Annotated[
        bool,
        typer.Option(
            help="Closers and account managers change outcomes (off: no owner matters, to "
            "check that the fit models claim nothing)."
        ),
    ] = True,
    assignment: Annotated[
        AssignmentOption,
        typer.Option(
            help="How deals and customers found their owners: historical (mostly the lead's "
            "region, sometimes anyone) or territory (only the lead's region)."
        ),
    ] = AssignmentOption.historical,
) -> None:
    """Write a synthetic two-year CRM history to train and test on.

    OUT gets the four contract tables; OUT/truth gets the hidden true
    probabilities and rep skills, for evaluations only (training never reads it).
    """
    folder = out if out is not None else get_settings().data_dir
    plants = {p.strip() for p in plant.split(",") if p.strip()}
    if unknown := plants - PLANTS:
        raise typer.BadParameter(
            f"unknown {', '.join(sorted(unknown))}; choose from {', '.join(sorted(PLANTS))}",
            param_hint="--plant",
        )
    if plants and not export:
        raise typer.BadParameter("plants go into an export: add --export", param_hint="--plant")
    console = make_console()
    config = GeneratorConfig(leads=leads, seed=seed, drift=drift, rep_effects=rep_effects,
                             assignment=assignment.value)  # fmt: skip
    generate_history(console, folder, config)
    for style in export or []:
        written = write_crm_export(
            folder, folder / f"export-{style.value}.csv", style.value, plants, seed
        )
        console.print(f"wrote {written.csv} and its mapping {written.mapping}")
        records = write_crm_records(folder, folder, style.value, seed)
        for table, csv in records.csv.items():
            console.print(f"wrote {csv} ({table}) and its mapping {records.mapping[table]}")


class ChannelOption(StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class ModelsOption(StrEnum):
    all = "all"
    lead_score = "lead-score"
    rep_fit = "rep-fit"
    closer_fit = "closer-fit"
    account_manager_fit = "account-manager-fit"


FIT_ROLES: dict[ModelsOption, tuple[str, ...]] = {
    ModelsOption.all: ("closer", "account_manager"),
    ModelsOption.rep_fit: ("closer", "account_manager"),
    ModelsOption.closer_fit: ("closer",),
    ModelsOption.account_manager_fit: ("account_manager",),
}
"""The rep-fit roles each --models value trains."""


class TargetOption(StrEnum):
    won = "won"
    qualified = "qualified"


@app.command("import")
def import_(
    input: Annotated[Path, typer.Option(help="The CRM export, a CSV file.")],
    mapping: Annotated[
        str,
        typer.Option(
            help="Mapping YAML file, or a preset: salesforce, hubspot (the table's preset, "
            "e.g. salesforce-opportunities for --table deals)."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="Import folder: leads.parquet and outcomes.parquet (leads), "
            "opportunities.parquet (deals), customers.parquet (accounts), reps.parquet (users)."
        ),
    ],
    table: Annotated[
        str,
        typer.Option(
            help="What the export holds: leads, deals (opportunities), accounts (companies) "
            "or users (owners). Import leads, deals, accounts, users in that order: each "
            "links to the ones before."
        ),
    ] = "leads",
    as_of: Annotated[
        datetime | None,
        typer.Option(
            help="Accounts: the date retention is judged at; default the newest deal or "
            "churn date of the exports."
        ),
    ] = None,
) -> None:
    """Import a real CRM export with a field mapping, and print the validation report."""
    console = make_console()
    try:
        if table.strip().lower() == "leads":
            report = import_export(input, load_mapping(mapping), out)
            written = ["leads.parquet", "outcomes.parquet"]
        else:
            kind = table_of(table)
            importer = {"deals": import_deals, "accounts": import_accounts, "users": import_users}
            loaded = load_record_mapping(mapping, kind)
            if kind == "accounts":
                report = import_accounts(input, loaded, out, as_of)
            else:
                report = importer[kind](input, loaded, out)
            written = [f"{WRITES[kind]}.parquet"]
    except (OSError, ValueError) as error:
        if isinstance(error, NothingImportedError):
            console.print(report_table(error.report))
        console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from error
    console.print(report_table(report))
    console.print(f"wrote {' and '.join(str(out / name) for name in written)}")
    if report.warnings:
        console.print(f"[bold yellow]{len(report.warnings)} warning(s) above[/bold yellow]")


@app.command()
def train(
    data: Annotated[
        Path | None,
        typer.Option(
            help="Folder with leads.parquet and opportunities.parquet (generated), or "
            "the tables `leadscore import` wrote (leads, deals, accounts, users); "
            "default: data/ in LEADSCORE_HOME."
        ),
    ] = None,
    channel: Annotated[
        list[ChannelOption] | None,
        typer.Option(help="Train only this channel (repeatable); default: both."),
    ] = None,
    target: Annotated[
        TargetOption, typer.Option(help="What counts as converted: a won deal or qualified.")
    ] = TargetOption.won,
    alias: Annotated[
        str, typer.Option(help="Registry alias to move when the new model is at least as good.")
    ] = "champion",
    seed: Annotated[int, typer.Option(help="Random seed of the boosting.")] = 7,
    models: Annotated[
        ModelsOption,
        typer.Option(
            help="all four, only the lead scores, both fit models (rep-fit), or one of them."
        ),
    ] = ModelsOption.all,
    min_outcomes: Annotated[
        int,
        typer.Option(
            min=1,
            help="Converted and other leads needed in each of the train, calibration and "
            "validation periods; fewer and training refuses.",
        ),
    ] = TrainingConfig.min_positives,
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
    time_features: Annotated[
        bool,
        typer.Option(
            help="Use calendar features of the creation date (only those that can "
            "extrapolate are used anyway); --no-time-features leaves them all out.",
        ),
    ] = True,
    drift_report: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="A drift report (JSON file) that prompted this training: attached to each "
            "run and named in the lineage tags.",
        ),
    ] = None,
    from_store: Annotated[
        bool,
        typer.Option(
            "--from-store",
            help="Train on the operational store: export it (each lead as first scored, "
            "won/lost events, routing decisions) into store-export/ in LEADSCORE_HOME, "
            "then train on that folder.",
        ),
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="With --from-store: the store's SQLAlchemy URL; default "
            "LEADSCORE_DATABASE_URL, else leadscore.db in LEADSCORE_HOME."
        ),
    ] = None,
    decided_after_days: Annotated[
        int,
        typer.Option(
            min=0,
            help="With --from-store: a lead created fewer days than this before the newest "
            "one is left undecided, even when won or lost.",
        ),
    ] = MATURITY_DAYS,
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
    data = _store_or_folder(console, data, from_store, database_url, decided_after_days)
    request = _training_request(
        data, models, channel, config, alias, accept_jump=accept_jump, drift_report=drift_report
    )
    outcome = train_requested(console, get_settings(), request)
    _print_outcome(console, outcome)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


def _store_or_folder(
    console: Console,
    data: Path | None,
    from_store: bool,
    database_url: str | None,
    decided_after_days: int,
) -> Path | None:
    """`--data`, or with `--from-store` the folder the store was just exported into."""
    if not from_store:
        if database_url is not None or decided_after_days != MATURITY_DAYS:
            given = "--database-url" if database_url is not None else "--decided-after-days"
            raise typer.BadParameter("only with --from-store", param_hint=given)
        return data
    if data is not None:
        raise typer.BadParameter(
            "train from a folder (--data) or from the store (--from-store), not both",
            param_hint="--from-store",
        )
    settings = get_settings()
    return _export_store(
        console, database_url or settings.database, store_export_dir(settings), decided_after_days
    )


def _training_folder(data: Path | None) -> Path:
    """Where `train` and `retrain` read their tables: --data, else data/ in LEADSCORE_HOME.
    Another source (e.g. an export of the API's store) resolves to a folder here too."""
    return data if data is not None else get_settings().data_dir


def _training_request(
    data: Path | None,
    models: ModelsOption,
    channel: list[ChannelOption] | None,
    config: TrainingConfig,
    alias: str,
    *,
    accept_jump: bool = False,
    drift_report: Path | None = None,
) -> TrainingRequest:
    """The models `--models` and `--channel` ask for, on the chosen source's folder."""
    lead_scores = models in (ModelsOption.all, ModelsOption.lead_score)
    channels = tuple(c.value for c in channel) if channel else ("inbound", "outbound")
    return TrainingRequest(
        folder=_training_folder(data),
        lead_channels=channels if lead_scores else (),
        fit_roles=() if models is ModelsOption.lead_score else FIT_ROLES[models],
        config=config,
        alias=alias,
        accept_jump=accept_jump,
        drift_report=drift_report,
    )


def _print_outcome(console: Console, outcome: TrainingOutcome) -> None:
    console.print(outcome_table(outcome.trained, outcome.skipped, outcome.failed))


@app.command()
def retrain(
    data: Annotated[
        Path | None,
        typer.Option(
            help="Training folder, as for `train`: generated or imported tables; "
            "default: data/ in LEADSCORE_HOME."
        ),
    ] = None,
    models: Annotated[
        ModelsOption,
        typer.Option(
            help="all four, only the lead scores, both fit models (rep-fit), or one of them."
        ),
    ] = ModelsOption.all,
    target: Annotated[
        TargetOption, typer.Option(help="What counts as converted: a won deal or qualified.")
    ] = TargetOption.won,
    alias: Annotated[
        str, typer.Option(help="Registry alias the gate moves (the one the API serves).")
    ] = "champion",
    seed: Annotated[int, typer.Option(help="Random seed of the boosting.")] = 7,
    min_outcomes: Annotated[
        int,
        typer.Option(
            min=1,
            help="Converted and other leads needed in each period; fewer and the model is "
            "skipped (exit 0).",
        ),
    ] = TrainingConfig.min_positives,
    drift_report: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="The drift report (a JSON file) that prompted this retraining: attached to "
            "each run and named in the lineage tags.",
        ),
    ] = None,
    time_features: Annotated[
        bool,
        typer.Option(
            help="Use calendar features of the creation date; --no-time-features leaves them out."
        ),
    ] = True,
    from_store: Annotated[
        bool,
        typer.Option(
            "--from-store",
            help="Retrain on the operational store (exported into store-export/ in "
            "LEADSCORE_HOME first), as `train --from-store`.",
        ),
    ] = False,
    database_url: Annotated[
        str | None, typer.Option(help="With --from-store: the store's SQLAlchemy URL.")
    ] = None,
    decided_after_days: Annotated[
        int,
        typer.Option(
            min=0,
            help="With --from-store: a lead created fewer days than this before the newest "
            "one is left undecided.",
        ),
    ] = MATURITY_DAYS,
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
    data = _store_or_folder(console, data, from_store, database_url, decided_after_days)
    request = _training_request(data, models, None, config, alias, drift_report=drift_report)
    started = datetime.now(UTC)
    outcome = train_requested(console, settings, request)
    _print_outcome(console, outcome)
    summary = retrain_summary(
        request, outcome, started, datetime.now(UTC), champion_lookup(settings, alias)
    )
    for item in summary.models:
        console.print(f"{item.model}: {item.status}; {item.reason}", soft_wrap=True)
    if json_out is not None:
        write_summary(summary, json_out, typer.echo)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


def store_export_dir(settings: Settings) -> Path:
    """Where `train --from-store` writes the store's export: store-export/ in LEADSCORE_HOME."""
    return settings.home / "store-export"


def _export_store(console: Console, url: str, out: Path, decided_after_days: int) -> Path:
    """Export the store into `out` and say what went in; a store the export cannot
    read stops the command (exit 1) with what to do."""
    try:
        exported = export_store(url, out, decided_after_days)
    except (StoreNotReadyError, OSError, SQLAlchemyError) as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from error
    console.print(f"exported {redacted(url)} into {out}: {exported.summary()}", soft_wrap=True)
    return out


@app.command()
def export(
    out: Annotated[
        Path,
        typer.Option(
            help="Training folder to write (leads, outcomes, opportunities, customers, "
            "reps, decisions .parquet); `train --data OUT` reads it."
        ),
    ],
    database_url: Annotated[
        str | None,
        typer.Option(
            help="The store's SQLAlchemy URL; default LEADSCORE_DATABASE_URL, else "
            "leadscore.db in LEADSCORE_HOME."
        ),
    ] = None,
    decided_after_days: Annotated[
        int,
        typer.Option(
            min=0,
            help="A lead created fewer days than this before the newest one is left "
            "undecided, even when won or lost.",
        ),
    ] = MATURITY_DAYS,
) -> None:
    """Export the operational store as a training folder: each lead as first scored, its
    outcome from the won/lost events, the routing decisions with their propensities."""
    console = make_console()
    _export_store(console, database_url or get_settings().database, out, decided_after_days)


@app.command()
def route(
    data: Annotated[
        Path | None,
        typer.Option(
            help="Folder with leads.parquet and reps.parquet; default: data/ in LEADSCORE_HOME."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Parquet file for the assignments; default DATA/assignments.parquet."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Route only the newest N leads; default all.")
    ] = 1000,
    alias: Annotated[
        str, typer.Option(help="Registry alias of the closer-fit model.")
    ] = "champion",
) -> None:
    """Assign a batch of qualified leads to closers, optimally under capacity."""
    settings = get_settings()
    folder = data if data is not None else settings.data_dir
    console = make_console()
    try:
        route_file(console, settings, folder, out or folder / "assignments.parquet", limit, alias)
    except (MissingTableError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from error


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface; default LEADSCORE_API__HOST.")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port; default LEADSCORE_API__PORT.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the scoring API on the registry's champion models."""
    from serving.server import run

    config = get_settings().serving()
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    run(config.model_copy(update=overrides), workers=workers, log_level=log_level)


@app.command()
def rescore(
    input_path: Annotated[
        Path,
        typer.Option(
            "--input",
            help="Leads to score: a Parquet file, a folder of Parquet or CSV files, or a CSV "
            "file, with the columns of the lead table.",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            help="Where the scores go: Parquet, or CSV if the name ends in .csv. Rejected "
            "rows go beside it (NAME.rejects.parquet)."
        ),
    ],
    engine: Annotated[
        Engine, typer.Option(help="local: stream on this machine; spark: needs leadscore[spark].")
    ] = Engine.local,
    alias: Annotated[str, typer.Option(help="Registry alias of the models to score with.")] = (
        "champion"
    ),
    reasons: Annotated[
        bool,
        typer.Option(
            help=f"Add the top {REASONS} fields up and down per lead, as the API gives them "
            "(JSON text; several times slower)."
        ),
    ] = False,
    threads: Annotated[
        int,
        typer.Option(
            min=1, help="Scoring threads of the local engine, each running LightGBM on one core."
        ),
    ] = 2,
    batch_size: Annotated[
        int, typer.Option(min=1_000, help="Leads per batch; memory grows with it, not the input.")
    ] = 100_000,
    spark_master: Annotated[
        str, typer.Option(help="Spark master: local[N] or a cluster URL (spark://host:7077).")
    ] = "local[2]",
    route: Annotated[
        bool,
        typer.Option(
            "--route",
            help="Add the best eligible closer and its fit (closer-fit model; the roster in "
            "the database, else the model's own). Recommends only: no capacity is reserved.",
        ),
    ] = False,
) -> None:
    """Score a whole lead base with the registered models, each lead by its channel's model.

    Writes lead_id, channel, probability, score, grade, model name and version
    and the scoring time per lead: the numbers POST /v1/leads/score gives.
    """
    settings = get_settings()
    console = make_console()
    try:
        source = route_source(settings, alias) if route else None
    except RescoreError as error:
        console.print(f"[red]error:[/red] {error}", soft_wrap=True)
        raise typer.Exit(1) from error
    options = RescoreOptions(
        route=source,
        input=input_path,
        output=output,
        tracking_uri=settings.tracking_uri,
        engine=engine,
        alias=alias,
        reasons=REASONS if reasons else 0,
        threads=threads,
        batch_size=batch_size,
        spark_master=spark_master,
    )
    try:
        with _terminate_as_interrupt():  # SIGTERM unwinds: the temporary files are removed
            rescore_leads(console, options)
    except RescoreError as error:
        console.print(f"[red]error:[/red] {error}", soft_wrap=True)
        raise typer.Exit(1) from error
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        where = error.filename or output
        message = f"disk full while writing {where}: nothing was written (free some space, "
        console.print(f"[red]error:[/red] {message}or write elsewhere with --output)")
        raise typer.Exit(1) from error
    except KeyboardInterrupt as error:
        console.print("[yellow]stopped: nothing was written[/yellow]")
        raise typer.Exit(130) from error


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM (a scheduler stopping the job) is handled like Ctrl-C,
    so the job unwinds and removes its temporary files instead of dying in place."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command()
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
    from leadscore.store_report.report_data import ReportError, print_report, report_data

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


@app.command()
def demo() -> None:
    """Generate a CRM history, train and register the models, serve them and score fresh leads."""
    from leadscore.demo.walkthrough import run_demo

    run_demo(get_settings(), make_console())


app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
