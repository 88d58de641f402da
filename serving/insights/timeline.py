"""One lead's lifecycle as a timeline, assembled from what the store recorded.

created (channel, source) -> scored (every score, with the model version) ->
contacted / qualified (by an inbound specialist or prospector) -> routed (to a
closer, with the policy's runners-up) -> won / lost (value) -> handed_over
(the customer to an account manager) -> renewed / churned.

A hand-off is a routing decision that gives the lead (or its customer) to
another rep than the one who worked it last: the front rep to the closer,
the closer to the account manager, a closer to another closer on re-routing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

import pandas as pd
from pydantic import JsonValue

from data.contract import Role
from serving.insights.frames import LeadHistory, front_role
from serving.insights.responses import EventStage, Handoff, Timeline, TimelineEvent

ORDER: tuple[str, ...] = get_args(EventStage)
"""Events at the same instant are listed in this order (the order of `EventStage`)."""
HANDOFF_STAGES = ("routed", "handed_over")


Row = Any
"""A record of a frame (`_records`): attribute access to its columns."""


class _Record(dict[str, Any]):
    """A frame row whose columns read as attributes."""

    def __getattr__(self, name: str) -> Any:
        return self[name]


def _records(frame: pd.DataFrame) -> list[Row]:
    return [_Record({str(k): v for k, v in row.items()}) for row in frame.to_dict("records")]


@dataclass
class _Event:
    at: datetime
    stage: str
    rep_id: str | None
    role: str | None
    detail: dict[str, JsonValue]


def _time(value: Any) -> datetime:
    moment: datetime = pd.Timestamp(value).to_pydatetime()
    return moment


def _clean(value: Any) -> JsonValue:
    """A cell as JSON: NaN and NaT are null."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat().replace("+00:00", "Z")
    if hasattr(value, "item"):  # numpy scalars
        item: JsonValue = value.item()
        return item
    result: JsonValue = value
    return result


def _assignment_detail(row: Row, **extra: JsonValue) -> dict[str, JsonValue]:
    return {
        **extra,
        "assignment_id": int(row.id),
        "policy": row.policy,
        "propensity": float(row.propensity),
        "objective": float(row.objective),
        "explored": bool(row.explored),
        "reasons": list(row.runners_up),
        "released_at": _clean(row.released_at) if pd.notna(row.released_at) else None,
    }


def _events(history: LeadHistory, lead: Row) -> list[_Event]:
    roles = history.roles
    payload = lead.payload if isinstance(lead.payload, dict) else {}
    events = [
        _Event(
            _time(lead.created_at),
            "created",
            None,
            None,
            {"channel": lead.channel, "source": payload.get("source")},
        ),
    ]
    for s in _records(history.scores):
        detail: dict[str, JsonValue] = {
            "model": s.model_name,
            "version": s.model_version,
            "score": int(s.score),
            "grade": s.grade,
            "probability": float(s.probability),
        }
        events.append(_Event(_time(s.scored_at), "scored", None, None, detail))
    closers = history.lead_assignments.sort_values(["assigned_at", "id"])
    for a in _records(closers):
        role: str | None = roles.get(a.rep_id, Role.closer.value)
        events.append(_Event(_time(a.assigned_at), "routed", a.rep_id, role, _assignment_detail(a)))
    latest_closer = closers["rep_id"].iloc[-1] if len(closers) else None
    for e in _records(history.lead_events):
        rep: str | None = e.rep_id if isinstance(e.rep_id, str) else None
        if rep is None and e.type in ("won", "lost"):
            rep = latest_closer
        role = roles.get(rep) if rep is not None else None
        detail = {"event_id": e.event_id, "value": _clean(e.value)}
        events.append(_Event(_time(e.occurred_at), str(e.type), rep, role, detail))
    managers = history.customer_assignments.sort_values(["assigned_at", "id"])
    for a in _records(managers):
        role = roles.get(a.rep_id, Role.account_manager.value)
        events.append(
            _Event(
                _time(a.assigned_at),
                "handed_over",
                a.rep_id,
                role,
                _assignment_detail(a, customer_id=a.subject_id),
            )
        )
    manager_of = managers.groupby("subject_id")["rep_id"].last().to_dict()
    for e in _records(history.customer_events):
        rep = e.rep_id if isinstance(e.rep_id, str) else manager_of.get(e.subject_id)
        role = roles.get(rep) if rep is not None else None
        detail = {"event_id": e.event_id, "customer_id": e.subject_id, "value": _clean(e.value)}
        events.append(_Event(_time(e.occurred_at), str(e.type), rep, role, detail))
    return sorted(events, key=lambda ev: (ev.at, ORDER.index(ev.stage)))


def _handoffs(events: list[_Event], owner: str | None, owner_role: str | None) -> list[Handoff]:
    """Walk the events; a routing decision to another rep than the last one is a hand-off."""
    handoffs = []
    last_act: datetime | None = None
    for event in events:
        if event.rep_id is None:
            continue
        if event.stage in HANDOFF_STAGES and event.rep_id != owner:
            handoffs.append(
                Handoff(
                    from_role=owner_role,
                    from_rep_id=owner,
                    to_role=event.role,
                    to_rep_id=event.rep_id,
                    at=event.at,
                    after_seconds=None
                    if last_act is None
                    else (event.at - last_act).total_seconds(),
                )
            )
        owner, owner_role, last_act = event.rep_id, event.role, event.at
    return handoffs


def timeline(history: LeadHistory) -> Timeline | None:
    """The lead's timeline; None if the history holds no lead."""
    if history.leads.empty:
        return None
    lead = _records(history.leads)[0]
    events = _events(history, lead)
    payload = lead.payload if isinstance(lead.payload, dict) else {}
    own = payload.get("specialist_id" if lead.channel == "inbound" else "prospector_id")
    own_role = history.roles.get(own, front_role(lead.channel)) if own else None
    out: list[TimelineEvent] = []
    previous: datetime | None = None
    for e in events:
        out.append(
            TimelineEvent(
                at=e.at,
                stage=e.stage,
                rep_id=e.rep_id,
                role=e.role,
                detail=e.detail,
                since_previous_seconds=None
                if previous is None
                else (e.at - previous).total_seconds(),
            )
        )
        previous = e.at
    return Timeline(
        lead_id=lead.lead_id,
        channel=lead.channel,
        created_at=_time(lead.created_at),
        events=out,
        handoffs=_handoffs(events, own, own_role),
    )
