"""Vectorised cleaners for CRM exports that report what they did.

CRM exports mix placeholders, locale-specific numbers and day/month orders.
A cleaner never guesses: a value it cannot read for certain becomes missing
with a reason, and a column it cannot read at all is refused with a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TRUE = {"yes", "true", "1", "y"}
FALSE = {"no", "false", "0", "n"}


@dataclass(frozen=True)
class CellError:
    """One value a cleaner could not read; `row` is the frame's 0-based position."""

    row: int
    column: str
    value: str
    reason: str


@dataclass
class Cleaned:
    """A cleaned column with the values it had to drop and notes about the column."""

    values: pd.Series
    errors: list[CellError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: str | None = None


def errors_where(raw: pd.Series, bad: pd.Series, column: str, reason: str) -> list[CellError]:
    positions = np.flatnonzero(bad.to_numpy(dtype=bool))
    values = raw.to_numpy()
    return [CellError(int(i), column, str(values[i]), reason) for i in positions]


def blank_out(frame: pd.DataFrame, blanks: list[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """Placeholder values ("N/A", "Select", ...) become missing; counts per column."""
    stripped = frame.apply(lambda s: s.str.strip())
    is_blank = stripped.isin(blanks) | stripped.isna()
    counts = {str(c): int(n) for c, n in is_blank.sum().items() if n}
    return stripped.mask(is_blank), counts


def clean_boolean(raw: pd.Series, column: str) -> Cleaned:
    """Yes/No, true/false, 1/0, Y/N in any case; anything else is an error."""
    lower = raw.str.lower()
    values = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    values[lower.isin(TRUE)] = True
    values[lower.isin(FALSE)] = False
    bad = raw.notna() & values.isna()
    return Cleaned(values, errors_where(raw, bad, column, "not a yes/no value"))


_CURRENCY = r"[\s\u00a0\u202f$€£¥]|USD|EUR|GBP"
_COMMA_GROUPS = r"^-?\d{1,3}(,\d{3})+$"  # "1,200": thousands, or a decimal comma
_DOT_GROUPS = r"^-?\d{1,3}(\.\d{3})+$"  # "1.200": thousands, or a decimal point
_US = r"^-?(\d{1,3}(,\d{3})+\.\d+|\d+\.(\d{1,2}|\d{4,})|\d{1,3}(,\d{3}){2,})$"
_EU = r"^-?(\d{1,3}(\.\d{3})+,\d+|\d+,(\d{1,2}|\d{4,})|\d{1,3}(\.\d{3}){2,})$"
_PLAIN = r"^-?\d+$"


def clean_number(raw: pd.Series, column: str) -> Cleaned:
    """Numbers with currency signs, spaces and thousands separators of either locale.

    "1,200" and "1.200" read the same way as the rest of the column; a column
    that mixes the two (or shows both locales) leaves them missing with a reason.
    """
    text = raw.str.replace(_CURRENCY, "", regex=True)
    us = text.str.match(_US, na=False)
    eu = text.str.match(_EU, na=False)
    commas = text.str.match(_COMMA_GROUPS, na=False)
    dots = text.str.match(_DOT_GROUPS, na=False)
    plain = text.str.match(_PLAIN, na=False)
    notes: list[str] = []
    errors: list[CellError] = []
    both_locales = bool(us.any() and eu.any())
    mixed = both_locales or bool(not us.any() and not eu.any() and commas.any() and dots.any())
    unsure = (us | eu | commas | dots) & mixed
    if mixed:
        notes.append(
            f"{column}: mixes '1,200' and '1.200' number styles; "
            f"{int(unsure.sum())} value(s) left missing"
        )
        errors += errors_where(raw, unsure, column, "ambiguous number style (1,200 vs 1.200)")
    european = bool(eu.any())
    numbers = pd.Series(np.nan, index=raw.index, dtype="float64")
    if european:
        as_eu = (eu | commas | dots) & ~plain
        converted = text[as_eu].str.replace(".", "", regex=False).str.replace(",", ".")
        numbers[as_eu] = pd.to_numeric(converted)
    else:
        as_us = us | commas | dots | text.str.match(r"^-?\d*\.\d+$", na=False)
        numbers[as_us] = pd.to_numeric(text[as_us].str.replace(",", "", regex=False))
    numbers[plain] = pd.to_numeric(text[plain])
    numbers[unsure] = np.nan
    bad = raw.notna() & numbers.isna() & ~unsure
    errors += errors_where(raw, bad, column, "not a number")
    return Cleaned(numbers, errors, notes)


_ISO = r"^\d{4}-\d{2}-\d{2}"
_SLASH = r"^\d{1,2}/\d{1,2}/\d{4}"
_TIMES = ("", " %H:%M", " %H:%M:%S")


def _parse(text: pd.Series, date_format: str) -> pd.Series:
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for time in _TIMES:
        parsed = parsed.fillna(pd.to_datetime(text, format=date_format + time, errors="coerce"))
    return parsed


def clean_date(raw: pd.Series, column: str) -> Cleaned:
    """ISO dates (with or without a time or zone) and MM/DD/YYYY or DD/MM/YYYY.

    The day/month order is decided for the whole column; when both orders read
    every value and disagree, the column is refused rather than guessed.
    """
    iso = raw.str.match(_ISO, na=False)
    slash = raw.str.match(_SLASH, na=False)
    values = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    parsed_iso = pd.to_datetime(raw[iso], format="ISO8601", utc=True, errors="coerce")
    values[iso] = parsed_iso.dt.tz_localize(None)
    notes: list[str] = []
    if slash.any():
        us, eu = _parse(raw[slash], "%m/%d/%Y"), _parse(raw[slash], "%d/%m/%Y")
        us_all, eu_all = bool(us.notna().all()), bool(eu.notna().all())
        if us_all and eu_all and not us.equals(eu):
            refused = (
                f"column '{column}': dates read both as MM/DD/YYYY and DD/MM/YYYY and the "
                "two disagree; convert the column to ISO (YYYY-MM-DD) and import again"
            )
            return Cleaned(values, notes=[refused], refused=refused)
        us_first = us.notna().sum() >= eu.notna().sum()
        chosen, name = (us, "MM/DD/YYYY") if us_first else (eu, "DD/MM/YYYY")
        values[slash] = chosen
        notes.append(f"{column}: slash dates read as {name}")
    bad = raw.notna() & values.isna()
    return Cleaned(values, errors_where(raw, bad, column, "unparseable date"), notes)
