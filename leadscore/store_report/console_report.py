"""`leadscore report`: the funnel, speed-to-lead, workload and score backtest as tables.

The figures come from `serving.insights.report_data.gather_report`, the same dict an
HTML report renders; this module finds the store and prints.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.engine import make_url

from data.store import Store, current_revision, head_revision
from data.store.store_records import as_utc, utc_now
from leadscore.settings import Settings
from leadscore.store_report.report_tables import (
    backtest_table,
    drift_table,
    funnel_table,
    speed_table,
    workload_table,
)
from serving import insights
from serving.insights import PeriodError
from serving.insights.drift import DEFAULT_DAYS as DRIFT_DAYS
from serving.insights.drift import References
from serving.insights.report_data import gather_report
from serving.insights.responses import Period

DEMO_DATABASE = "demo.db"
"""The store `make demo` fills, in LEADSCORE_HOME."""
SERVE_DATABASE = "leadscore.db"
"""The store `leadscore serve` uses by default, in LEADSCORE_HOME."""


class ReportError(RuntimeError):
    """No store to report on, or one that cannot be read; the message says what to do."""


def database_url(data: Path | None, settings: Settings) -> str:
    """The store to read: `--data` (a SQLite file, or a home folder holding the demo's
    store, else the served one), otherwise the configured store (LEADSCORE_DATABASE_URL)."""
    if data is None:
        url = settings.database
        database = make_url(url).database
        if url.startswith("sqlite") and database and not Path(database).is_file():
            raise ReportError(
                f"no store at {database}: run `make demo` or `leadscore serve` first, set "
                "LEADSCORE_DATABASE_URL, or pass --data"
            )
        return url
    if data.is_file():
        return f"sqlite:///{data.resolve()}"
    for name in (DEMO_DATABASE, SERVE_DATABASE):
        if (data / name).is_file():
            return f"sqlite:///{(data / name).resolve()}"
    raise ReportError(
        f"--data {data}: neither a SQLite file nor a folder holding {DEMO_DATABASE} "
        f"(what `make demo` writes) or {SERVE_DATABASE} (what `leadscore serve` writes)"
    )


def check_schema(url: str) -> None:
    revision = current_revision(url)
    if revision is None:
        raise ReportError("the database holds no leadscore store (never migrated)")
    if revision != head_revision():
        raise ReportError(
            f"the store is at schema revision {revision}, this leadscore reads "
            f"{head_revision()}: run `leadscore db upgrade` first"
        )


def report_data(
    settings: Settings,
    data: Path | None,
    start: datetime | None,
    end: datetime | None,
    days: int,
    horizon_days: int,
) -> dict[str, Any]:
    """`gather_report` on the store the options name, for the leads created in
    [start, end) (end defaults to now, start to `days` before end; naive is UTC)."""
    now = utc_now()
    url = database_url(data, settings)
    check_schema(url)
    end_ = now if end is None else as_utc(end)
    start_ = end_ - timedelta(days=days) if start is None else as_utc(start)
    try:
        with Store(url) as store:
            gathered = gather_report(store, start_, end_, now=now, horizon_days=horizon_days)
            week = Period(start=end_ - timedelta(days=DRIFT_DAYS), end=end_)
            references = registry_references(settings.tracking_uri, settings.api.model_alias)
            drift = insights.drift(store, week, now, references, horizon_days)
    except PeriodError as error:
        raise ReportError(f"--{error.field}: {error}") from error
    return gathered | {"drift": drift.model_dump(mode="json", by_alias=True)}


def registry_references(tracking_uri: str, alias: str = "champion") -> References:
    """The training reference of each lead-score model holding `alias`, read from its run's
    `drift_reference.json` (None for a model trained without); {} without a registry."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from data.contract import Channel
    from models.packaging import registered_name
    from training.gate import current_holder

    database = make_url(tracking_uri).database if tracking_uri.startswith("sqlite") else None
    if database is not None and not Path(database).is_file():
        return {}  # nothing was ever trained here; do not create an empty registry
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    out: dict[tuple[str, str], Any] = {}
    for channel in Channel:
        name = registered_name(channel)
        version = current_holder(client, name, alias)
        if version is None:
            continue
        run_id = client.get_model_version(name, version).run_id
        try:
            with tempfile.TemporaryDirectory() as folder:
                path = client.download_artifacts(run_id or "", "drift_reference.json", folder)
                out[(name, version)] = json.loads(Path(path).read_text(encoding="utf-8"))
        except (MlflowException, OSError):
            out[(name, version)] = None
    return out


def _minute(moment: str) -> str:
    return moment[:16].replace("T", " ")


def print_report(console: Console, report: dict[str, Any]) -> None:
    period = report["period"]
    console.rule(f"Leads created {_minute(period['start'])} to {_minute(period['end'])} UTC")
    console.print(funnel_table(report["funnel_by_channel"], "Funnel by channel"))
    console.print(funnel_table(report["funnel_by_role"], "Funnel by role (who owned the step)"))
    console.print(speed_table(report["speed"]))
    console.print(workload_table(report["workload"]))
    console.print(backtest_table(report["backtest"], report["backtest_period"], "grade"))
    console.print(backtest_table(report["backtest"], report["backtest_period"], "decile"))
    for warning in report["backtest"]["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if not report["backtest"]["versions"]:
        console.print("No scores old enough to judge in the backtest period.")
    if "drift" in report:
        drift = report["drift"]
        console.print(drift_table(drift))
        for warning in drift["warnings"]:
            console.print(f"[yellow]drift:[/yellow] {warning}")
        if not drift["models"]:
            console.print("No lead-score model holds the alias in the registry: no drift to show.")
