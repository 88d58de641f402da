"""Import a CRM export (CSV) into the contract `leads` table and the outcomes.

Reads the file with the mapping, cleans every mapped column, rejects the rows
the contract cannot hold, and writes `leads.parquet` (contract columns plus
the mapped extra columns) and `outcomes.parquet` (lead_id, converted,
created_at); converted is 1, 0, or NA for a lead whose outcome is not known yet
(still open, or too young to judge). Bad input stops the import with a message
naming the file and what to fix, and leaves `out` as it was.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
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
from data.importing.dates import WITHOUT_DATES, dates_usable
from data.importing.import_report import ImportReport
from data.importing.mapping import Mapping
from data.importing.reading import check_columns, read_joined
from data.importing.required import creation_dates, lead_ids, repeated_ids

EXTRA_TYPES = {
    "categorical": pa.string(),
    "numeric": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us"),
}
LEAD_LINKS = pa.schema([("lead_id", pa.string()), ("opportunity_id", pa.string())])
"""lead_links.parquet: the deal each imported lead became, when the export says."""
METADATA_KEY = b"leadscore.import"
"""Parquet schema metadata of an imported leads table: its extra columns, what was dropped,
and where lead_id and created_at came from (`{"source": column or null, "real": bool}`)."""


class NothingImportedError(ValueError):
    """Every row was rejected; the report says why, and nothing was written."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report


def _without_late(mapping: Mapping, late: list[str], report: ImportReport) -> Mapping:
    """The mapping less the columns known only after contact, as features.

    The outcome's own columns (the outcome, the open status) are read for the
    outcome, never as features: they say how a lead ended, so a model reading
    them would learn the answer.
    """
    outcome = mapping.outcome.columns
    features = {*mapping.columns.values(), *mapping.extra}
    late_features = [c for c in late if c in mapping.used_columns() and c not in outcome]
    deciding = [c for c in outcome if c in features]
    dropped = late_features + deciding
    if not dropped:
        return mapping
    fields = [f for f, c in mapping.columns.items() if c in dropped]
    if "lead_id" in fields or (mapping.created_at is not None and mapping.created_at in dropped):
        key = "post_contact" if late_features else "outcome"
        raise ValueError(
            f"{mapping.where(key)}: lead_id and created_at cannot be post-contact or say "
            "the outcome"
        )
    for column in late_features:
        report.notes.append(
            f"{column}: known only after first contact (post_contact): not imported, "
            "so no model can use it"
        )
    for column in deciding:
        report.notes.append(
            f"{column}: says the outcome ({mapping.used_columns()[column]}): not imported "
            "as a feature, so no model can use it"
        )
    report.dropped += dropped
    trimmed = mapping.model_copy(
        update={
            "columns": {f: c for f, c in mapping.columns.items() if c not in dropped},
            "extra": {c: e for c, e in mapping.extra.items() if c not in dropped},
        }
    )
    return mapping.keep_origin(trimmed)


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
    frame: pd.DataFrame,
    mapping: Mapping,
    report: ImportReport,
    path: Path,
    now: datetime | None = None,
) -> tuple[pd.DataFrame, dict[str, dict[str, object]]]:
    """The leads frame (contract + extra columns + `converted`), rejected rows removed, and
    where its lead_id and created_at came from (`now` stamps the rows of an export without
    creation dates)."""
    frame = frame.reset_index(drop=True)
    used, report.blanks = blank_out(frame[list(mapping.used_columns())], mapping.blanks)
    out = pd.DataFrame(index=used.index)
    reasons = pd.Series("", index=used.index)

    def take(name: str, column: str, cleaned: Cleaned) -> None:
        out[name] = cleaned.values
        report.errors += cleaned.errors
        report.notes += cleaned.notes
        report.summarize(column, name, cleaned.values)

    ids, id_source = lead_ids(used, mapping, report)
    if mapping.id_column is None:
        take("lead_id", "(line numbers)", Cleaned(ids))
    for name, column in mapping.columns.items():
        take(name, column, _clean_field(name, used[column], column))
        if base_type(Lead.model_fields[name].annotation) in (int, float):
            reasons[out[name].fillna(0) < 0] += f"negative number in {column}; "
    stamp = now if now is not None else datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    dates, date_source = creation_dates(used, mapping, report, path, stamp)
    take("created_at", mapping.created_at or "(import time)", dates)
    if mapping.created_at is not None:
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
    required = {
        "lead_id": mapping.id_column,
        "created_at": mapping.created_at,
        "channel": mapping.channel_column,
    }
    for name, given in required.items():
        if given is not None:
            reasons[used[given].isna()] += f"missing required field {name} ({given}); "
    repeats = repeated_ids(out["lead_id"])
    repeat = repeats != ""
    reasons[repeat] += repeats[repeat] + "; "
    if repeat.any():
        report.warnings.append(
            f"{int(repeat.sum()):,} row(s) repeat a lead_id of an earlier line: only the "
            "first row of each id is imported (see the rejected rows)"
        )
    for column, extra in mapping.extra.items():
        cleaner = {"numeric": clean_number, "boolean": clean_boolean, "timestamp": clean_date}.get(
            extra.kind
        )
        cleaned = cleaner(used[column], column) if cleaner else Cleaned(used[column])
        if cleaned.refused:
            raise ValueError(f"{path}: {cleaned.refused} ({mapping.where(f'extra.{column}')})")
        take(column, column, cleaned)
    out["converted"] = _converted(used, mapping, path)
    rejected = reasons != ""
    for position in rejected.to_numpy().nonzero()[0]:
        report.reject(int(position), reasons.iloc[position].rstrip("; "))
    return out[~rejected], {"lead_id": id_source, "created_at": date_source}


