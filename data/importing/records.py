"""Import a CRM's deals, accounts and users exports into the tables the fit models learn
from: `opportunities`, `customers` and `reps`, the generator's contract tables.

Each import reads its CSV with a `RecordMapping`, cleans the mapped columns with the
lead import's cleaners, rejects the rows the contract cannot hold (by line, with the
reason) and writes into the same folder as the leads import. What one table needs from
another comes from the tables already in the folder, so the order is leads, deals,
accounts, users; each import says what it found and what it had to assume.

Beside the contract tables it writes what only an import has: `deal_links.parquet`
(each deal's account, source and channel, and where its lead came from) and
`accounts.parquet` (every account's firmographics), from which training builds the
closer-fit row of a deal whose lead is not imported (`data.importing.fit_tables`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from data.contract import (
    Customer,
    Opportunity,
    Region,
    Rep,
    Role,
    arrow_schema,
)
from data.importing.cleaning import (
    Cleaned,
    blank_out,
    clean_boolean,
    clean_date,
    clean_number,
    errors_where,
)
from data.importing.importer import NothingImportedError, _nothing_imported, _write_all
from data.importing.reading import check_columns, read_export
from data.importing.record_mapping import FIELDS, OUTCOME_FIELDS, REQUIRED, RecordMapping
from data.importing.report import ImportReport
from data.importing.required import repeated_ids
from data.tables import table_path

WRITES = {"deals": "opportunities", "accounts": "customers", "users": "reps"}
"""The contract table each import writes."""
RETENTION_DAYS = 365
"""A customer is retained when it has not churned 12 months after its start."""
DEFAULT_CAPACITY: dict[str, int] = {
    Role.inbound_specialist.value: 400,
    Role.prospector.value: 600,
    Role.closer.value: 40,
    Role.account_manager.value: 60,
}
"""Open opportunities (closers) or accounts (account managers) a rep holds at most, when
the users export does not say: the generator's figures, a typical load."""
COUNTRY_REGIONS: dict[str, str] = {
    **dict.fromkeys(["us", "usa", "united states", "ca", "canada", "mx", "mexico"],
                    Region.north_america.value),
    **dict.fromkeys(["gb", "uk", "united kingdom", "de", "germany", "fr", "france", "nl",
                     "netherlands", "es", "spain", "se", "sweden", "ae",
                     "united arab emirates", "it", "italy", "ie", "ireland", "ch",
                     "switzerland", "be", "belgium", "dk", "denmark", "no", "norway", "pl",
                     "poland", "za", "south africa"], Region.emea.value),
    **dict.fromkeys(["au", "australia", "jp", "japan", "sg", "singapore", "in", "india",
                     "cn", "china", "nz", "new zealand", "kr", "south korea"],
                    Region.apac.value),
    **dict.fromkeys(["br", "brazil", "ar", "argentina", "cl", "chile", "co", "colombia",
                     "pe", "peru"], Region.latam.value),
}  # fmt: skip
"""The sales region of a country (ISO code or English name), for accounts without one."""
LINK_COLUMN, LINK_LEADS, LINK_NONE = "deal column", "leads export", "none"
DEAL_LINKS = pa.schema(
    [
        ("opportunity_id", pa.string()),
        ("account_id", pa.string()),
        ("source", pa.string()),
        ("channel", pa.string()),
        ("lead_link", pa.string()),
    ]
)
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
LISTED_IDS = frozenset({"lead_id", "account_id"})


class _Rows:
    """The cleaned fields of one export and the reasons each row is rejected."""

    def __init__(self, used: pd.DataFrame, mapping: RecordMapping, report: ImportReport) -> None:
        self.used, self.mapping, self.report = used, mapping, report
        self.out = pd.DataFrame(index=used.index)
        self.reasons = pd.Series("", index=used.index)

    def take(self, name: str, cleaned: Cleaned) -> pd.Series:
        column = self.mapping.columns.get(name, "(derived)")
        self.out[name] = cleaned.values
        self.report.errors += cleaned.errors
        self.report.notes += cleaned.notes
        self.report.summarize(column, name, cleaned.values)
        return cleaned.values

    def reject(self, rows: pd.Series, reason: str) -> None:
        self.reasons[rows] += reason + "; "

    def kept(self) -> pd.Series:
        """Record the rejected rows in the report; True for the rows that stay."""
        rejected = self.reasons != ""
        for position in np.flatnonzero(rejected.to_numpy()):
            self.report.reject(int(position), self.reasons.iloc[position].rstrip("; "))
        return ~rejected


