"""Import a CRM's users (owners) export into the contract `reps` table, the roster."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from data.contract import Rep, Role, arrow_schema
from data.importing.import_report import ImportReport
from data.importing.importer import write_all
from data.importing.record_import import as_arrow, read_if_there, read_records
from data.importing.record_mapping import RecordMapping

DEFAULT_CAPACITY: dict[str, int] = {
    Role.inbound_specialist.value: 400,
    Role.prospector.value: 600,
    Role.closer.value: 40,
    Role.account_manager.value: 60,
}
"""Open opportunities (closers) or accounts (account managers) a rep holds at most, when
the users export does not say: the generator's figures, a typical load."""


def import_users(path: Path, mapping: RecordMapping, out: Path) -> ImportReport:
    """Import a users (owners) export into `out`/reps.parquet, the roster.

    The role comes from the mapped role column through its value map; where that says
    nothing, it is inferred: owners of deals are closers, owners of customer accounts
    account managers. Users with no role either way are left out. Capacity, when not
    given, is the role's `DEFAULT_CAPACITY`.
    """
    report = ImportReport(source=path.name, table="users", counted="")
    rows = read_records(path, mapping, report)
    mapping = rows.mapping
    users = rows.imported(path)
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
    write_all({"reps": as_arrow(users, arrow_schema(Rep))}, out)
    return report


def _inferred_roles(rep_ids: pd.Series, out: Path, report: ImportReport) -> pd.Series:
    """closer for owners of deals, account_manager for owners of customers (the more
    records wins for someone who owns both); NA for the others."""
    deals = read_if_there(out, "opportunities")
    customers = read_if_there(out, "customers")
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
