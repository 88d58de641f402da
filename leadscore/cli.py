"""The `leadscore` command line: one sub-command per job.

Commands only translate options into calls on the packages and print what
came back; the work itself lives in `data`, `training` and `serving`, where
tests call it as plain functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from data.generator import GeneratorConfig, write_history
from data.summary import HistorySummary, summarize_history
from data.tables import MissingTableError
from leadscore.settings import Settings, get_settings
from training.lead_score import NotEnoughDataError, TrainingConfig
from training.pipeline import ChannelReport, train_lead_scores
from training.tracking import TrackingTarget

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
    folder = out if out is not None else get_settings().data_dir
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


class ChannelOption(StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class TargetOption(StrEnum):
    won = "won"
    qualified = "qualified"


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


@app.command()
def train(
    data: Annotated[
        Path | None,
        typer.Option(
            help="Folder with leads.parquet and opportunities.parquet; "
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
) -> None:
    """Train, evaluate and register the inbound and outbound lead-score models in MLflow."""
    settings = get_settings()
    folder = data if data is not None else settings.data_dir
    channels = [c.value for c in channel] if channel else ["inbound", "outbound"]
    console = Console()
    started = time.perf_counter()
    with _boosting_progress(console) as progress:

        def on_channel(name: str) -> Callable[[int, int], None]:
            task = progress.add_task(f"{name}: boosting", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            return advance

        try:
            reports = train_lead_scores(
                folder,
                tracking_target(settings),
                TrainingConfig(target=target.value, seed=seed),
                channels=channels,
                alias=alias,
                progress=on_channel,
                say=lambda message: console.log(message),
            )
        except (MissingTableError, NotEnoughDataError, ValueError) as error:
            console.print(f"[red]error:[/red] {error}")
            raise typer.Exit(1) from error
    console.print(_training_table(reports, alias))
    console.print(
        f"Done in {time.perf_counter() - started:.1f} s. Runs and models: "
        f"mlflow ui --backend-store-uri {settings.tracking_uri}"
    )


def _training_table(reports: list[ChannelReport], alias: str) -> Table:
    table = Table(title="Validation on the newest period (model vs logistic baseline)",
                  title_justify="left")  # fmt: skip
    for column in ("model", "v", "AUC (95% CI)", "base AUC", "PR AUC",
                   "log loss", "ECE", "lift@10%", alias):  # fmt: skip
        table.add_column(column, justify="right" if column != "model" else "left")
    for r in reports:
        m, b = r.metrics, r.baseline
        table.add_row(
            r.model_name.removeprefix("lead-score-"),
            r.version,
            f"{m['roc_auc']:.3f} ({r.roc_auc_interval[0]:.3f}-{r.roc_auc_interval[1]:.3f})",
            f"{b['roc_auc']:.3f}",
            f"{m['pr_auc']:.3f}",
            f"{m['log_loss']:.4f}",
            f"{m['ece']:.4f}",
            f"{m['lift_top_decile']:.2f}",
            "promoted" if r.gate.promote else f"kept v{r.gate.champion_version}",
        )
    return table
