"""The knobs of one generated history: its size, seed, period, team and hidden effects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from data.generator.historical_routing import ASSIGNMENTS, HISTORICAL_REGION_LOYALTY


@dataclass(frozen=True)
class GeneratorConfig:
    leads: int = 50_000
    seed: int = 7
    """One seed always gives the same history."""
    start: datetime = datetime(2024, 11, 1)
    days: int = 730
    """Length of the history; the export is taken on its last day."""
    inbound_share: float = 0.55
    """Share of the leads that came in by themselves (the rest are prospected)."""
    inbound_specialists: int = 6
    prospectors: int = 8
    closers: int = 12
    account_managers: int = 8
    drift: bool = False
    """A drifting history: the conversion rate rises several-fold, one effect changes sign
    and new sources appear part-way (`data.generator.history_drift`). Off, tables are
    unchanged."""
    rep_effects: bool = True
    """Off, no closer or account manager changes an outcome: every hidden skill is zero
    (the draws are kept, so everything else is the same history)."""
    assignment: str = "historical"
    """How deals and customers found their owners: `historical` (a closer of the lead's
    region 70% of the time, else anyone; account managers at random) or `territory` (only
    reps of the lead's region, as territory rules assign)."""

    def __post_init__(self) -> None:
        if self.assignment not in ASSIGNMENTS:
            raise ValueError(
                f"assignment must be one of {', '.join(ASSIGNMENTS)}, not {self.assignment!r}"
            )

    @property
    def region_loyalty(self) -> float:
        """How often a deal went to a closer of the lead's region (when one exists)."""
        return 1.0 if self.assignment == "territory" else HISTORICAL_REGION_LOYALTY

    @property
    def as_of(self) -> np.datetime64:
        """The day the export was taken: later events are not known yet."""
        return np.datetime64(self.start, "us") + np.timedelta64(self.days, "D")
