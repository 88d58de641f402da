"""The routing part of `make demo`: roster in, leads routed, a customer assigned, all over HTTP."""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from data.json_rows import to_records
from data.tables import read_table
from leadscore.demo.api_server import DemoApi
from leadscore.settings import Settings

ROUTED = 4


def _runner(option: dict[str, Any]) -> str:
    fit = option["fit"]
    return option["rep_id"] if fit is None else f"{option['rep_id']} fit {fit:.2f}"


def _decision_table(title: str, answers: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True)
    for column in ("for", "chosen", "fit", "P(choice)", "runners-up", "why"):
        table.add_column(column)
    for a in answers:
        runners = [r for r in a["ranked"] if r["rep_id"] != a["chosen"]["rep_id"]][:2]
        table.add_row(
            a["subject_id"],
            f"{a['chosen']['rep_id']}\n{a['chosen']['name'] or ''}",
            "-" if a["chosen"]["fit"] is None else f"{a['chosen']['fit']:.2f}",
            f"{a['propensity']:.2f}" + (" (explored)" if a["explored"] else ""),
            "\n".join(_runner(r) for r in runners) or "-",
            a["chosen"]["reason"],
        )
    return table


def route_and_assign(
    console: Console,
    api: DemoApi,
    settings: Settings,
    leads: pd.DataFrame,
    scored: list[dict[str, Any]],
) -> list[str]:
    """Load the roster, route the best fresh leads and a won customer; the routed lead ids."""
    with api.client(timeout=30.0) as client:
        reps = to_records(read_table(settings.data_dir, "reps"))
        for rep in reps:
            client.put(f"/v1/reps/{rep['rep_id']}", json=rep).raise_for_status()
        console.print(f"Roster loaded: {len(reps)} reps (PUT /v1/reps/{{rep_id}})")
        best = sorted(scored, key=lambda s: -s["probability"])[:ROUTED]
        by_id = leads.set_index("lead_id")
        answers = []
        for s in best:
            lead = to_records(by_id.loc[[s["lead_id"]]].reset_index())[0]
            response = client.post("/v1/leads/route", json=lead)
            response.raise_for_status()
            answers.append(response.json())
        console.print(_decision_table("Qualified leads routed (POST /v1/leads/route)", answers))
        customer = to_records(read_table(settings.data_dir, "customers").tail(1))[0]
        assigned = client.post("/v1/customers/assign", json=customer)
        assigned.raise_for_status()
        console.print(
            _decision_table(
                "A won customer assigned (POST /v1/customers/assign)", [assigned.json()]
            )
        )
        # Why a fallback chose (e.g. the fit gate found no evidence the owner matters).
        for warning in dict.fromkeys(w for a in [*answers, assigned.json()] for w in a["warnings"]):
            console.print(f"[yellow]{warning}[/yellow]", soft_wrap=True)
        first = answers[0]
        event = {
            "event_id": f"demo-won-{first['subject_id']}",
            "type": "won",
            "lead_id": first["subject_id"],
            "occurred_at": pd.Timestamp.now("UTC").isoformat(),
            "value": 24000,
        }
        client.post("/v1/outcomes", json=event).raise_for_status()
        rep = client.get(f"/v1/reps/{first['chosen']['rep_id']}").json()
        console.print(
            f"Outcome 'won' reported for {first['subject_id']} (POST /v1/outcomes): "
            f"{rep['rep_id']} now holds {rep['load']}/{rep['capacity']} open opportunities"
        )
    return [a["subject_id"] for a in answers]