def _converted(used: pd.DataFrame, mapping: Mapping, path: Path) -> pd.Series:
    """1 converted, 0 not, NA for a lead still open (a converted one stays converted)."""
    outcome = mapping.outcome
    raw = used[outcome.column]
    open_values = outcome.open.values if outcome.open is not None else []
    if outcome.converted_if_filled:
        converted = raw.notna()
    else:
        assert outcome.converted is not None  # the mapping allows no third way
        text = raw.str.lower()
        if outcome.not_converted is not None:
            on_outcome = open_values if outcome.open_column == outcome.column else []
            known = text.isin(outcome.converted + outcome.not_converted + on_outcome)
            unexpected = sorted(set(raw[~known].fillna("(blank)")))
            if unexpected:
                shown = ", ".join(repr(v) for v in unexpected[:5])
                also = ", not_converted and open" if on_outcome else " and not_converted"
                raise ValueError(
                    f"{path}: outcome column '{outcome.column}' has values outside "
                    f"converted{also}: {shown}; list them in {mapping.where('outcome')}"
                )
        converted = text.isin(outcome.converted)
    labels = pd.Series(converted.astype("int64"), index=raw.index, dtype="Int64")
    if outcome.open_column is None:
        return labels
    still_open = used[outcome.open_column].str.lower().isin(open_values) & ~converted
    return labels.mask(still_open)


def _creation_dates_usable(
    leads: pd.DataFrame, mapping: Mapping, origins: dict[str, dict[str, object]]
) -> tuple[bool, str]:
    """Whether the leads' creation dates order them in time, and why (not)."""
    if not origins["created_at"]["real"]:
        return False, "the export has no creation dates"
    usable, why = dates_usable(leads["created_at"])
    return usable, f"created_at ({mapping.created_at}): {why}"


def _leave_undecided(
    leads: pd.DataFrame, mapping: Mapping, dates: tuple[bool, str], report: ImportReport
) -> pd.Series:
    """`converted` without the outcomes not known yet, counted in the report: the open
    leads (NA already) and, by `decided_after_days`, those too young to judge.

    A young lead is undecided even when converted: keeping the young leads that
    converted quickly but not the others would inflate the newest period's
    conversion rate, the period training validates on.
    """
    converted = leads["converted"]
    still_open = converted.isna()
    outcome = mapping.outcome
    if outcome.open is not None and not still_open.any():
        report.warnings.append(
            f"{mapping.where('outcome.open')}: no unconverted lead has one of the open values "
            f"in {outcome.open_column}; check them against the export"
        )
    young = pd.Series(False, index=leads.index)
    days = outcome.decided_after_days
    dated, why = dates
    if days is not None and dated:
        created = pd.to_datetime(leads["created_at"])
        young = created > created.max() - pd.Timedelta(days=days)
    elif days is not None:
        report.warnings.append(
            f"{mapping.where('outcome.decided_after_days')} ({days}) ignored: {why}, so no "
            "lead can be told too young to judge"
        )
    too_young = young & ~still_open
    decided = converted.mask(too_young)
    report.count_outcomes(decided, still_open, too_young)
    return decided


