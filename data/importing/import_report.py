"""The validation report of an import: what was read, cleaned and rejected.

Someone importing their CRM needs to see which rows did not make it and why,
by the line number their spreadsheet shows, before trusting a model trained on
the rest.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd
from rich.console import Group
from rich.markup import escape
from rich.table import Table

from data.importing.cleaning import CellError

FIRST_DATA_LINE = 2
"""Line 1 of the file is the header. Lines are counted as records, so a quoted
value spanning several lines shifts later numbers."""


def line_of(row: int) -> int:
    """The 1-based file line of the frame's 0-based row."""
    return row + FIRST_DATA_LINE


@dataclass(frozen=True)
class ColumnSummary:
    column: str
    kind: str
    missing_share: float
    distinct: int
    errors: int


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str


@dataclass
class ImportReport:
    """Everything the importer noticed, for the CLI table and for tests."""

    source: str
    table: str = "leads"
    counted: str = "converted"
    """What `converted` counts in this table (won deals, customers), or "" for nothing."""
    rows_read: int = 0
    rows_imported: int = 0
    converted: int = 0
    not_converted: int = 0
    still_open: int = 0
    """Leads the open column shows as still being worked: no outcome yet."""
    too_young: int = 0
    """Leads created too recently to judge (`decided_after_days`), and not open."""
    columns: list[ColumnSummary] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blanks: dict[str, int] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    """Mapped columns left out because they are known only after first contact."""
    warnings: list[str] = field(default_factory=list)
    """What makes the imported data weaker than it looks (no dates, no ids, ...)."""

    def summarize(self, column: str, kind: str, values: pd.Series) -> None:
        """Add a column's missing share, distinct values and error count."""
        bad = sum(1 for e in self.errors if e.column == column)
        share = float(values.isna().mean()) if len(values) else 0.0
        self.columns.append(
            ColumnSummary(column, kind, share, int(values.nunique(dropna=True)), bad)
        )

    def reject(self, row: int, reason: str) -> None:
        """Record that the frame's 0-based `row` was left out, and why."""
        self.rejected.append(RejectedRow(line_of(row), reason))

    @property
    def undecided(self) -> int:
        """Imported leads without an outcome yet, which training leaves out."""
        return self.still_open + self.too_young

    def count_outcomes(
        self, converted: pd.Series, still_open: pd.Series, too_young: pd.Series
    ) -> None:
        """Count the imported leads by outcome: converted, not, open or too young."""
        self.converted = int((converted == 1).sum())
        self.not_converted = int((converted == 0).sum())
        self.still_open = int(still_open.sum())
        self.too_young = int(too_young.sum())

    def outcome_counts(self) -> dict[str, int]:
        """The outcome counts, as the leads file's metadata keeps them."""
        return {
            "converted": self.converted,
            "not_converted": self.not_converted,
            "open": self.still_open,
            "too_young": self.too_young,
        }

    def outcome_line(self) -> str:
        """'120 converted, 800 not converted, 80 undecided (50 open, 30 too young): ...'."""
        line = f"{self.converted:,} converted, {self.not_converted:,} not converted"
        if self.undecided:
            line += (
                f", {self.undecided:,} undecided ({self.still_open:,} open, "
                f"{self.too_young:,} too young): training leaves them out"
            )
        return line


def report_table(report: ImportReport, max_rows: int = 20) -> Group:
    """The report as rich tables: one row per column, then the first rejected rows."""
    counted = f", {report.converted:,} {report.counted}" if report.counted else ""
    columns = Table(
        title=f"{report.table}: {report.source}: {report.rows_imported:,} of "
        f"{report.rows_read:,} rows imported{counted}"
    )
    for name in ("column", "kind", "missing", "distinct", "errors", "blanks"):
        columns.add_column(name, justify="left" if name in ("column", "kind") else "right")
    for c in report.columns:
        columns.add_row(
            c.column,
            c.kind,
            f"{c.missing_share:.0%}",
            f"{c.distinct:,}",
            str(c.errors) if c.errors else "",
            str(report.blanks.get(c.column, "")),
        )
    parts: list[Table] = [columns]
    if report.rejected:
        rejected = Table(title=f"{len(report.rejected):,} rejected rows")
        rejected.add_column("line", justify="right")
        rejected.add_column("reason")
        for row in report.rejected[:max_rows]:
            rejected.add_row(str(row.line), escape(row.reason))
        parts.append(rejected)
    if report.errors:
        reasons = Counter((e.column, e.reason) for e in report.errors)
        errors = Table(title="values left missing")
        for name in ("column", "reason", "count", "first line", "example"):
            errors.add_column(name)
        for (column, reason), count in reasons.most_common(max_rows):
            first = next(e for e in report.errors if (e.column, e.reason) == (column, reason))
            errors.add_row(
                escape(column), reason, str(count), str(line_of(first.row)), escape(first.value)
            )
        parts.append(errors)
    notes = Table(show_header=False, box=None)
    notes.add_row(f"outcomes: {report.outcome_line()}")
    for note in report.notes:
        notes.add_row(f"note: {escape(note)}")
    for warning in report.warnings:
        notes.add_row(f"[bold yellow]WARNING:[/bold yellow] {escape(warning)}")
    return Group(*parts, notes)
