"""`make demo`: the whole product on its embedded defaults, end to end.

Generate a two-year CRM history, train and register the four models in
MLflow, start the API as a real server process on a free local port, score
fresh inbound leads and outbound prospects over HTTP, load the roster, route
the best of them to closers and a won customer to an account manager, print
who was chosen and why, and stop.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import generate
from data.json_rows import to_records
from leadscore.demo.api_server import DemoApi, api_server, free_port
from leadscore.demo.history_replay import replay_history, touch_fresh_leads
from leadscore.demo.roster_routing import route_and_assign
from leadscore.jobs.generation_job import generate_history
from leadscore.jobs.training_job import train_fit_models, train_models
from leadscore.settings import Settings
from leadscore.store_report.report_tables import funnel_table
from training.training_config import TrainingConfig

DEMO_LEADS = 50_000
FRESH_LEADS = 400
SHOWN_PER_CHANNEL = 4


def fresh_leads(seed: int = 2027) -> pd.DataFrame:
    """Leads that arrived in the last two weeks: never seen in training."""
    start = datetime.now().replace(microsecond=0) - timedelta(days=14)
    leads = generate(GeneratorConfig(leads=FRESH_LEADS, seed=seed, start=start, days=14))["leads"]
    return leads.assign(lead_id=[f"NEW-{i:04d}" for i in range(len(leads))])


def _spread(scored: list[dict[str, Any]], channel: str) -> list[dict[str, Any]]:
    """The best, the worst and two in between, so the table shows every grade."""
    rows = sorted((s for s in scored if s["channel"] == channel), key=lambda s: -s["score"])
    if len(rows) <= SHOWN_PER_CHANNEL:
        return rows
    picks = [0, len(rows) // 4, len(rows) // 2, len(rows) - 1]
    return [rows[i] for i in picks]


def _reasons(reasons: list[dict[str, Any]], up: bool) -> str:
    chosen = [r for r in reasons if (r["effect"] > 0) == up][:3]
    return "\n".join(f"{r['field']}={r['value']} ({r['effect']:+.1f})" for r in chosen) or "-"


def score_table(scored: list[dict[str, Any]], leads: pd.DataFrame) -> Table:
    companies = leads.set_index("lead_id")
    table = Table(
        title="Fresh leads scored over HTTP (POST /v1/leads/score)",
        title_justify="left",
        show_lines=True,
    )
    for column in (
        "lead",
        "channel",
        "company",
        "score",
        "grade",
        "P(won)",
        "pushes it up",
        "holds it down",
    ):
        table.add_column(column, justify="right" if column in ("score", "P(won)") else "left")
    for channel in ("inbound", "outbound"):
        for s in _spread(scored, channel):
            lead = companies.loc[s["lead_id"]]
            industry = lead["company_industry"] if pd.notna(lead["company_industry"]) else "?"
            table.add_row(
                s["lead_id"],
                channel,
                f"{lead['company_name']}\n{industry}, {lead['source'] or '?'}",
                str(s["score"]),
                s["grade"],
                f"{s['probability']:.1%}",
                _reasons(s["reasons"], up=True),
                _reasons(s["reasons"], up=False),
            )
    return table


def show_insights(
    console: Console,
    api: DemoApi,
    settings: Settings,
    database: Path,
    leads: pd.DataFrame,
    routed: list[str],
) -> None:
    """Replay a slice of the history, first-touch the fresh leads, print the funnel."""
    now = datetime.now(UTC)
    replay_history(console, api, f"sqlite:///{database.resolve()}", settings, now)
    with api.client() as client:
        touched = touch_fresh_leads(client, leads, routed, now)
        console.print(f"First touches of the fresh leads reported: {touched} (POST /v1/outcomes)")
        # Two years: the leads of the first year have had the time to renew or churn.
        years = {"start": (now - timedelta(days=730)).isoformat(), "end": now.isoformat()}
        funnel = client.get("/v1/insights/funnel", params={**years, "by": "channel"})
        funnel.raise_for_status()
        title = "Funnel of the leads created in the last two years (GET /v1/insights/funnel)"
        console.print(funnel_table(funnel.json(), title))
        backtest = client.get("/v1/insights/backtest", params=years).json()
        for version in backtest["versions"]:
            grades = ", ".join(
                f"{g['key']} {g['realised']:.0%} vs {g['predicted']:.0%}"
                for g in version["by_grade"]
            )
            console.print(
                f"Backtest {version['model']} v{version['version']} ({version['leads']:,} leads "
                f"scored over 90 days ago), won within 90 days vs predicted: {grades}"
            )
        for warning in backtest["warnings"]:
            console.print(f"[yellow]warning:[/yellow] {warning}")
    console.print(
        f"Everything: `.venv/bin/leadscore report --data {settings.home}`; one lead's "
        f"lifecycle: GET {api.url}/v1/leads/{{lead_id}}/timeline"
    )


def run_demo(settings: Settings, console: Console) -> None:
    started = time.perf_counter()
    console.rule("1. A two-year CRM history")
    generate_history(console, settings.data_dir, GeneratorConfig(leads=DEMO_LEADS, seed=7))
    console.rule("2. Train, evaluate and register the four models in MLflow")
    train_models(console, settings, settings.data_dir, TrainingConfig())
    train_fit_models(console, settings, settings.data_dir)
    console.rule("3. Serve the champions and score fresh leads over HTTP")
    port = free_port()
    leads = fresh_leads()
    database = settings.home / "demo.db"
    database.unlink(missing_ok=True)  # the demo's own store: a clean roster every run
    with api_server(settings, port, database) as api, api.client() as client:
        url = api.url
        console.print(f"API ready at {url} (OpenAPI at {url}/docs)")
        console.print(f"Sales-ops dashboard while the demo runs: {url}/dashboard")
        console.print(
            f"The demo's API key (admin; the dashboard asks for it): {api.key}", soft_wrap=True
        )
        response = client.post("/v1/leads/score", json=to_records(leads))
        response.raise_for_status()
        scored = response.json()
        console.print(score_table(scored, leads))
        single = to_records(leads.head(1))[0]
        one = client.post("/v1/leads/score", json=single).json()
        console.print(
            f"One lead: {one['lead_id']} -> score {one['score']}, grade {one['grade']}, "
            f"model {one['model']['name']} v{one['model']['version']}"
        )
        grades = pd.Series([s["grade"] for s in scored]).value_counts().sort_index()
        console.print(
            f"Grades of all {len(scored)} fresh leads: "
            + ", ".join(f"{g}: {n}" for g, n in grades.items())
        )
        console.rule("4. Who should work it: route qualified leads, assign a won customer")
        routed = route_and_assign(console, api, settings, leads, scored)
        console.rule("5. Two years of CRM work replayed, and what the funnel shows")
        show_insights(console, api, settings, database, leads, routed)
    console.rule("Done")
    console.print(
        f"Demo finished in {time.perf_counter() - started:.0f} s. Next: a key with "
        "`.venv/bin/leadscore keys create --name me --scope admin`, then `make serve` and "
        f"http://127.0.0.1:{settings.api.port}/docs or /dashboard; MLflow UI: "
        f"`.venv/bin/mlflow ui --backend-store-uri {settings.tracking_uri}`"
    )