def import_export(
    input: Path, mapping: Mapping, out: Path, now: datetime | None = None
) -> ImportReport:
    """Import `input` into `out`/leads.parquet and `out`/outcomes.parquet.

    `now` (naive UTC, default the current time) is the creation time given to
    every lead of an export that has no creation dates.
    """
    report = ImportReport(source=input.name)
    frame, late = read_joined(input, mapping)
    check_columns(input, frame, mapping)
    mapping = _without_late(mapping, late, report)
    report.rows_read = len(frame)
    leads, origins = clean_export(frame, mapping, report, input, now)
    report.rows_imported = len(leads)
    if leads.empty:
        raise NothingImportedError(nothing_imported(input, report), report)
    dates = _creation_dates_usable(leads, mapping, origins)
    if origins["created_at"]["real"] and not dates[0]:
        report.warnings.append(f"{dates[1]}; {WITHOUT_DATES}")
    leads["converted"] = _leave_undecided(leads, mapping, dates, report)
    contract = arrow_schema(Lead)
    extras = [pa.field(c, EXTRA_TYPES[e.kind]) for c, e in mapping.extra.items()]
    described = {
        "source": input.name,
        "mapping": mapping.origin,
        "extra": {c: e.kind for c, e in mapping.extra.items()},
        "post_contact_dropped": report.dropped,
        "outcomes": report.outcome_counts(),
        **origins,
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
    if (link := _deal_link(frame, leads, mapping, report)) is not None:
        tables["lead_links"] = link
    write_all(tables, out)
    if "lead_links" not in tables:
        # Links of an earlier leads import would point deals at leads no longer there.
        (out / "lead_links.parquet").unlink(missing_ok=True)
    return report


def _deal_link(
    frame: pd.DataFrame, leads: pd.DataFrame, mapping: Mapping, report: ImportReport
) -> pa.Table | None:
    """(lead_id, opportunity_id) of the leads that became deals, from the mapping's
    converted-opportunity column: how deals imported later find their lead."""
    column = mapping.converted_opportunity
    if column is None:
        return None
    if column not in frame.columns:
        report.notes.append(
            f"{column}: not in the file (converted_opportunity): deals imported later link to "
            "their lead only by a lead column of their own"
        )
        return None
    raw = frame[column].reset_index(drop=True).loc[leads.index]
    linked = pd.DataFrame({"lead_id": leads["lead_id"], column: raw})
    ids = linked[column].str.strip().replace("", None)
    pairs = pd.DataFrame({"lead_id": linked["lead_id"], "opportunity_id": ids}).dropna()
    links = pa.Table.from_pandas(
        pairs.reset_index(drop=True), schema=LEAD_LINKS, preserve_index=False
    )
    report.notes.append(
        f"{column}: {links.num_rows:,} lead(s) name the deal they became: deals imported "
        "later link to them (a link, never a feature)"
    )
    return links


def nothing_imported(path: Path, report: ImportReport) -> str:
    """'none of the N rows could be imported', with the commonest reasons and their first line."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for row in report.rejected:
        for reason in row.reason.split("; "):
            counts[reason] += 1
            first.setdefault(reason, row.line)
    reasons = "; ".join(
        f"{reason} ({count:,} rows, first on line {first[reason]})"
        for reason, count in counts.most_common(3)
    )
    return f"{path}: none of the {report.rows_read:,} rows could be imported: {reasons}"


def write_all(tables: dict[str, pa.Table], out: Path) -> None:
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
