"""The tables the rep-fit models read, from a generated folder or an import folder.

A generated folder holds them as they are. An import folder may lack some (each
export is imported on its own), and its deals may link to no imported lead. Such a
deal's closer-fit row is built from what the closer was given when the deal opened:
its account's firmographics (industry, size, revenue, region, country, from
accounts.parquet) and the deal's own source and channel, created when the deal was.
It knows less than a lead's row (no title, no web or prospecting signals), but the
fit then learns from every closed deal rather than only the linked ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from data.contract import Lead, columns
from data.tables import MissingTableError, read_table, table_path

IMPORTED_AS = {"leads": "leads", "opportunities": "deals", "customers": "accounts", "reps": "users"}
"""The `leadscore import --table` that writes each contract table."""
FIRMOGRAPHICS = (
    "company_name",
    "company_industry",
    "company_size",
    "company_revenue",
    "company_region",
    "company_country",
)


def is_fit_import(folder: Path) -> bool:
    """`leadscore import` wrote this folder (leads, deals or accounts)."""
    return any(table_path(folder, name).exists() for name in ("outcomes", "deal_links", "accounts"))


def read_fit_table(folder: Path, name: str) -> pd.DataFrame:
    """`read_table`, but in an import folder a missing table names the import writing it."""
    try:
        return read_table(folder, name)
    except MissingTableError as error:
        if not is_fit_import(folder):
            raise
        kind = IMPORTED_AS[name]
        raise MissingTableError(
            f"no {kind} imported into {folder} ({name}.parquet): `leadscore import --table "
            f"{kind} --input FILE --mapping MAP --out {folder}` writes it"
        ) from error


@dataclass(frozen=True)
class CloserInputs:
    """Leads and opportunities for `closer_data`, with how the closed deals found a row."""

    leads: pd.DataFrame
    opportunities: pd.DataFrame
    linked: int
    """Closed deals whose lead is in leads.parquet."""
    built: int
    """Closed deals whose row is built from their account (import folders only)."""

    def note(self) -> str:
        return (
            f"closer: {self.linked:,} closed deal(s) linked to their imported lead, "
            f"{self.built:,} built from their account's firmographics and the deal's source"
        )


def closer_inputs(folder: Path) -> CloserInputs:
    """The closer fit's leads (imported ones plus rows built from accounts) and deals."""
    opportunities = read_fit_table(folder, "opportunities")
    links_path = table_path(folder, "deal_links")
    closed = opportunities["won"].notna()
    if not links_path.exists():
        leads = read_fit_table(folder, "leads")
        return CloserInputs(leads, opportunities, int(closed.sum()), 0)
    has_leads = table_path(folder, "leads").exists()
    leads = read_table(folder, "leads") if has_leads else pd.DataFrame(columns=columns(Lead))
    opportunities = _relinked(folder, opportunities, leads)
    unlinked = ~opportunities["lead_id"].isin(leads["lead_id"])
    built = _rows_from_accounts(folder, opportunities[unlinked], pd.read_parquet(links_path))
    if not built.empty:
        leads = _stacked(leads, built) if len(leads) else built
    return CloserInputs(
        leads, opportunities, int((closed & ~unlinked).sum()), int((closed & unlinked).sum())
    )


def _relinked(folder: Path, opportunities: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
    """Deals imported before their leads: link them now through the leads export's
    converted-opportunity column (lead_links.parquet), so the import order does not matter."""
    path = table_path(folder, "lead_links")
    if not path.exists():
        return opportunities
    links = pd.read_parquet(path).drop_duplicates("opportunity_id").set_index("opportunity_id")
    found = opportunities["opportunity_id"].map(links["lead_id"])
    relink = ~opportunities["lead_id"].isin(leads["lead_id"]) & found.isin(leads["lead_id"])
    if not relink.any():
        return opportunities
    return opportunities.assign(lead_id=opportunities["lead_id"].where(~relink, found))


def _stacked(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """`first` then `second`, all columns of both; a column missing on one side is NA."""
    names = list(dict.fromkeys([*first.columns, *second.columns]))
    # Empty columns are left out of the concat (pandas warns on them) and put back after.
    parts = [frame.dropna(axis=1, how="all") for frame in (first, second)]
    stacked = pd.concat(parts, ignore_index=True)
    for name in names:
        if name not in stacked:
            kind = first[name].dtype if name in first else second[name].dtype
            stacked[name] = pd.Series(None, index=stacked.index, dtype=kind)
    return stacked[names]


def _rows_from_accounts(folder: Path, deals: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """One lead row per unlinked lead id: the deal's source, channel and creation, and its
    account's firmographics when accounts are imported."""
    rows = (
        deals.sort_values("opened_at", kind="stable")
        .drop_duplicates("lead_id")[["opportunity_id", "lead_id", "opened_at"]]
        .merge(links, on="opportunity_id", how="left")
    )
    accounts_path = table_path(folder, "accounts")
    if accounts_path.exists():
        accounts = pd.read_parquet(accounts_path, columns=["account_id", *FIRMOGRAPHICS])
        rows = rows.merge(accounts, on="account_id", how="left")
    built = pd.DataFrame(
        {
            "lead_id": rows["lead_id"],
            "channel": rows["channel"].fillna("inbound"),
            "source": rows["source"],
            "created_at": rows["opened_at"],
        }
    )
    for name in FIRMOGRAPHICS:
        built[name] = rows.get(name)
    return built.reset_index(drop=True)
