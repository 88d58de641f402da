"""A few counts that show at a glance whether a CRM history looks sane."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from data.contract import TABLES, Channel
from data.tables import read_table


@dataclass(frozen=True)
class HistorySummary:
    """Rows per contract table, leads per channel and how closed deals ended."""

    rows: dict[str, int]
    leads_by_channel: dict[str, int]
    closed_opportunities: int
    won_opportunities: int

    @property
    def win_rate(self) -> float:
        """Share of closed opportunities that were won; NaN before any closed."""
        if self.closed_opportunities == 0:
            return float("nan")
        return self.won_opportunities / self.closed_opportunities

    @property
    def lead_win_rate(self) -> float:
        """Share of all leads that became a won deal; NaN without leads."""
        leads = self.rows["leads"]
        return self.won_opportunities / leads if leads else float("nan")


def summarize_history(folder: Path) -> HistorySummary:
    """Summarise the contract tables in `folder`, reading only the columns it needs."""
    rows = {
        name: len(read_table(folder, name, columns=[next(iter(model.model_fields))]))
        for name, model in TABLES.items()
    }
    channel = read_table(folder, "leads", columns=["channel"])["channel"]
    won = read_table(folder, "opportunities", columns=["won"])["won"]
    counts = channel.value_counts()
    return HistorySummary(
        rows=rows,
        leads_by_channel={c.value: int(counts.get(c.value, 0)) for c in Channel},
        closed_opportunities=int(won.notna().sum()),
        won_opportunities=int(won.fillna(False).astype(bool).sum()),
    )
