"""Import a CRM's accounts (companies) export into the contract `customers` table.

Beside it, `accounts.parquet` holds every account's firmographics, from which training
builds the closer-fit row of a deal whose lead is not imported
(`data.importing.fit_tables`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from data.contract import Customer, Region, arrow_schema
from data.importing.import_report import ImportReport
from data.importing.importer import write_all
from data.importing.record_import import as_arrow, read_if_there, read_records
from data.importing.record_mapping import RecordMapping
from data.tables import table_path

RETENTION_DAYS = 365
"""A customer is retained when it has not churned 12 months after its start."""
COUNTRY_REGIONS: dict[str, str] = {
    name: region.value
    for region, names in (
        (Region.north_america, "us, usa, united states, ca, canada, mx, mexico"),
        (
            Region.emea,
            "gb, uk, united kingdom, de, germany, fr, france, nl, netherlands, es, spain, se, "
            "sweden, ae, united arab emirates, it, italy, ie, ireland, ch, switzerland, be, "
            "belgium, dk, denmark, no, norway, pl, poland, za, south africa",
        ),
        (
            Region.apac,
            "au, australia, jp, japan, sg, singapore, in, india, cn, china, nz, new zealand, "
            "kr, south korea",
        ),
        (Region.latam, "br, brazil, ar, argentina, cl, chile, co, colombia, pe, peru"),
    )
    for name in names.split(", ")
}
"""The sales region of a country (ISO code or English name), for accounts without one."""
ACCOUNTS = pa.schema(
    [
        ("account_id", pa.string()),
        ("owner_id", pa.string()),
        ("company_name", pa.string()),
        ("company_industry", pa.string()),
        ("company_size", pa.int64()),
        ("company_revenue", pa.float64()),
        ("company_region", pa.string()),
        ("company_country", pa.string()),
        ("customer_since", pa.timestamp("us")),
        ("churned_on", pa.timestamp("us")),
    ]
)


def import_accounts(
    path: Path, mapping: RecordMapping, out: Path, as_of: datetime | None = None
) -> ImportReport:
    """Import an accounts (companies) export into `out`/customers.parquet.

    A customer is an account with a customer-since date or a won deal (deals imported
    first). start_date: customer since, else the first won deal's close date.
    retained_12m: churned within 365 days of the start: False; not churned then and
    the start 365 days before `as_of` (default: the newest deal or churn date, see
    `_newest_date`): True; else unknown. lead_id and opportunity_id come from
    the account's first won deal, else are derived (`account-<account id>`).
    """
    report = ImportReport(source=path.name, table="accounts", counted="customers")
    rows = read_records(path, mapping, report)
    mapping = rows.mapping
    accounts = rows.imported(path)
    accounts = accounts.rename(columns={"account_manager_id": "owner_id"})
    _fill_regions(accounts, report)
    deals, first_won = _won_deals(out)
    customers = _customers(accounts, first_won, mapping, report, out)
    when = as_of or _newest_date(accounts, deals)
    if not customers.empty:
        customers["retained_12m"] = retention(customers, when)
        known = customers["retained_12m"].notna()
        if "expansion_value" in customers:
            customers["expansion_value"] = customers["expansion_value"].where(known)
        retained = int(customers["retained_12m"].fillna(False).sum())
        said = "--as-of" if as_of else "the newest date in the exports"
        report.notes.append(
            f"retention as of {when:%Y-%m-%d} ({said}): "
            f"{int(known.sum()):,} customer(s) known ({retained:,} retained, churned within "
            f"{RETENTION_DAYS} days of the start otherwise), {int((~known).sum()):,} too recent"
        )
    report.converted = len(customers)
    write_all(
        {
            "accounts": as_arrow(accounts, ACCOUNTS),
            "customers": as_arrow(customers, arrow_schema(Customer)),
        },
        out,
    )
    return report


def _fill_regions(accounts: pd.DataFrame, report: ImportReport) -> None:
    """Derive a missing region from the country, and say how many."""
    country = accounts.get("company_country")
    if country is None:
        return
    region = accounts.get("company_region", pd.Series(None, index=accounts.index, dtype=object))
    derived = country.str.strip().str.lower().map(COUNTRY_REGIONS)
    fill = region.isna() & derived.notna()
    accounts["company_region"] = region.where(~fill, derived)
    if fill.any():
        report.notes.append(f"company_region: {int(fill.sum()):,} derived from the country")


def _won_deals(out: Path) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """The imported deals, and each account's first won deal (by close date)."""
    deals = read_if_there(out, "opportunities")
    links = read_if_there(out, "deal_links")
    empty = pd.DataFrame(columns=["account_id", "opportunity_id", "lead_id", "closed_at", "value"])
    if deals is None or links is None:
        return deals, empty
    won = deals[deals["won"].fillna(False).astype(bool)].merge(
        links[["opportunity_id", "account_id"]], on="opportunity_id", how="inner"
    )
    won = won[won["account_id"].notna()].sort_values(["closed_at", "opportunity_id"])
    first = won.drop_duplicates("account_id")[list(empty.columns)]
    return deals, first.reset_index(drop=True)


