"""Import a CRM export (CSV) into the contract `leads` table and the outcomes.

Reads the file with the mapping, cleans every mapped column, rejects the rows
the contract cannot hold, and writes `leads.parquet` (contract columns plus
the mapped extra columns) and `outcomes.parquet` (lead_id, converted,
created_at). Bad input stops the import with a message naming the file and
what to fix, and leaves `out` as it was.
"""

from __future__ import annotations

import io
from enum import StrEnum
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data.contract import Lead, arrow_schema, base_type
from data.importing.cleaning import (
    Cleaned,
    blank_out,
    clean_boolean,
    clean_date,
    clean_number,
    errors_where,
)
from data.importing.mapping import Mapping
from data.importing.report import ImportReport

EXTRA_TYPES = {"categorical": pa.string(), "numeric": pa.float64(), "boolean": pa.bool_()}


def read_export(path: Path, mapping: Mapping) -> pd.DataFrame:
    """The export as text columns, with errors that name the file and what to fix."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{path}: cannot read the export ({error.strerror})") from error
    try:
        text = raw.decode(mapping.source.encoding)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: not {mapping.source.encoding} text at byte offset {error.start} "
            f"(line {line}); set source.encoding in {mapping.where('source')} "
            "(e.g. cp1252 or latin-1)"
        ) from error
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=mapping.source.delimiter, dtype=str, keep_default_na=False
        )
    except pd.errors.EmptyDataError as error:
        raise ValueError(f"{path}: the file is empty (no header, no rows)") from error
    except pd.errors.ParserError as error:
        raise ValueError(f"{path}: not readable as CSV: {error}") from error
    if len(frame.columns) == 1 and len(mapping.used_columns()) > 1:
        raise ValueError(
            f"{path}: only one column found ('{frame.columns[0][:60]}') with delimiter "
            f"'{mapping.source.delimiter}', but the mapping names several; "
            f"check source.delimiter in {mapping.where('source')}"
        )
    if frame.empty:
        raise ValueError(f"{path}: no rows after the header")
    return frame


def _check_columns(path: Path, frame: pd.DataFrame, mapping: Mapping) -> None:
    used = mapping.used_columns()
    missing = [column for column in used if column not in frame.columns]
    if missing:
        fixes = "; ".join(f"'{c}' ({mapping.where(used[c])})" for c in missing)
        raise ValueError(f"{path}: column(s) not in the file: {fixes}")
    late = [column for column in used if column in mapping.post_contact]
    if late:
        raise ValueError(
            f"{path}: {', '.join(late)} known only after contact (post_contact) but mapped"
        )


def _clean_field(name: str, raw: pd.Series, column: str) -> Cleaned:
    kind = base_type(Lead.model_fields[name].annotation)
    if kind is bool:
        return clean_boolean(raw, column)
    if kind in (int, float):
        cleaned = clean_number(raw, column)
        if kind is int:
            fraction = cleaned.values.notna() & (cleaned.values % 1 != 0)
            cleaned.errors += errors_where(raw, fraction, column, "not a whole number")
            cleaned.values = cleaned.values.mask(fraction).round().astype("Int64")
        return cleaned
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        text = raw.str.lower().str.replace(r"[\s-]+", "_", regex=True)
        allowed = {member.value for member in kind}
        bad = text.notna() & ~text.isin(allowed)
        reason = f"not one of {', '.join(sorted(allowed))}"
        return Cleaned(text.mask(bad), errors_where(raw, bad, column, reason))
    return Cleaned(raw)


def clean_export(
    frame: pd.DataFrame, mapping: Mapping, report: ImportReport, path: Path
) -> pd.DataFrame:
    """The leads frame (contract + extra columns + `converted`), rejected rows removed."""
    frame = frame.reset_index(drop=True)
    used, report.blanks = blank_out(frame[list(mapping.used_columns())], mapping.blanks)
    out = pd.DataFrame(index=used.index)
    reasons = pd.Series("", index=used.index)

    def take(name: str, column: str, cleaned: Cleaned) -> None:
        out[name] = cleaned.values
        report.errors += cleaned.errors
        report.notes += cleaned.notes
        report.summarize(column, name, cleaned.values)

    for name, column in mapping.columns.items():
        take(name, column, _clean_field(name, used[column], column))
        if base_type(Lead.model_fields[name].annotation) in (int, float):
            reasons[out[name].fillna(0) < 0] += f"negative number in {column}; "
    dates = clean_date(used[mapping.created_at], mapping.created_at)
    if dates.refused:
        raise ValueError(f"{path}: {dates.refused} ({mapping.where('created_at')})")
    take("created_at", mapping.created_at, dates)
    raw_dates = used[mapping.created_at]
    reasons[raw_dates.notna() & dates.values.isna()] += (
        f"unparseable date in {mapping.created_at}; "
    )
    if mapping.channel_column is None:
        out["channel"] = mapping.channel
    else:
        channel = used[mapping.channel_column].str.lower()
        bad = channel.notna() & ~channel.isin(["inbound", "outbound"])
        reasons[bad] += f"bad channel in {mapping.channel_column} (inbound or outbound); "
        take("channel", mapping.channel_column, Cleaned(channel.mask(bad)))
    required = {"lead_id": mapping.columns["lead_id"], "created_at": mapping.created_at}
    if mapping.channel_column is not None:
        required["channel"] = mapping.channel_column
    for name, column in required.items():
        reasons[used[column].isna()] += f"missing required field {name} ({column}); "
    reasons[out["lead_id"].notna() & out["lead_id"].duplicated()] += "duplicate lead_id; "
    for column, extra in mapping.extra.items():
        cleaner = {"numeric": clean_number, "boolean": clean_boolean}.get(extra.kind)
        take(column, column, cleaner(used[column], column) if cleaner else Cleaned(used[column]))
    out["converted"] = _converted(used[mapping.outcome.column], mapping, path)
    rejected = reasons != ""
    for position in rejected.to_numpy().nonzero()[0]:
        report.reject(int(position), reasons.iloc[position].rstrip("; "))
    return out[~rejected]


def _converted(raw: pd.Series, mapping: Mapping, path: Path) -> pd.Series:
    outcome = mapping.outcome
    text = raw.str.lower()
    if outcome.not_converted is not None:
        known = text.isin(outcome.converted + outcome.not_converted)
        unexpected = sorted(set(raw[~known].fillna("(blank)")))
        if unexpected:
            shown = ", ".join(repr(v) for v in unexpected[:5])
            raise ValueError(
                f"{path}: outcome column '{outcome.column}' has values outside converted and "
                f"not_converted: {shown}; list them in {mapping.where('outcome')}"
            )
    return text.isin(outcome.converted).astype("int64")


def import_export(input: Path, mapping: Mapping, out: Path) -> ImportReport:
    """Import `input` into `out`/leads.parquet and `out`/outcomes.parquet."""
    report = ImportReport(source=input.name)
    frame = read_export(input, mapping)
    _check_columns(input, frame, mapping)
    report.rows_read = len(frame)
    leads = clean_export(frame, mapping, report, input)
    report.rows_imported = len(leads)
    report.converted = int(leads["converted"].sum())
    contract = arrow_schema(Lead)
    extras = [pa.field(c, EXTRA_TYPES[e.kind]) for c, e in mapping.extra.items()]
    schema = pa.schema([*contract, *extras])
    for name in contract.names:
        if name not in leads:
            leads[name] = None
    tables = {
        "leads": pa.Table.from_pandas(leads[schema.names], schema=schema, preserve_index=False),
        "outcomes": pa.Table.from_pandas(
            leads[["lead_id", "converted", "created_at"]], preserve_index=False
        ),
    }
    _write_all(tables, out)
    return report


def _write_all(tables: dict[str, pa.Table], out: Path) -> None:
    """Write every table under a temporary name, then rename them all, or leave nothing."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    temporary = {name: out / f".{name}.parquet.importing" for name in tables}
    try:
        for name, table in tables.items():
            pq.write_table(table, temporary[name])
    except BaseException:
        for path in temporary.values():
            path.unlink(missing_ok=True)
        if created:
            out.rmdir()
        raise
    for name, path in temporary.items():
        path.replace(out / f"{name}.parquet")