def _read(
    path: Path, mapping: RecordMapping, report: ImportReport
) -> tuple[pd.DataFrame, RecordMapping]:
    """The export's mapped columns as stripped text, placeholders blanked, with the
    mapping less the optional columns the file lacks and the post-contact ones."""
    frame = read_export(path, mapping)
    absent = [c for c in mapping.optional if c not in frame.columns and c in mapping.used_columns()]
    for column in absent:
        report.notes.append(f"{column}: not in the file (optional): left unknown")
    mapping = mapping.without(absent)
    check_columns(path, frame, mapping)
    outcome_columns = {
        mapping.columns[f] for f in OUTCOME_FIELDS[mapping.table] if f in mapping.columns
    }
    late = [c for c in mapping.post_contact if c in frame.columns]
    dropped = [c for c in late if c in mapping.used_columns() and c not in outcome_columns]
    if outcome := mapping.outcome:
        dropped = [c for c in dropped if c != outcome.column]
    needed = [
        f for f, c in mapping.columns.items() if c in dropped and f in REQUIRED[mapping.table]
    ]
    if needed:
        raise ValueError(
            f"{mapping.where('post_contact')}: {', '.join(needed)} cannot be post-contact "
            f"(a {mapping.table} import needs it); take its column out of post_contact"
        )
    for column in late:
        if column in dropped:
            report.notes.append(
                f"{column}: known only after the outcome (post_contact): not imported"
            )
        elif column in outcome_columns:
            report.notes.append(
                f"{column}: known only after the outcome (post_contact): imported as an outcome, "
                "never a feature"
            )
    report.dropped += [c for c in late if c not in outcome_columns]
    mapping = mapping.without(dropped)
    report.rows_read = len(frame)
    used, report.blanks = blank_out(
        frame.reset_index(drop=True)[list(mapping.used_columns())], mapping.blanks
    )
    return used, mapping


def _first_of_list(raw: pd.Series) -> pd.Series:
    """The first id of a list ("123;456" or "123, 456"), as association columns hold."""
    return raw.str.split(r"\s*[;,]\s*", regex=True).str[0].replace("", None)


def _clean(rows: _Rows, name: str, path: Path) -> pd.Series:
    """Clean mapped field `name` by its kind, recording what it could not read."""
    mapping = rows.mapping
    column = mapping.columns[name]
    kind = FIELDS[mapping.table][name]
    raw = rows.used[column]
    if name in mapping.values:
        mapped = raw.str.lower().map(mapping.values[name])
        raw = mapped.where(mapped.notna(), raw)
    if kind == "id":
        listed = name in LISTED_IDS  # association columns may hold several ids
        return rows.take(name, Cleaned(_first_of_list(raw) if listed else raw))
    if kind == "date":
        cleaned = clean_date(raw, column)
        if cleaned.refused:
            raise ValueError(f"{path}: {cleaned.refused} ({mapping.where(f'columns.{name}')})")
        return rows.take(name, cleaned)
    if kind in ("number", "count"):
        cleaned = clean_number(raw, column)
        negative = cleaned.values.notna() & (cleaned.values < 0)
        cleaned.errors += errors_where(raw, negative, column, "negative number")
        cleaned.values = cleaned.values.mask(negative)
        if kind == "count":
            fraction = cleaned.values.notna() & (cleaned.values % 1 != 0)
            cleaned.errors += errors_where(raw, fraction, column, "not a whole number")
            cleaned.values = cleaned.values.mask(fraction).round().astype("Int64")
        return rows.take(name, cleaned)
    if kind == "boolean":
        return rows.take(name, clean_boolean(raw, column))
    if kind in ("region", "role"):
        text = raw.str.lower().str.replace(r"[\s-]+", "_", regex=True)
        allowed = {r.value for r in (Region if kind == "region" else Role)}
        bad = text.notna() & ~text.isin(allowed)
        unknown = sorted(set(raw[bad]))
        cleaned = Cleaned(text.mask(bad))
        if unknown:
            shown = ", ".join(repr(v) for v in unknown[:5])
            cleaned.notes.append(
                f"{column}: {int(bad.sum()):,} value(s) not a {kind} ({shown}): left unknown; "
                f"map them under {mapping.where('values')}.{name}"
            )
        return rows.take(name, cleaned)
    return rows.take(name, Cleaned(raw))


