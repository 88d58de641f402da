"""Export the operational store as a training folder: `leadscore train --from-store`.

The folder has the layout `leadscore import` writes, so the trainers read it
as they read any import (`training.labelled.load_labelled`):

- `leads.parquet`, one row per lead the service recorded: the contract columns
  of the lead **as first recorded** (`leads.first_payload`), its custom fields
  one column each (their kinds in the metadata, as an import's `extra`).
- `outcomes.parquet`, one row per lead: `lead_id`, `converted` (Int64: 1 won,
  0 lost, NA undecided), `qualified` (Int64: 1 it was qualified - a `qualified`
  or `won` event, or routed to a closer - 0 it never was though old enough, NA
  too young), `created_at`.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url

from data.contract import Customer, Lead, Opportunity, Rep, arrow_schema
from data.importing.importer import EXTRA_TYPES, METADATA_KEY
from data.labels import MATURITY_DAYS
from data.store.engine import make_engine, read
from data.store.export_leads import (
    converted_labels,
    first_payloads,
    naive_utc,
    qualified_labels,
)
from data.store.export_routing import (
    store_customers,
    store_decisions,
    store_opportunities,
    store_reps,
)
from data.store.migrate import current_revision, head_revision
from data.store.schema import assignments, customers, leads, outcomes, reps

SOURCE = "store"
"""The `source` an exported leads file names in its metadata (training logs it)."""
TABLES = ("leads", "outcomes", "opportunities", "customers", "reps", "decisions")


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
    lead_frame, extra = first_payloads(raw["leads"])
    events = raw["outcomes"]
    converted, counts = converted_labels(lead_frame, events, decided_after_days)
    decisions = store_decisions(raw["assignments"], events)
    opportunities = store_opportunities(raw["assignments"], events)
    customer_frame = store_customers(raw["customers"], raw["assignments"], events, lead_frame)
    tables = {
        "leads": _leads_table(lead_frame, extra, counts, url, decided_after_days),
        "outcomes": pa.Table.from_pandas(
            pd.DataFrame(
                {
                    "lead_id": lead_frame["lead_id"],
                    "converted": converted,
                    "qualified": qualified_labels(
                        lead_frame, events, raw["assignments"], decided_after_days
                    ),
                    "created_at": lead_frame["created_at"],
                }
            ),
            preserve_index=False,
        ),
        "opportunities": _contract_table(opportunities, Opportunity),
        "customers": _contract_table(customer_frame, Customer),
        "reps": _contract_table(store_reps(raw["reps"]), Rep),
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
    times = (
        ("outcomes", "occurred_at"),
        ("assignments", "assigned_at"),
        ("assignments", "released_at"),
    )
    for name, column in times:
        frames[name][column] = naive_utc(frames[name][column])
    return frames


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
