"""`leadscore generate`, `import` and `export`: CRM histories in, training folders out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from data.generator.crm_export import PLANTS, write_crm_export
from data.generator.crm_records import write_crm_records
from data.generator.generator_config import GeneratorConfig
from data.importing.account_import import import_accounts
from data.importing.deal_import import import_deals
from data.importing.import_report import report_table
from data.importing.importer import NothingImportedError, import_export
from data.importing.mapping import load_mapping
from data.importing.record_import import WRITES
from data.importing.record_mapping import load_record_mapping, table_of
from data.importing.user_import import import_users
from data.labels import MATURITY_DAYS
from data.store.export import StoreNotReadyError, export_store, redacted
from leadscore.console import make_console
from leadscore.jobs.generation_job import generate_history
from leadscore.settings import get_settings

MIN_LEADS = 100


class ExportOption(StrEnum):
    salesforce = "salesforce"
    hubspot = "hubspot"


class AssignmentOption(StrEnum):
    historical = "historical"
    territory = "territory"


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
    plants = _plants(plant, export)
    console = make_console()
    config = GeneratorConfig(
        leads=leads, seed=seed, drift=drift, rep_effects=rep_effects, assignment=assignment.value
    )
    generate_history(console, folder, config)
    for style in export or []:
        written = write_crm_export(
            folder, folder / f"export-{style.value}.csv", style.value, plants, seed
        )
        console.print(f"wrote {written.csv} and its mapping {written.mapping}")
        records = write_crm_records(folder, folder, style.value, seed)
        for table, csv in records.csv.items():
            console.print(f"wrote {csv} ({table}) and its mapping {records.mapping[table]}")


def _plants(plant: str, export: list[ExportOption] | None) -> set[str]:
    """The problems `--plant` names; refused when unknown or without an export to plant in."""
    plants = {p.strip() for p in plant.split(",") if p.strip()}
    if unknown := plants - PLANTS:
        raise typer.BadParameter(
            f"unknown {', '.join(sorted(unknown))}; choose from {', '.join(sorted(PLANTS))}",
            param_hint="--plant",
        )
    if plants and not export:
        raise typer.BadParameter("plants go into an export: add --export", param_hint="--plant")
    return plants


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
    export_store_into(console, database_url or get_settings().database, out, decided_after_days)


def export_store_into(console: Console, url: str, out: Path, decided_after_days: int) -> Path:
    """Export the store into `out` and say what went in; a store the export cannot
    read stops the command (exit 1) with what to do."""
    try:
        exported = export_store(url, out, decided_after_days)
    except (StoreNotReadyError, OSError, SQLAlchemyError) as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from error
    console.print(f"exported {redacted(url)} into {out}: {exported.summary()}", soft_wrap=True)
    return out
