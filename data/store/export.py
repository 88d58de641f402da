"""Export the operational store as a training folder: `leadscore train --from-store`.

The folder has the layout `leadscore import` writes, so the trainers read it
as they read any import (`training.labelled.load_labelled`):

- `leads.parquet`, one row per lead the service recorded: the contract columns
  of the lead **as first recorded** (`leads.first_payload`), its custom fields
  one column each (their kinds in the metadata, as an import's `extra`).
- `outcomes.parquet`, one row per lead: `lead_id`, `converted` (Int64: 1 won,
  0 lost, NA undecided), `created_at`.
- `opportunities.parquet`: a contract opportunity per lead routed to a closer
  (its last closer assignment), closed by the lead's won or lost event.
- `customers.parquet`: a contract customer per customer given to an account
  manager, `retained_12m` from its renewed or churned event.
- `reps.parquet`: the roster as contract reps.
- `decisions.parquet`, one row per routing decision (`DECISION_COLUMNS`): the
  logged propensity, policy and exploration flag, and the reward that followed,
  for off-policy evaluation without estimated propensities (the closer-fit
  routing estimate reads it: `training.rep_pipeline.logged_propensities`).

Point in time: a lead's features are its first payload, never a later one, so
fields the CRM filled in after the first scoring (a booked meeting, a demo)
cannot leak into the model. A lead is undecided (NA) while it has no won or
lost event, and also when it was created fewer than `decided_after_days`
before the newest lead: as in an import, keeping only the young leads that
already converted would inflate the newest period's conversion rate. A lead
the CRM never closes stays undecided: the CRM should report `lost` for a lead
it disqualifies.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url

from data.contract import Customer, Lead, Opportunity, Rep, arrow_schema, columns
from data.importing.importer import EXTRA_TYPES, METADATA_KEY
from data.labels import MATURITY_DAYS
from data.store.engine import make_engine, read
from data.store.migrate import current_revision, head_revision
from data.store.schema import assignments, customers, leads, outcomes, reps

SOURCE = "store"
"""The `source` an exported leads file names in its metadata (training logs it)."""
RETENTION_DAYS = 365
"""A customer that churns within this many days of its start was not retained 12 months."""
TABLES = ("leads", "outcomes", "opportunities", "customers", "reps", "decisions")
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


class StoreNotReadyError(ValueError):
    """The database has no store schema, or an older one than the export reads."""


@dataclass(frozen=True)
class StoreExport:
    """What an export wrote, in the counts `leadscore train --from-store` prints."""

    folder: Path
    leads: int
    converted: int
    not_converted: int
    open: int
    """No won or lost event yet."""
    too_young: int
    """Decided, but created fewer than `decided_after_days` before the newest lead."""
    outcome_events: int
    decisions: int
    explored: int
    closed_opportunities: int
    customers_known: int
    """Customers whose 12-month retention is known."""
    reps: int
    custom_fields: tuple[str, ...] = ()

    @property
    def decided(self) -> int:
        return self.converted + self.not_converted

    @property
    def undecided(self) -> int:
        return self.leads - self.decided

    def summary(self) -> str:
        """One line: '5,000 leads (3,900 decided: 800 won, 3,100 lost; 1,100 undecided...'."""
        return (
            f"{self.leads:,} leads ({self.decided:,} decided: {self.converted:,} won, "
            f"{self.not_converted:,} lost; {self.undecided:,} undecided: {self.open:,} without "
            f"a won or lost event, {self.too_young:,} too young), {self.outcome_events:,} "
            f"outcome events, {self.decisions:,} routing decisions ({self.explored:,} explored; "
            f"{self.closed_opportunities:,} closed deals, {self.customers_known:,} customers "
            f"with known retention), {self.reps:,} reps"
        )


def redacted(url: str) -> str:
    """The URL without its password, to print and to keep in metadata."""
    return make_url(url).render_as_string(hide_password=True)


def check_store(url: str) -> None:
    """Refuse a database the export cannot read, saying what to run."""
    revision = current_revision(url)
    if revision is None:
        raise StoreNotReadyError(
            f"{redacted(url)} holds no leadscore store (never migrated): point "
            "--database-url at the service's database, or run `leadscore db upgrade` and "
            "let the service score leads first"
        )
    if revision != head_revision():
        raise StoreNotReadyError(
            f"{redacted(url)} is at store schema {revision}, the export reads "
            f"{head_revision()}: run `leadscore db upgrade` first"
        )


def export_store(url: str, out: Path, decided_after_days: int = MATURITY_DAYS) -> StoreExport:
    """Write the store at `url` into `out` as a training folder (see the module docstring).

    Reads one consistent snapshot; writes every table under a temporary name and
    renames them at the end, removing tables an earlier export left that this
    one has no rows for, so `out` never mixes two exports.
    """
    if decided_after_days < 0:
        raise ValueError(f"decided_after_days must be 0 or more, not {decided_after_days}")
    check_store(url)
    engine = make_engine(url)
    try:
        with read(engine) as connection:
            raw = _read_all(connection)
    finally:
        engine.dispose()
    lead_frame, extra = _lead_frame(raw["leads"])
    events = raw["outcomes"]
    converted, counts = _converted(lead_frame, events, decided_after_days)
    decisions = _decisions(raw["assignments"], events)
    opportunities = _opportunities(raw["assignments"], events)
    customer_frame = _customers(raw["customers"], raw["assignments"], events, lead_frame)
    tables = {
        "leads": _leads_table(lead_frame, extra, counts, url, decided_after_days),
        "outcomes": pa.Table.from_pandas(
            pd.DataFrame(
                {
                    "lead_id": lead_frame["lead_id"],
                    "converted": converted,
                    "created_at": lead_frame["created_at"],
                }
            ),
            preserve_index=False,
        ),
        "opportunities": _contract_table(opportunities, Opportunity),
        "customers": _contract_table(customer_frame, Customer),
        "reps": _contract_table(_reps(raw["reps"]), Rep),
        "decisions": pa.Table.from_pandas(decisions, preserve_index=False),
    }
    _write_tables(tables, out)
    return StoreExport(
        folder=out,
        leads=len(lead_frame),
        converted=counts["converted"],
        not_converted=counts["not_converted"],
        open=counts["open"],
        too_young=counts["too_young"],
        outcome_events=len(events),
        decisions=len(decisions),
        explored=int(decisions["explored"].sum()) if len(decisions) else 0,
        closed_opportunities=int(opportunities["won"].notna().sum()),
        customers_known=int(customer_frame["retained_12m"].notna().sum()),
        reps=tables["reps"].num_rows,
        custom_fields=tuple(extra),
    )


def _read_all(connection: Connection) -> dict[str, pd.DataFrame]:
    """Every table the export needs, read in the caller's one transaction."""
    queries = {
        "leads": select(leads.c.lead_id, leads.c.first_payload).order_by(leads.c.lead_id),
        "outcomes": select(
            outcomes.c.event_id,
            outcomes.c.type,
            outcomes.c.lead_id,
            outcomes.c.customer_id,
            outcomes.c.occurred_at,
            outcomes.c.value,
        ).order_by(outcomes.c.occurred_at, outcomes.c.event_id),
        "assignments": select(assignments).order_by(assignments.c.assigned_at, assignments.c.id),
        "customers": select(customers).order_by(customers.c.customer_id),
        "reps": select(reps).order_by(reps.c.rep_id),
    }
    frames = {}
    for name, query in queries.items():
        result = connection.execute(query)
        frames[name] = pd.DataFrame(result.all(), columns=list(result.keys()))
    for name, column in (("outcomes", "occurred_at"), ("assignments", "assigned_at"),
                         ("assignments", "released_at")):  # fmt: skip
        frames[name][column] = _naive_utc(frames[name][column])
    return frames


