"""What the deals, accounts and users imports share: reading a record export with its
`RecordMapping`, cleaning the mapped columns by kind with the lead import's cleaners,
and rejecting the rows the contract cannot hold (by line, with the reason).

Each import writes into the same folder as the leads import; what one table needs from
another comes from the tables already there, so the order is leads, deals, accounts,
users, and each import says what it found and what it had to assume.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from data.contract import Region, Role
from data.importing import cleaning
from data.importing.import_report import ImportReport
from data.importing.importer import NothingImportedError, nothing_imported
from data.importing.reading import check_columns, read_export
from data.importing.record_mapping import FIELDS, OUTCOME_FIELDS, REQUIRED, RecordMapping
from data.importing.required import repeated_ids
from data.tables import table_path

WRITES = {"deals": "opportunities", "accounts": "customers", "users": "reps"}
"""The contract table each import writes."""
LISTED_IDS = frozenset({"lead_id", "account_id"})


class RecordRows:
    """The cleaned fields of one export and the reasons each row is rejected."""

    def __init__(self, used: pd.DataFrame, mapping: RecordMapping, report: ImportReport) -> None:
        self.used, self.mapping, self.report = used, mapping, report
        self.out = pd.DataFrame(index=used.index)
        self.reasons = pd.Series("", index=used.index)

    def take(self, name: str, cleaned: cleaning.Cleaned) -> pd.Series:
        column = self.mapping.columns.get(name, "(derived)")
        self.out[name] = cleaned.values
        self.report.errors += cleaned.errors
        self.report.notes += cleaned.notes
        self.report.summarize(column, name, cleaned.values)
        return cleaned.values

    def reject(self, rows: pd.Series, reason: str) -> None:
        self.reasons[rows] += reason + "; "

    def imported(self, path: Path) -> pd.DataFrame:
        """The rows that stay; stops the import if there are none."""
        frame = self.out[self.kept()].reset_index(drop=True)
        stop_if_empty(path, self.report, frame)
        return frame

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
    used, report.blanks = cleaning.blank_out(
        frame.reset_index(drop=True)[list(mapping.used_columns())], mapping.blanks
    )
    return used, mapping


def _first_of_list(raw: pd.Series) -> pd.Series:
    """The first id of a list ("123;456" or "123, 456"), as association columns hold."""
    return raw.str.split(r"\s*[;,]\s*", regex=True).str[0].replace("", None)


def _clean(rows: RecordRows, name: str, path: Path) -> pd.Series:
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
        return rows.take(name, cleaning.Cleaned(_first_of_list(raw) if listed else raw))
    if kind == "date":
        cleaned = cleaning.clean_date(raw, column)
        if cleaned.refused:
            raise ValueError(f"{path}: {cleaned.refused} ({mapping.where(f'columns.{name}')})")
        return rows.take(name, cleaned)
    if kind in ("number", "count"):
        cleaned = cleaning.clean_number(raw, column)
        negative = cleaned.values.notna() & (cleaned.values < 0)
        cleaned.errors += cleaning.errors_where(raw, negative, column, "negative number")
        cleaned.values = cleaned.values.mask(negative)
        if kind == "count":
            fraction = cleaned.values.notna() & (cleaned.values % 1 != 0)
            cleaned.errors += cleaning.errors_where(raw, fraction, column, "not a whole number")
            cleaned.values = cleaned.values.mask(fraction).round().astype("Int64")
        return rows.take(name, cleaned)
    if kind == "boolean":
        return rows.take(name, cleaning.clean_boolean(raw, column))
    if kind in ("region", "role"):
        text = raw.str.lower().str.replace(r"[\s-]+", "_", regex=True)
        allowed = {r.value for r in (Region if kind == "region" else Role)}
        bad = text.notna() & ~text.isin(allowed)
        unknown = sorted(set(raw[bad]))
        cleaned = cleaning.Cleaned(text.mask(bad))
        if unknown:
            shown = ", ".join(repr(v) for v in unknown[:5])
            cleaned.notes.append(
                f"{column}: {int(bad.sum()):,} value(s) not a {kind} ({shown}): left unknown; "
                f"map them under {mapping.where('values')}.{name}"
            )
        return rows.take(name, cleaned)
    return rows.take(name, cleaning.Cleaned(raw))


def _own_id(mapping: RecordMapping) -> str:
    return REQUIRED[mapping.table][0]


def _require(rows: RecordRows) -> None:
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


def stop_if_empty(path: Path, report: ImportReport, kept: pd.DataFrame) -> None:
    report.rows_imported = len(kept)
    if kept.empty:
        raise NothingImportedError(nothing_imported(path, report), report)


def as_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    for name in schema.names:
        if name not in frame:
            frame[name] = None
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def read_if_there(folder: Path, name: str) -> pd.DataFrame | None:
    path = table_path(folder, name)
    return pd.read_parquet(path) if path.exists() else None


def read_records(path: Path, mapping: RecordMapping, report: ImportReport) -> RecordRows:
    """The export's rows cleaned field by field, those missing a required field or
    repeating an id already marked for rejection."""
    used, mapping = _read(path, mapping, report)
    rows = RecordRows(used, mapping, report)
    for name in mapping.columns:
        _clean(rows, name, path)
    _require(rows)
    return rows
