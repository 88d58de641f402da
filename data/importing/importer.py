"""Import a CRM export (CSV) into the contract `leads` table and the outcomes.

Reads the file with the mapping, cleans every mapped column, rejects the rows
the contract cannot hold, and writes `leads.parquet` (contract columns plus
the mapped extra columns) and `outcomes.parquet` (lead_id, converted,
created_at). Bad input stops the import with a message naming the file and
what to fix, and leaves `out` as it was.
"""

from __future__ import annotations

import io
import json
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

EXTRA_TYPES = {
    "categorical": pa.string(),
    "numeric": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us"),
}
METADATA_KEY = b"leadscore.import"
"""Parquet schema metadata of an imported leads table: its extra columns and what was dropped."""


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


def read_joined(path: Path, mapping: Mapping) -> tuple[pd.DataFrame, list[str]]:
    """The export with every join applied, and the columns known only after contact."""
    frame = read_export(path, mapping)
    late = [c for c in mapping.post_contact if c in frame.columns]
    for index, join in enumerate(mapping.joins):
        where = mapping.where(f"joins.{index}")
        other_path = path.parent / join.file
        other = read_export(other_path, mapping)
        for name, side in ((path, frame), (other_path, other)):
            if join.key not in side.columns:
                raise ValueError(f"{name}: no key column '{join.key}' to join on ({where})")
        repeated = other[join.key][other[join.key].duplicated()]
        if not repeated.empty:
            raise ValueError(
                f"{other_path}: key '{join.key}' repeats (e.g. {repeated.iloc[0]!r}); a joined "
                f"file needs one row per key ({where})"
            )
        clash = [c for c in other.columns if c in frame.columns and c != join.key]
        if clash:
            raise ValueError(
                f"{other_path}: column(s) {', '.join(clash)} also in {path.name}; "
                f"rename them in one of the files ({where})"
            )
        frame = frame.merge(other, on=join.key, how="left", validate="many_to_one")
        frame[other.columns] = frame[other.columns].fillna("")
        if join.post_contact:
            late += [c for c in other.columns if c != join.key]
    return frame, late


def _check_columns(path: Path, frame: pd.DataFrame, mapping: Mapping) -> None:
    used = mapping.used_columns()
    missing = [column for column in used if column not in frame.columns]
    if missing:
        fixes = "; ".join(f"'{c}' ({mapping.where(used[c])})" for c in missing)
        raise ValueError(f"{path}: column(s) not in the file: {fixes}")


def _without_late(mapping: Mapping, late: list[str], report: ImportReport) -> Mapping:
    """The mapping less the columns known only after contact; the outcome stays (it is one)."""
    dropped = [c for c in late if c in mapping.used_columns() and c != mapping.outcome.column]
    if not dropped:
        return mapping
    fields = [f for f, c in mapping.columns.items() if c in dropped]
    if "lead_id" in fields or mapping.created_at in dropped:
        raise ValueError(
            f"{mapping.where('post_contact')}: lead_id and created_at cannot be post-contact"
        )
    for column in dropped:
        report.notes.append(
            f"{column}: known only after first contact (post_contact): not imported, "
            "so no model can use it"
        )
    report.dropped += dropped
    trimmed = mapping.model_copy(
        update={
            "columns": {f: c for f, c in mapping.columns.items() if c not in dropped},
            "extra": {c: e for c, e in mapping.extra.items() if c not in dropped},
        }
    )
    trimmed._origin, trimmed._lines = mapping._origin, mapping._lines
    return trimmed


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
        cleaner = {"numeric": clean_number, "boolean": clean_boolean, "timestamp": clean_date}.get(
            extra.kind
        )
        cleaned = cleaner(used[column], column) if cleaner else Cleaned(used[column])
        if cleaned.refused:
            raise ValueError(f"{path}: {cleaned.refused} ({mapping.where(f'extra.{column}')})")
        take(column, column, cleaned)
    out["converted"] = _converted(used[mapping.outcome.column], mapping, path)
    rejected = reasons != ""
    for position in rejected.to_numpy().nonzero()[0]:
        report.reject(int(position), reasons.iloc[position].rstrip("; "))
    return out[~rejected]


def _converted(raw: pd.Series, mapping: Mapping, path: Path) -> pd.Series:
    outcome = mapping.outcome
    if outcome.converted_if_filled:
        return raw.notna().astype("int64")
    assert outcome.converted is not None  # the mapping allows no third way
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
    frame, late = read_joined(input, mapping)
    _check_columns(input, frame, mapping)
    mapping = _without_late(mapping, late, report)
    report.rows_read = len(frame)
    leads = clean_export(frame, mapping, report, input)
    report.rows_imported = len(leads)
    report.converted = int(leads["converted"].sum())
    contract = arrow_schema(Lead)
    extras = [pa.field(c, EXTRA_TYPES[e.kind]) for c, e in mapping.extra.items()]
    described = {
        "source": input.name,
        "mapping": mapping._origin,
        "extra": {c: e.kind for c, e in mapping.extra.items()},
        "post_contact_dropped": report.dropped,
    }
    schema = pa.schema([*contract, *extras], metadata={METADATA_KEY: json.dumps(described)})
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