def _customers(
    accounts: pd.DataFrame,
    first_won: pd.DataFrame,
    mapping: RecordMapping,
    report: ImportReport,
    out: Path,
) -> pd.DataFrame:
    """The accounts that are customers, as contract customer rows (retention not yet set)."""
    won = accounts[["account_id"]].merge(
        first_won.rename(columns={"closed_at": "won_on", "value": "won_value"}),
        on="account_id",
        how="left",
    )
    since = accounts.get("customer_since", pd.Series(pd.NaT, index=accounts.index))
    is_customer = since.notna() | won["opportunity_id"].notna()
    if table_path(out, "opportunities").exists() is False:
        report.warnings.append(
            f"no deals imported into {out} yet: customers are only the accounts with a "
            "customer-since date, and their lead and deal ids are derived; import deals first"
        )
    frame = accounts.assign(
        start_date=since.where(since.notna(), won["won_on"]),
        opportunity_id=won["opportunity_id"],
        lead_id=won["lead_id"],
        won_value=won["won_value"],
    )[is_customer.to_numpy()]
    from_deal = int((frame["start_date"].notna() & since[is_customer].isna().to_numpy()).sum())
    if from_deal:
        report.notes.append(
            f"start_date: {from_deal:,} customer(s) have no customer-since date: their first "
            "won deal's close date is used"
        )
    derived = frame["opportunity_id"].isna()
    if derived.any():
        report.notes.append(
            f"{int(derived.sum()):,} customer(s) link to no imported won deal: lead_id and "
            "opportunity_id are derived (account-<account id>)"
        )
    marker = "account-" + frame["account_id"].astype(str)
    frame["opportunity_id"] = frame["opportunity_id"].where(~derived, marker)
    frame["lead_id"] = frame["lead_id"].where(~derived, marker)
    value = frame.get("account_value", pd.Series(np.nan, index=frame.index))
    frame["account_value"] = value.where(value.notna(), frame["won_value"])
    left_out = {
        "no owner (the account manager)": frame["owner_id"].isna()
        if "owner_id" in frame
        else pd.Series(True, index=frame.index),
        "no contract value and no won deal amount": frame["account_value"].isna(),
    }
    keep = pd.Series(True, index=frame.index)
    for why, rows in left_out.items():
        rows = rows & keep
        if rows.any():
            report.warnings.append(
                f"{int(rows.sum()):,} customer account(s) have {why}: left out of customers"
            )
        keep &= ~rows
    customers = frame[keep].rename(
        columns={"account_id": "customer_id", "owner_id": "account_manager_id"}
    )
    return customers.reset_index(drop=True)


def _newest_date(accounts: pd.DataFrame, deals: pd.DataFrame | None) -> pd.Timestamp:
    """The export's date: the newest deal or churn date. A customer-since date counts only
    without deals, as it may be set ahead (a contract starting next month)."""
    columns = ["churned_on"] if deals is not None else ["customer_since", "churned_on"]
    stamps = [accounts[c].max() for c in columns if c in accounts]
    if deals is not None:
        stamps += [deals[c].max() for c in ("opened_at", "closed_at")]
    known = [s for s in stamps if pd.notna(s)]
    if not known:
        return pd.Timestamp.now().normalize()
    return pd.Timestamp(max(known))


def retention(customers: pd.DataFrame, as_of: datetime | pd.Timestamp) -> pd.Series:
    """retained_12m: False if churned within 365 days of the start; True if not and the
    start is at least 365 days before `as_of`; unknown (NA) otherwise."""
    start = pd.to_datetime(customers["start_date"])
    horizon = start + pd.Timedelta(days=RETENTION_DAYS)
    churned = customers.get("churned_on", pd.Series(pd.NaT, index=customers.index))
    lost = churned.notna() & (churned <= horizon)
    kept = ~lost & (horizon <= pd.Timestamp(as_of))
    result = pd.Series(pd.NA, index=customers.index, dtype="boolean")
    return result.mask(kept, True).mask(lost, False)