def _own_id(mapping: RecordMapping) -> str:
    return REQUIRED[mapping.table][0]


def _require(rows: _Rows) -> None:
    """Reject rows missing a required field, and repeats of an id."""
    for name in REQUIRED[rows.mapping.table]:
        column = rows.mapping.columns[name]
        rows.reject(
            rows.out[name].isna() & rows.used[column].isna(),
            f"missing required field {name} ({column})",
        )
        rows.reject(
            rows.out[name].isna() & rows.used[column].notna(), f"unreadable {name} ({column})"
        )
    own = _own_id(rows.mapping)
    repeats = repeated_ids(rows.out[own], own)
    repeat = repeats != ""
    rows.reasons[repeat] += repeats[repeat] + "; "
    if repeat.any():
        rows.report.warnings.append(
            f"{int(repeat.sum()):,} row(s) repeat a {own} of an earlier line: only the first "
            "row of each id is imported (see the rejected rows)"
        )


def _stop_if_empty(path: Path, report: ImportReport, kept: pd.DataFrame) -> None:
    report.rows_imported = len(kept)
    if kept.empty:
        raise NothingImportedError(_nothing_imported(path, report), report)


def _arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    for name in schema.names:
        if name not in frame:
            frame[name] = None
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def _read_if_there(folder: Path, name: str) -> pd.DataFrame | None:
    path = table_path(folder, name)
    return pd.read_parquet(path) if path.exists() else None


def import_deals(path: Path, mapping: RecordMapping, out: Path) -> ImportReport:
    """Import a deals (opportunities) export into `out`/opportunities.parquet.

    Won and lost come from the stage; the close date and amount are kept only for
    decided (and, for the amount, won) deals: an open deal's are forecasts. A deal's
    lead is the mapped lead column, else the leads import's converted-opportunity link,
    else a derived id (`deal-<opportunity id>`) whose closer-fit row is built from the
    deal's account at training.
    """
    report = ImportReport(source=path.name, table="deals", counted="won")
    used, mapping = _read(path, mapping, report)
    rows = _Rows(used, mapping, report)
    for name in mapping.columns:
        _clean(rows, name, path)
    _require(rows)
    out_ = rows.out
    assert mapping.outcome is not None  # a deals mapping always has one
    stage = used[mapping.outcome.column].str.lower()
    won, lost = stage.isin(mapping.outcome.won), stage.isin(mapping.outcome.lost)
    if mapping.outcome.open is not None:
        known = won | lost | stage.isin(mapping.outcome.open)
        unexpected = sorted(set(used[mapping.outcome.column][~known].fillna("(blank)")))
        if unexpected:
            shown = ", ".join(repr(v) for v in unexpected[:5])
            raise ValueError(
                f"{path}: stage column '{mapping.outcome.column}' has values outside won, lost "
                f"and open: {shown}; list them in {mapping.where('outcome')}"
            )
    out_["won"] = (
        pd.Series(pd.NA, index=used.index, dtype="boolean").mask(won, True).mask(lost, False)
    )
    decided = won | lost
    closed = out_["closed_at"] if "closed_at" in out_ else pd.Series(pd.NaT, index=used.index)
    column = mapping.columns.get("closed_at", "(no close date column)")
    rows.reject(decided & closed.isna(), f"closed deal without a close date ({column})")
    opened = out_["opened_at"]
    rows.reject(
        decided & (closed.dt.normalize() < opened.dt.normalize()),
        f"closed ({column}) before it was created ({mapping.columns['opened_at']})",
    )
    # A date-only close on the day of creation reads as before it: it closed then.
    out_["closed_at"] = closed.where(closed >= opened, opened).where(decided)
    if "value" in out_:
        out_["value"] = out_["value"].where(won)
    links = _deal_leads(out_, mapping, out, report)
    kept = rows.kept()
    deals = out_[kept].reset_index(drop=True)
    links = links[kept.to_numpy()].reset_index(drop=True)
    _stop_if_empty(path, report, deals)
    report.converted = int(deals["won"].fillna(False).sum())
    decided_count = int(deals["won"].notna().sum())
    report.notes.append(
        f"{decided_count:,} decided deals ({report.converted:,} won), "
        f"{len(deals) - decided_count:,} open; stages won: {', '.join(mapping.outcome.won)}; "
        f"lost: {', '.join(mapping.outcome.lost)}; any other stage is open"
    )
    _note_links(links, deals, out, report, mapping)
    detail = pd.DataFrame(
        {
            "opportunity_id": deals["opportunity_id"],
            "account_id": deals.get("account_id"),
            "source": deals.get("source"),
            "channel": mapping.channel,
            "lead_link": links,
        }
    )
    _write_all(
        {
            "opportunities": _arrow(deals, arrow_schema(Opportunity)),
            "deal_links": _arrow(detail, DEAL_LINKS),
        },
        out,
    )
    return report


