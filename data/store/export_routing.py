"""The routing side of a store export (`data.store.export`): deals, customers, the roster
and every routing decision with the reward that followed.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd

from data.contract import Rep, columns
from data.store.export_leads import first_events

RETENTION_DAYS = 365
"""A customer that churns within this many days of its start was not retained 12 months."""
DECISION_COLUMNS = {
    "assignment_id": "the store's id of the decision",
    "kind": "lead (to a closer) or customer (to an account manager)",
    "subject_id": "lead_id or customer_id",
    "rep_id": "the rep chosen",
    "policy": "the routing policy that chose",
    "propensity": "probability the policy gave the chosen rep (logged, not estimated)",
    "objective": "the policy's objective for the chosen rep",
    "explored": "chosen by exploration rather than as the best",
    "runners_up": "JSON list of the reps considered: rep_id, fit, expected_value, propensity",
    "assigned_at": "when it was decided (UTC)",
    "released_at": "when the rep let go of it (UTC); null while held",
    "outcome": "won, lost, renewed or churned; null while unknown",
    "outcome_at": "when that happened (UTC)",
    "reward": "1 won or retained, 0 lost or churned, null unknown (Int64)",
}
"""decisions.parquet: its columns and what each holds."""


def last_assignments(assignments_: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Each subject's last decision of `kind`: the one its outcome closes (an earlier
    one was released without an outcome: the subject went to someone else)."""
    chosen = assignments_[assignments_["kind"] == kind]
    return chosen.drop_duplicates("subject_id", keep="last").reset_index(drop=True)


def store_opportunities(assignments_: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """A lead's closer assignment and its won or lost event: a (closed) opportunity."""
    routed = last_assignments(assignments_, "lead")
    decided = first_events(events, ("won", "lost"), "lead_id")
    outcome = routed["subject_id"].map(decided["type"])
    won = outcome.map({"won": True, "lost": False}).astype("boolean")
    return pd.DataFrame(
        {
            "opportunity_id": "A" + routed["id"].astype(str),
            "lead_id": routed["subject_id"],
            "closer_id": routed["rep_id"],
            "opened_at": routed["assigned_at"],
            "closed_at": routed["subject_id"].map(decided["occurred_at"]),
            "won": won,
            "value": routed["subject_id"].map(decided["value"]).where(won.fillna(False)),
        }
    )


def store_customers(
    stored: pd.DataFrame, assignments_: pd.DataFrame, events: pd.DataFrame, leads_: pd.DataFrame
) -> pd.DataFrame:
    """Customers given to an account manager, with 12-month retention from their
    renewed and churned events: churned within `RETENTION_DAYS` of the start is not
    retained, renewed (or churned later) is; neither yet is unknown.

    Firmographics come from the customer's lead as first recorded, else from the
    customer's own payload; the account value from the payload, else its lead's
    won value, else 0.
    """
    given = last_assignments(assignments_, "customer").set_index("subject_id")
    rows = stored[stored["customer_id"].isin(given.index)].reset_index(drop=True)
    start = rows["customer_id"].map(given["assigned_at"])
    ended = first_events(events, ("renewed", "churned"), "customer_id")
    kind = rows["customer_id"].map(ended["type"])
    at = rows["customer_id"].map(ended["occurred_at"])
    churned_early = (kind == "churned") & (at - start <= timedelta(days=RETENTION_DAYS))
    retained = pd.Series(pd.NA, index=rows.index, dtype="boolean")
    retained[kind.notna()] = ~churned_early[kind.notna()]
    lead_id = rows["lead_id"].fillna(rows["customer_id"])
    first = leads_.set_index("lead_id")
    won = first_events(events, ("won",), "lead_id")
    routed = last_assignments(assignments_, "lead").set_index("subject_id")
    payloads = rows["payload"].map(lambda p: p or {})
    frame = pd.DataFrame(
        {
            "customer_id": rows["customer_id"],
            "lead_id": lead_id,
            "opportunity_id": lead_id.map("A" + routed["id"].astype(str)).fillna(
                "customer-" + rows["customer_id"]
            ),
            "account_manager_id": rows["customer_id"].map(given["rep_id"]),
            "start_date": start,
            "retained_12m": retained,
            "expansion_value": pd.Series(None, index=rows.index, dtype="float64"),
        }
    )
    for name in ("company_industry", "company_size", "company_region"):
        from_lead = lead_id.map(first[name]) if len(first) else pd.Series(None, index=rows.index)
        posted = payloads.map(lambda payload, key=name: payload.get(key))  # type: ignore[misc]
        frame[name] = from_lead.where(from_lead.notna(), posted)
    value = pd.to_numeric(payloads.map(lambda p: p.get("account_value")), errors="coerce")
    value = value.fillna(lead_id.map(won["value"])).fillna(0.0)
    frame["account_value"] = value.astype("float64")
    return frame


def store_reps(stored: pd.DataFrame) -> pd.DataFrame:
    frame = stored.copy()
    frame["name"] = frame["name"].fillna(frame["rep_id"])
    frame["industries"] = frame["industries"].map(lambda v: list(v or []))
    return frame[columns(Rep)]


def store_decisions(assignments_: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Every routing decision with what it logged and the reward that followed."""
    frame = assignments_.rename(columns={"id": "assignment_id"}).copy()
    frame["runners_up"] = frame["runners_up"].map(json.dumps)
    frame["explored"] = frame["explored"].astype(bool)
    frame["propensity"] = frame["propensity"].astype("float64")
    frame["objective"] = frame["objective"].astype("float64")
    lead_events = first_events(events, ("won", "lost"), "lead_id")
    customer_events = first_events(events, ("renewed", "churned"), "customer_id")
    is_lead = frame["kind"] == "lead"
    outcome = frame["subject_id"].map(lead_events["type"]).where(is_lead)
    outcome = outcome.fillna(frame["subject_id"].map(customer_events["type"]).where(~is_lead))
    outcome_at = frame["subject_id"].map(lead_events["occurred_at"]).where(is_lead)
    outcome_at = outcome_at.fillna(
        frame["subject_id"].map(customer_events["occurred_at"]).where(~is_lead)
    )
    # Only the subject's last decision led to the outcome; an earlier one was released.
    last = ~frame.duplicated(["kind", "subject_id"], keep="last")
    frame["outcome"] = outcome.where(last).astype("string")
    frame["outcome_at"] = pd.to_datetime(outcome_at.where(last)).astype("datetime64[us]")
    rewards = {"won": 1, "renewed": 1, "lost": 0, "churned": 0}
    frame["reward"] = pd.Series(frame["outcome"].map(rewards), dtype="Int64")
    frame["assignment_id"] = frame["assignment_id"].astype("int64")
    return frame[list(DECISION_COLUMNS)].reset_index(drop=True)
