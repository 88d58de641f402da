"""`leadscore serve`, `rescore` and `route`: the registered models put to work."""

from __future__ import annotations

import errno
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from data.tables import MissingTableError
from leadscore.console import make_console
from leadscore.jobs.rescore_job import rescore_leads, route_source
from leadscore.jobs.routing_job import route_file
from leadscore.settings import get_settings
from serving.batch.job import Engine, RescoreOptions
from serving.batch.job_errors import RescoreError
from serving.batch.scoring import REASONS


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
