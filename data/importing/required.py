"""The two fields every lead needs, `lead_id` and `created_at`, from an export that may lack them.

Many exports have no record id, some no creation date. The import then
derives what the contract needs (ids from line numbers, the import's own time
as the creation date), warns in the report, and records in the leads file's
metadata that the values are not the CRM's, so training can tell.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from data.importing.cleaning import Cleaned, clean_date
from data.importing.dates import NOT_REAL, WITHOUT_DATES
from data.importing.import_report import ImportReport, line_of
from data.importing.mapping import Mapping

ID_PATTERN = "row-<line number>"
NO_IDS = (
    "the export has no id column (lead_id was not mapped): leads get ids from their line "
    f"number ({ID_PATTERN}), stable for this file only, so scores cannot be joined back to "
    "the CRM by id"
)
EXAMPLES = 5
"""Bad values quoted in an error."""


def lead_ids(
    used: pd.DataFrame, mapping: Mapping, report: ImportReport
) -> tuple[pd.Series, dict[str, Any]]:
    """The lead ids, from the mapped column or the line numbers, and their metadata."""
    column = mapping.id_column
    if column is not None:
        return used[column], {"source": column, "real": True}
    report.warnings.append(NO_IDS)
    ids = pd.Series([f"row-{line_of(i)}" for i in range(len(used))], index=used.index)
    return ids.astype(object), {"source": None, "real": False, "pattern": ID_PATTERN}


def repeated_ids(ids: pd.Series, name: str = "lead_id") -> pd.Series:
    """For each repeat of an id, "duplicate lead_id 'X' (first on line N)"; "" elsewhere."""
    reasons = np.full(len(ids), "", dtype=object)
    repeated = np.flatnonzero((ids.notna() & ids.duplicated()).to_numpy())
    if len(repeated):
        position = pd.Series(np.arange(len(ids)), index=ids.index)
        first = position.groupby(ids.to_numpy(), dropna=True).transform("min").to_numpy()
        values = ids.to_numpy()
        reasons[repeated] = [
            f"duplicate {name} {values[i]!r} (first on line {line_of(int(first[i]))})"
            for i in repeated
        ]
    return pd.Series(reasons, index=ids.index)


def creation_dates(
    used: pd.DataFrame, mapping: Mapping, report: ImportReport, path: Path, now: datetime
) -> tuple[Cleaned, dict[str, Any]]:
    """The creation dates, from the mapped column or `now` for every row, and their metadata.

    A mapped column that mostly does not hold dates stops the import: rejecting
    most rows one by one would hide that the wrong column was mapped.
    """
    column = mapping.created_at
    if column is None:
        report.warnings.append(f"{NOT_REAL}; {WITHOUT_DATES}")
        stamped = pd.Series(pd.Timestamp(now), index=used.index, dtype="datetime64[ns]")
        return Cleaned(stamped), {"source": None, "real": False, "filled_with": now.isoformat()}
    where = mapping.where("created_at")
    dates = clean_date(used[column], column)
    if dates.refused:
        raise ValueError(f"{path}: {dates.refused} ({where})")
    _refuse_non_dates(used[column], dates.values, path, f"created_at column '{column}' ({where})")
    return dates, {"source": column, "real": True}


def _refuse_non_dates(raw: pd.Series, values: pd.Series, path: Path, named: str) -> None:
    """Stop unless at least half of the filled values read as dates."""
    filled = raw.notna().to_numpy()
    bad = filled & values.isna().to_numpy()
    fix = "map the column that holds the creation date, or write created_at: none"
    if not filled.any():
        raise ValueError(f"{path}: {named} is blank in every row; {fix}")
    if 2 * bad.sum() <= filled.sum():
        return
    shown = ", ".join(
        f"line {line_of(int(i))}: {raw.iloc[i]!r}" for i in np.flatnonzero(bad)[:EXAMPLES]
    )
    raise ValueError(
        f"{path}: {named} does not hold dates: {bad.sum():,} of {filled.sum():,} filled values "
        f"are not dates ({shown}); {fix}"
    )
