"""The `leadscore` command line: one sub-command per job.

Commands only translate options into calls on the packages and print what
came back; the work itself lives in `data`, `training` and `serving`, where
tests call it as plain functions.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from data.generator import GeneratorConfig, write_history
from data.summary import HistorySummary, summarize_history
from leadscore.settings import get_settings

MIN_LEADS = 100

app = typer.Typer(
    no_args_is_help=True,
    help="Open ML lead scoring and assignment: inbound and outbound lead scores, "
    "closer and account-manager fit.",
)


@app.callback()
def main() -> None:
    """Keep `generate` a named sub-command, so later commands can join it."""


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
) -> None:
    """Write a synthetic two-year CRM history to train and test on.

    OUT gets the four contract tables; OUT/truth gets the hidden true
    probabilities and rep skills, for evaluations only (training never reads it).
    """
    folder = out if out is not None else get_settings().home / "data"
    console = Console()
    started = time.perf_counter()
    with console.status(f"Generating {leads:,} leads into {folder} ..."):
        write_history(GeneratorConfig(leads=leads, seed=seed), folder)
        summary = summarize_history(folder)
    elapsed = time.perf_counter() - started
    console.print(_summary_table(summary, folder))
    console.print(f"Done in {elapsed:.1f} s; hidden truth in {folder / 'truth'}")


def _summary_table(summary: HistorySummary, folder: Path) -> Table:
    table = Table(title=f"CRM history in {folder}", title_justify="left")
    table.add_column("")
    table.add_column("count", justify="right")
    for name, count in summary.rows.items():
        table.add_row(f"{name} rows", f"{count:,}")
    for channel, count in summary.leads_by_channel.items():
        table.add_row(f"{channel} leads", f"{count:,}")
    table.add_row("won rate (closed opportunities)", f"{summary.win_rate:.1%}")
    table.add_row("won rate (all leads)", f"{summary.lead_win_rate:.1%}")
    return table