def _naive_utc(values: pd.Series) -> pd.Series:
    """UTC times without a zone, as the contract tables hold them."""
    return pd.to_datetime(values, utc=True).dt.tz_convert(None).astype("datetime64[us]")


def _lead_frame(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Contract columns of each lead's first payload, its custom fields one column each,
    and their kinds (categorical, numeric, boolean)."""
    payloads = [dict(p) for p in rows["first_payload"]]
    custom = [p.pop("custom_fields", None) or {} for p in payloads]
    frame = pd.DataFrame(payloads, columns=columns(Lead))
    frame["created_at"] = _naive_utc(frame["created_at"])
    kinds: dict[str, str] = {}
    for name in sorted({key for fields in custom for key in fields}):
        values = pd.Series([fields.get(name) for fields in custom], dtype=object)
        kinds[name] = _kind(values)
        frame[name] = _as_kind(values, kinds[name])
    return frame, kinds


def _kind(values: pd.Series) -> str:
    """Text anywhere makes a categorical; only flags a boolean; else numeric."""
    present = [v for v in values if v is not None]
    if any(isinstance(v, str) for v in present):
        return "categorical"
    if present and all(isinstance(v, bool) for v in present):
        return "boolean"
    return "numeric"


def _as_kind(values: pd.Series, kind: str) -> pd.Series:
    if kind == "categorical":
        return values.map(lambda v: None if v is None else str(v))
    if kind == "boolean":
        return values.astype("boolean")
    return pd.to_numeric(values.map(lambda v: None if v is None else float(v)), errors="coerce")


def _first_events(events: pd.DataFrame, types: Sequence[str], key: str) -> pd.DataFrame:
    """Each subject's first event of `types` (events are sorted by time)."""
    chosen = events[events["type"].isin(types) & events[key].notna()]
    return chosen.drop_duplicates(key, keep="first").set_index(key)


def _converted(
    frame: pd.DataFrame, events: pd.DataFrame, days: int
) -> tuple[pd.Series, dict[str, int]]:
    """1 won, 0 lost, NA without either or too young; and the counts an import keeps."""
    decided = _first_events(events, ("won", "lost"), "lead_id")["type"]
    outcome = frame["lead_id"].map(decided)
    labels = pd.Series(outcome.map({"won": 1, "lost": 0}), dtype="Int64")
    still_open = labels.isna()
    created = frame["created_at"]
    young = created > created.max() - timedelta(days=days) if len(frame) else still_open
    too_young = young & ~still_open
    labels = labels.mask(too_young)
    counts = {
        "converted": int((labels == 1).sum()),
        "not_converted": int((labels == 0).sum()),
        "open": int(still_open.sum()),
        "too_young": int(too_young.sum()),
    }
    return labels.astype("Int64"), counts


def _leads_table(
    frame: pd.DataFrame, extra: dict[str, str], counts: dict[str, int], url: str, days: int
) -> pa.Table:
    """leads.parquet with the metadata an import writes, so training reads it as one."""
    described: dict[str, object] = {
        "source": SOURCE,
        "database": redacted(url),
        "mapping": None,
        "extra": extra,
        "post_contact_dropped": [],
        "outcomes": counts,
        "decided_after_days": days,
        "point_in_time": "each lead as first recorded (leads.first_payload)",
        "lead_id": {"source": "leads.lead_id", "real": True},
        "created_at": {"source": "leads.created_at", "real": True},
    }
    contract = arrow_schema(Lead)
    fields = [*contract, *(pa.field(name, EXTRA_TYPES[kind]) for name, kind in extra.items())]
    schema = pa.schema(fields, metadata={METADATA_KEY: json.dumps(described)})
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def _contract_table(frame: pd.DataFrame, model: type[Any]) -> pa.Table:
    schema = arrow_schema(model)
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def _last_assignments(assignments_: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Each subject's last decision of `kind`: the one its outcome closes (an earlier
    one was released without an outcome: the subject went to someone else)."""
    chosen = assignments_[assignments_["kind"] == kind]
    return chosen.drop_duplicates("subject_id", keep="last").reset_index(drop=True)


def _opportunities(assignments_: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """A lead's closer assignment and its won or lost event: a (closed) opportunity."""
    routed = _last_assignments(assignments_, "lead")
    decided = _first_events(events, ("won", "lost"), "lead_id")
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


def _customers(
    stored: pd.DataFrame, assignments_: pd.DataFrame, events: pd.DataFrame, leads_: pd.DataFrame
) -> pd.DataFrame:
    """Customers given to an account manager, with 12-month retention from their
    renewed and churned events: churned within `RETENTION_DAYS` of the start is not
    retained, renewed (or churned later) is; neither yet is unknown.

    Firmographics come from the customer's lead as first recorded, else from the
    customer's own payload; the account value from the payload, else its lead's
    won value, else 0.
    """
    given = _last_assignments(assignments_, "customer").set_index("subject_id")
    rows = stored[stored["customer_id"].isin(given.index)].reset_index(drop=True)
    start = rows["customer_id"].map(given["assigned_at"])
    ended = _first_events(events, ("renewed", "churned"), "customer_id")
    kind = rows["customer_id"].map(ended["type"])
    at = rows["customer_id"].map(ended["occurred_at"])
    churned_early = (kind == "churned") & (at - start <= timedelta(days=RETENTION_DAYS))
    retained = pd.Series(pd.NA, index=rows.index, dtype="boolean")
    retained[kind.notna()] = ~churned_early[kind.notna()]
    lead_id = rows["lead_id"].fillna(rows["customer_id"])
    first = leads_.set_index("lead_id")
    won = _first_events(events, ("won",), "lead_id")
    routed = _last_assignments(assignments_, "lead").set_index("subject_id")
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


def _reps(stored: pd.DataFrame) -> pd.DataFrame:
    frame = stored.copy()
    frame["name"] = frame["name"].fillna(frame["rep_id"])
    frame["industries"] = frame["industries"].map(lambda v: list(v or []))
    return frame[columns(Rep)]


def _decisions(assignments_: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Every routing decision with what it logged and the reward that followed."""
    frame = assignments_.rename(columns={"id": "assignment_id"}).copy()
    frame["runners_up"] = frame["runners_up"].map(json.dumps)
    frame["explored"] = frame["explored"].astype(bool)
    frame["propensity"] = frame["propensity"].astype("float64")
    frame["objective"] = frame["objective"].astype("float64")
    lead_events = _first_events(events, ("won", "lost"), "lead_id")
    customer_events = _first_events(events, ("renewed", "churned"), "customer_id")
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


def _write_tables(tables: dict[str, pa.Table], out: Path) -> None:
    """Write all tables beside `out`'s files, then swap them in; an earlier export's
    table this one lacks is removed, and other files in `out` are left alone."""
    out.mkdir(parents=True, exist_ok=True)
    staging = out / ".store-export"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for name, table in tables.items():
            pq.write_table(table, staging / f"{name}.parquet")
        for name in TABLES:
            written = staging / f"{name}.parquet"
            if written.exists():
                written.replace(out / f"{name}.parquet")
            else:
                (out / f"{name}.parquet").unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