def _deal_leads(
    deals: pd.DataFrame, mapping: RecordMapping, out: Path, report: ImportReport
) -> pd.Series:
    """Fill `deals.lead_id` (column, leads export link, or derived); how each was found."""
    how = pd.Series(LINK_NONE, index=deals.index, dtype=object)
    lead = (
        deals["lead_id"] if "lead_id" in deals else pd.Series(None, index=deals.index, dtype=object)
    )
    how[lead.notna()] = LINK_COLUMN
    converted = _read_if_there(out, "lead_links")
    if converted is not None:
        by_deal = converted.drop_duplicates("opportunity_id").set_index("opportunity_id")["lead_id"]
        from_leads = deals["opportunity_id"].map(by_deal)
        fill = lead.isna() & from_leads.notna()
        lead = lead.where(~fill, from_leads)
        how[fill] = LINK_LEADS
    derived = "deal-" + deals["opportunity_id"].astype(str)
    deals["lead_id"] = lead.where(lead.notna(), derived)
    return how


def _note_links(
    links: pd.Series, deals: pd.DataFrame, out: Path, report: ImportReport, mapping: RecordMapping
) -> None:
    counts = links.value_counts()
    by_column, by_leads = int(counts.get(LINK_COLUMN, 0)), int(counts.get(LINK_LEADS, 0))
    leads = _read_if_there(out, "leads")
    linked = by_column + by_leads
    if leads is not None:
        linked = int(deals["lead_id"].isin(leads["lead_id"]).sum())
    built = len(deals) - linked
    lead_column = mapping.columns.get("lead_id")
    parts = []
    if lead_column:
        parts.append(f"{by_column:,} name their lead in {lead_column}")
    if by_leads:
        parts.append(f"{by_leads:,} are linked by the leads export's converted-opportunity column")
    where = "; ".join(parts) or "no deal names its lead"
    report.notes.append(
        f"{linked:,} deal(s) link to an imported lead ({where}); {built:,} do not: their "
        "closer-fit rows are built from their account (industry, size, region) and the deal's "
        "source"
    )
    if leads is None:
        report.warnings.append(
            f"no leads imported into {out} yet: deals link to leads imported later through "
            "the leads' converted-opportunity column, at training; without leads every deal "
            "is learnt from its account"
        )
    if "account_id" not in deals or deals["account_id"].isna().all():
        report.warnings.append(
            "no deal names its account: a deal without an imported lead is learnt from its "
            "source alone"
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
    used, mapping = _read(path, mapping, report)
    rows = _Rows(used, mapping, report)
    for name in mapping.columns:
        _clean(rows, name, path)
    _require(rows)
    accounts = rows.out[rows.kept()].reset_index(drop=True)
    _stop_if_empty(path, report, accounts)
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
    _write_all(
        {
            "accounts": _arrow(accounts, ACCOUNTS),
            "customers": _arrow(customers, arrow_schema(Customer)),
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
    deals = _read_if_there(out, "opportunities")
    links = _read_if_there(out, "deal_links")
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


def import_users(path: Path, mapping: RecordMapping, out: Path) -> ImportReport:
    """Import a users (owners) export into `out`/reps.parquet, the roster.

    The role comes from the mapped role column through its value map; where that says
    nothing, it is inferred: owners of deals are closers, owners of customer accounts
    account managers. Users with no role either way are left out. Capacity, when not
    given, is the role's `DEFAULT_CAPACITY`.
    """
    report = ImportReport(source=path.name, table="users", counted="")
    used, mapping = _read(path, mapping, report)
    rows = _Rows(used, mapping, report)
    for name in mapping.columns:
        _clean(rows, name, path)
    _require(rows)
    users = rows.out[rows.kept()].reset_index(drop=True)
    _stop_if_empty(path, report, users)
    given = users.get("role", pd.Series(None, index=users.index, dtype=object))
    inferred = _inferred_roles(users["rep_id"], out, report)
    users["role"] = given.where(given.notna(), inferred)
    by_column, by_owning = int(given.notna().sum()), int((given.isna() & inferred.notna()).sum())
    role_column = mapping.columns.get("role")
    report.notes.append(
        (f"role: {by_column:,} from {role_column}; " if role_column else "role: no role column; ")
        + f"{by_owning:,} inferred (owners of deals are closers, owners of customer accounts "
        "account managers)"
    )
    nobody = users["role"].isna()
    if nobody.any():
        report.warnings.append(
            f"{int(nobody.sum()):,} user(s) have no role and own no deal or customer account: "
            "left out of the roster"
        )
    users = users[~nobody].reset_index(drop=True)
    users["name"] = (
        users["name"].where(users["name"].notna(), users["rep_id"])
        if "name" in users
        else users["rep_id"]
    )
    capacity = users.get("capacity", pd.Series(pd.NA, index=users.index, dtype="Int64"))
    unknown = capacity.isna()
    users["capacity"] = capacity.where(~unknown, users["role"].map(DEFAULT_CAPACITY)).astype(
        "int64"
    )
    if unknown.any():
        defaults = ", ".join(f"{role} {n}" for role, n in DEFAULT_CAPACITY.items())
        report.warnings.append(
            f"capacity unknown for {int(unknown.sum()):,} user(s): the role's default is used "
            f"({defaults}); map a capacity column to set it"
        )
    active = users.get("active", pd.Series(pd.NA, index=users.index, dtype="boolean"))
    users["active"] = active.fillna(True).astype(bool)
    users["industries"] = [[] for _ in range(len(users))]
    users["segment"] = None
    report.rows_imported = len(users)
    counts = users["role"].value_counts()
    report.notes.append("roster: " + ", ".join(f"{n:,} {role}" for role, n in counts.items()))
    _write_all({"reps": _arrow(users, arrow_schema(Rep))}, out)
    return report


def _inferred_roles(rep_ids: pd.Series, out: Path, report: ImportReport) -> pd.Series:
    """closer for owners of deals, account_manager for owners of customers (the more
    records wins for someone who owns both); NA for the others."""
    deals = _read_if_there(out, "opportunities")
    customers = _read_if_there(out, "customers")
    if deals is None and customers is None:
        report.warnings.append(
            f"no deals or accounts imported into {out} yet: roles can only come from a role "
            "column; import deals and accounts first"
        )
    closing = deals["closer_id"].value_counts() if deals is not None else pd.Series(dtype=int)
    managing = (
        customers["account_manager_id"].value_counts()
        if customers is not None
        else pd.Series(dtype=int)
    )
    closes = rep_ids.map(closing).fillna(0)
    manages = rep_ids.map(managing).fillna(0)
    role = pd.Series(pd.NA, index=rep_ids.index, dtype=object)
    role[closes > 0] = Role.closer.value
    role[(manages > 0) & (manages > closes)] = Role.account_manager.value
    both = int(((closes > 0) & (manages > 0)).sum())
    if both:
        report.notes.append(
            f"{both:,} user(s) own both deals and customer accounts: each gets the role it "
            "owns more records of"
        )
    for what, owners in (("deal", closing), ("customer account", managing)):
        missing = sorted(set(owners.index) - set(rep_ids))
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5])
            report.warnings.append(
                f"{len(missing):,} {what} owner(s) are not in the users export ({shown}): the "
                "fit models know nothing of them but their id"
            )
    return role
