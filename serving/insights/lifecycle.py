"""Every lead's journey in one row: when it reached each stage and who owned it.

The stages, in order: created, contacted, qualified, routed, won, retained.
What the store records for each:

| stage | recorded as | time |
|---|---|---|
| created | the lead | `created_at` of the lead |
| contacted | a `contacted` event (the first counts) | its `occurred_at` |
| qualified | a `qualified` event | its `occurred_at` |
| routed | an assignment of the lead to a closer | `assigned_at` of the first |
| won | a `won` event, or a customer made from the lead | the event's `occurred_at` |
| retained | a `renewed` event of the lead's customer | its `occurred_at` |

A later stage implies the earlier ones (a lead won without a recorded
qualification was qualified), so the counts of a funnel never rise from one
stage to the next. A `lost` deal implies nothing: CRMs also use it for leads
dropped before any closer saw them.

Owners: the *front rep* is who contacted the lead (the rep of the first
`contacted` event, else of the first `qualified` event, else the lead's own
`specialist_id` / `prospector_id`); the *closer* is the rep of the won or lost
event, else of the lead's latest assignment; the *account manager* is the
rep of the customer's latest assignment, else of its renewed or churned event.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from data.contract import Role, segment_of
from serving.insights.frames import LeadHistory, front_role

STAGES = ("created", "contacted", "qualified", "routed", "won", "retained")
UNKNOWN = "unknown"
UNSCORED = "unscored"


def _first_time(events: pd.DataFrame, kind: str) -> pd.Series:
    """subject_id -> time of its first event of `kind`."""
    return events.loc[events["type"] == kind].groupby("subject_id")["occurred_at"].min()


def _first_rep(events: pd.DataFrame, kinds: tuple[str, ...]) -> pd.Series:
    """subject_id -> rep of its first event of `kinds` that names one."""
    named = events.loc[events["type"].isin(kinds) & events["rep_id"].notna()]
    return named.sort_values(["occurred_at", "event_id"]).groupby("subject_id")["rep_id"].first()


def _latest_rep(assigned: pd.DataFrame) -> pd.Series:
    """subject_id -> rep of its latest assignment."""
    ordered = assigned.sort_values(["assigned_at", "id"])
    return ordered.groupby("subject_id")["rep_id"].last()


def _payload_fields(payload: Any, channel: str) -> tuple[str, str, str | None]:
    """(source, segment, the lead's own front rep) from the lead as posted."""
    data = payload if isinstance(payload, dict) else {}
    source = data.get("source") or UNKNOWN
    segment = segment_of(data.get("company_size"))
    rep = data.get("specialist_id" if channel == "inbound" else "prospector_id")
    return str(source), UNKNOWN if segment is None else segment.value, rep


def journeys(history: LeadHistory) -> pd.DataFrame:
    """One row per lead: breakdown keys, stage times, `reached_<stage>` flags and owners."""
    leads = history.leads
    out = leads[["lead_id", "channel", "created_at"]].copy()
    fields = [
        _payload_fields(payload, channel)
        for payload, channel in zip(leads["payload"], leads["channel"], strict=True)
    ]
    out["source"] = [f[0] for f in fields]
    out["segment"] = [f[1] for f in fields]
    own_rep = pd.Series([f[2] for f in fields], index=leads.index, dtype=object)
    ids = out["lead_id"]

    first_scores = history.scores.sort_values(["scored_at", "id"]).groupby("lead_id")["grade"]
    out["grade"] = ids.map(first_scores.first()).fillna(UNSCORED)

    events = history.lead_events
    out["contacted_at"] = ids.map(_first_time(events, "contacted"))
    out["qualified_at"] = ids.map(_first_time(events, "qualified"))
    out["routed_at"] = ids.map(history.lead_assignments.groupby("subject_id")["assigned_at"].min())
    out["won_at"] = ids.map(_first_time(events, "won"))
    out["lost_at"] = ids.map(_first_time(events, "lost"))
    lead_of = history.customers.set_index("customer_id")["lead_id"]
    customer_events = history.customer_events.assign(
        subject_id=history.customer_events["subject_id"].map(lead_of)
    )
    out["retained_at"] = ids.map(_first_time(customer_events, "renewed"))

    retained = out["retained_at"].notna()
    won = out["won_at"].notna() | ids.isin(history.customers["lead_id"]) | retained
    routed = out["routed_at"].notna() | won
    qualified = out["qualified_at"].notna() | routed
    contacted = out["contacted_at"].notna() | qualified
    for stage, flag in zip(
        STAGES, (ids.notna(), contacted, qualified, routed, won, retained), strict=True
    ):
        out[f"reached_{stage}"] = flag.astype(bool)

    front = ids.map(_first_rep(events, ("contacted",)))
    front = front.combine_first(ids.map(_first_rep(events, ("qualified",))))
    out["front_rep"] = front.combine_first(own_rep)
    closer = ids.map(_first_rep(events, ("won", "lost")))
    out["closer"] = closer.combine_first(ids.map(_latest_rep(history.lead_assignments)))
    customer_assigned = history.customer_assignments.assign(
        subject_id=history.customer_assignments["subject_id"].map(lead_of)
    )
    manager = ids.map(_latest_rep(customer_assigned))
    out["manager"] = manager.combine_first(
        ids.map(_first_rep(customer_events, ("renewed", "churned")))
    )
    roles = history.roles
    out["front_role"] = [
        roles.get(rep, front_role(channel)) if isinstance(rep, str) else None
        for rep, channel in zip(out["front_rep"], out["channel"], strict=True)
    ]
    out["closer_role"] = out["closer"].map(lambda r: roles.get(r, Role.closer.value))
    out["manager_role"] = out["manager"].map(lambda r: roles.get(r, Role.account_manager.value))
    return out.reset_index(drop=True)
