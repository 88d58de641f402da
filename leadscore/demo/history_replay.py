"""The history part of `make demo`: two years of CRM work replayed into the demo's store.

A slice of the generated history (every 20th lead of the last 90 days, every
60th before) is moved in time so that the history ends today, and replayed:
each lead is scored on arrival, first touched by its inbound specialist or
prospector, qualified, routed to the closer it really had, won or lost with
its value, handed to its account manager, and renewed or churned, as the
generator decided. The outcomes go through the API (`POST /v1/outcomes`, with
their past `occurred_at`). Scores and routing decisions are stamped by the
service with the time they are made and cannot be back-dated over HTTP, so
the replay writes those two straight into the demo's own store: the same
numbers the API gives (the registered champions, `score_frame`), at the time
they would have been given. The backtest then has scores older than its
horizon. The champions were trained on this same history, so their backtest
here is in-sample for the older leads: flattering, not a validation.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pandas as pd
from rich.console import Console

from data.contract import Lead, Role
from data.generator.generator_config import GeneratorConfig
from data.generator.historical_routing import historical_closer_weights
from data.json_rows import to_records
from data.store import AssignmentIn, CustomerIn, ScoreIn, Store
from data.tables import read_table
from leadscore.demo.api_server import DemoApi
from leadscore.settings import Settings
from serving.batch.job import load_models
from serving.batch.scoring import score_frame

RECENT_DAYS = 90
RECENT_EVERY, OLDER_EVERY = 20, 60
"""One lead in this many is replayed, in the last RECENT_DAYS and before."""
SEED = 11


@dataclass
class LeadPlan:
    """What happened to one lead, in time order: API events and store writes."""

    lead: dict[str, Any]
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    routed: AssignmentIn | None = None
    customer: CustomerIn | None = None
    handed_over: AssignmentIn | None = None

    def steps(self) -> Iterator[tuple[datetime, str, Any]]:
        """(time, kind, payload), oldest first; a routing before the outcome that ends it."""
        items: list[tuple[datetime, int, str, Any]] = [
            (pd.Timestamp(o["occurred_at"]).to_pydatetime(), 1, "outcome", o) for o in self.outcomes
        ]
        if self.routed is not None and self.routed.assigned_at is not None:
            items.append((self.routed.assigned_at, 0, "routed", self.routed))
        if self.handed_over is not None and self.handed_over.assigned_at is not None:
            items.append((self.handed_over.assigned_at, 0, "handed_over", self))
        for at, _, kind, payload in sorted(items, key=lambda item: (item[0], item[1])):
            yield at, kind, payload


def _iso(moment: pd.Timestamp) -> str:
    return moment.tz_localize("UTC").isoformat() if moment.tzinfo is None else moment.isoformat()


def _aware(moment: pd.Timestamp) -> datetime:
    stamp = moment.tz_localize("UTC") if moment.tzinfo is None else moment
    result: datetime = stamp.to_pydatetime()
    return result


def sample_history(folder: Any, now: datetime, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """The replayed slice of the generated tables, with times moved so the history ends now."""
    shift = pd.Timestamp(now).tz_localize(None) - pd.Timestamp(GeneratorConfig().as_of)
    shift = shift.floor("min")
    leads = read_table(folder, "leads")
    leads["created_at"] = leads["created_at"] + shift
    age = pd.Timestamp(now).tz_localize(None) - leads["created_at"]
    rng = np.random.default_rng(seed)
    every = np.where(age <= pd.Timedelta(days=RECENT_DAYS), RECENT_EVERY, OLDER_EVERY)
    chosen = leads.loc[(rng.random(len(leads)) * every < 1) & (age >= pd.Timedelta(0))]
    opportunities = read_table(folder, "opportunities")
    opportunities = opportunities.loc[opportunities["lead_id"].isin(chosen["lead_id"])].copy()
    for column in ("opened_at", "closed_at"):
        opportunities[column] = opportunities[column] + shift
    customers = read_table(folder, "customers")
    customers = customers.loc[customers["lead_id"].isin(chosen["lead_id"])].copy()
    customers["start_date"] = customers["start_date"] + shift
    reps = read_table(folder, "reps")
    return {
        "leads": chosen.reset_index(drop=True),
        "opportunities": opportunities,
        "customers": customers,
        "reps": reps,
    }


def _touch_delay(rng: np.random.Generator, channel: str, rep: str | None) -> pd.Timedelta:
    """Minutes for inbound (some specialists are slower), hours for outbound prospects."""
    slow = 1.0 + 0.6 * (int(rep[-1]) % 3) if rep and rep[-1].isdigit() else 1.0
    if channel == "inbound":
        return pd.Timedelta(minutes=float(rng.lognormal(np.log(18), 1.0)) * slow)
    return pd.Timedelta(hours=float(rng.lognormal(np.log(4), 0.9)) * slow)


def _rows(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """lead_id -> the row as a dict (times stay Timestamps)."""
    return {str(r["lead_id"]): {str(k): v for k, v in r.items()} for r in frame.to_dict("records")}


def plan_history(
    tables: dict[str, pd.DataFrame], now: datetime, seed: int = SEED
) -> list[LeadPlan]:
    """Each replayed lead's events, from the generator's own outcomes."""
    rng = np.random.default_rng(seed)
    now_ = pd.Timestamp(now).tz_localize(None)
    leads = tables["leads"]
    opportunity, customer = _rows(tables["opportunities"]), _rows(tables["customers"])
    closers = tables["reps"].loc[tables["reps"]["role"] == Role.closer.value]
    closer_index = {str(rep): i for i, rep in enumerate(closers["rep_id"])}
    weights = historical_closer_weights(
        leads["company_region"].to_numpy(dtype=object), closers["region"].to_numpy(dtype=object)
    )
    plans = []
    for position, record in enumerate(to_records(leads)):
        lead_id, channel = str(record["lead_id"]), str(record["channel"])
        rep = record.get("specialist_id" if channel == "inbound" else "prospector_id")
        plan = LeadPlan(lead=record)
        touched = pd.Timestamp(record["created_at"]) + _touch_delay(rng, channel, rep)
        opp = opportunity.get(lead_id)
        if opp is not None:
            opened = pd.Timestamp(opp["opened_at"])
            touched = min(touched, opened - pd.Timedelta(hours=2))
            qualified = max(
                opened - pd.Timedelta(hours=float(rng.uniform(1, 24))),
                touched + pd.Timedelta(minutes=10),
            )
        if touched <= now_ and (opp is not None or rng.random() < 0.9):
            plan.outcomes.append(_event(lead_id, "contacted", touched, rep))
        if opp is None or opened > now_:
            plans.append(plan)
            continue
        plan.outcomes.append(_event(lead_id, "qualified", qualified, rep))
        closer = str(opp["closer_id"])
        plan.routed = AssignmentIn(
            kind="lead",
            subject_id=lead_id,
            rep_id=closer,
            policy="historical",
            propensity=float(weights[position, closer_index[closer]]),
            objective=0.0,
            assigned_at=_aware(opened),
        )
        closed = opp["closed_at"]
        if pd.notna(closed) and pd.Timestamp(closed) <= now_:
            won = bool(opp["won"])
            value = float(opp["value"]) if won and pd.notna(opp["value"]) else None
            kind = "won" if won else "lost"
            plan.outcomes.append(_event(lead_id, kind, pd.Timestamp(closed), closer, value))
        if lead_id in customer:
            _customer(plan, customer[lead_id], rng, now_)
        plans.append(plan)
    return plans


def _customer(
    plan: LeadPlan, row: dict[str, Any], rng: np.random.Generator, now: pd.Timestamp
) -> None:
    start = pd.Timestamp(row["start_date"])
    if start > now:
        return
    customer_id = str(row["customer_id"])
    manager = str(row["account_manager_id"])
    body = to_records(pd.DataFrame([row]))[0]
    plan.customer = CustomerIn(customer_id=customer_id, lead_id=str(row["lead_id"]), payload=body)
    plan.handed_over = AssignmentIn(
        kind="customer",
        subject_id=customer_id,
        rep_id=manager,
        policy="historical",
        propensity=1.0 / 8,
        objective=0.0,
        assigned_at=_aware(start),
    )
    retained = row["retained_12m"]
    if pd.isna(retained):
        return
    if bool(retained):
        at, kind = start + pd.Timedelta(days=365), "renewed"
    else:
        at, kind = start + pd.Timedelta(days=float(rng.uniform(60, 365))), "churned"
    if at <= now:
        value = float(row["account_value"])
        plan.outcomes.append(_event(customer_id, kind, at, manager, value, key="customer_id"))


def _event(
    subject: str,
    kind: str,
    at: pd.Timestamp,
    rep: str | None,
    value: float | None = None,
    key: str = "lead_id",
) -> dict[str, Any]:
    return {
        "event_id": f"demo-{subject}-{kind}",
        "type": kind,
        key: subject,
        "occurred_at": _iso(at.floor("s")),
        "rep_id": rep,
        "value": value,
    }


def backfill_scores(
    store: Store, settings: Settings, leads: pd.DataFrame, records: list[dict[str, Any]]
) -> int:
    """Score the leads with the champions and record each score 2 minutes after creation."""
    models, _ = load_models(settings.tracking_uri, "champion")
    known = leads.loc[leads["channel"].isin(list(models))].reset_index(drop=True)
    if known.empty:
        return 0
    scored, _ = score_frame(known, models, 0, datetime.now())
    by_id = {r["lead_id"]: r for r in records}
    rows = []
    for s in scored.to_dict("records"):
        lead = Lead.model_validate(by_id[str(s["lead_id"])])
        rows.append(
            ScoreIn.model_validate(
                {
                    "lead": lead,
                    "model_name": str(s["model_name"]),
                    "model_version": str(s["model_version"]),
                    "probability": float(s["probability"]),
                    "score": int(s["score"]),
                    "grade": str(s["grade"]),
                    "scored_at": lead.created_at + timedelta(minutes=2),
                }
            )
        )
    return store.record_scores(rows)


def replay(client: httpx.Client, store: Store, plans: list[LeadPlan]) -> dict[str, int]:
    """Play every plan; returns how many of each step were done."""
    done: dict[str, int] = {}
    for plan in plans:
        for _, kind, payload in plan.steps():
            if kind == "outcome":
                body = {k: v for k, v in payload.items() if v is not None}
                client.post("/v1/outcomes", json=body).raise_for_status()
                kind = payload["type"]
            elif kind == "routed":
                if store.reserve_and_record(payload) is None:
                    continue  # the closer is full now: the history had more work than capacity
            else:
                assert plan.customer is not None and plan.handed_over is not None
                store.put_customer(plan.customer)
                if store.reserve_and_record(plan.handed_over) is None:
                    continue
            done[kind] = done.get(kind, 0) + 1
    return done


def touch_fresh_leads(
    client: httpx.Client, leads: pd.DataFrame, routed: list[str], now: datetime
) -> int:
    """The fresh leads of the demo get their first touch; the routed ones were qualified."""
    rng = np.random.default_rng(SEED + 1)
    posted = 0
    for record in to_records(leads):
        channel = record["channel"]
        rep = record.get("specialist_id" if channel == "inbound" else "prospector_id")
        at = pd.Timestamp(record["created_at"]) + _touch_delay(rng, channel, rep)
        events = []
        if at <= pd.Timestamp(now).tz_localize(None):
            events.append(_event(record["lead_id"], "contacted", at, rep))
        if record["lead_id"] in routed:
            events.append(_event(record["lead_id"], "qualified", at + pd.Timedelta(hours=1), rep))
        for event in events:
            body = {k: v for k, v in event.items() if v is not None}
            client.post("/v1/outcomes", json=body).raise_for_status()
            posted += 1
    return posted


def replay_history(
    console: Console, api: DemoApi, database_url: str, settings: Settings, now: datetime
) -> dict[str, int]:
    """Sample, score, and replay the history into the demo's store (see the module doc)."""
    started = time.perf_counter()
    tables = sample_history(settings.data_dir, now)
    plans = plan_history(tables, now)
    with Store(database_url) as store, api.client(timeout=30.0) as client:
        scores = backfill_scores(store, settings, tables["leads"], [p.lead for p in plans])
        done = replay(client, store, plans)
    done["scored"] = scores
    console.print(
        f"Replayed {len(plans):,} leads of the history into the store in "
        f"{time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{kind} {count:,}" for kind, count in done.items())
    )
    return done
