"""Reading a CRM export (CSV) and the exports joined onto it, as text columns.

Errors name the file and what to fix in the mapping, because the person
reading them is editing the mapping or re-exporting the file.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from data.importing.mapping import Mapping
from data.importing.record_mapping import RecordMapping


def read_export(path: Path, mapping: Mapping | RecordMapping) -> pd.DataFrame:
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


def check_columns(path: Path, frame: pd.DataFrame, mapping: Mapping | RecordMapping) -> None:
    used = mapping.used_columns()
    missing = [column for column in used if column not in frame.columns]
    if missing:
        fixes = "; ".join(f"'{c}' ({mapping.where(used[c])})" for c in missing)
        raise ValueError(f"{path}: column(s) not in the file: {fixes}")
