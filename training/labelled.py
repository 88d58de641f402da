"""The leads to train on and their outcomes, from either kind of data folder.

A generated (or CRM-synced) folder has opportunities, from which outcomes
are derived with a maturity rule (`data.labels`); an imported folder
(`leadscore import`) has the outcome the mapping defined, `converted` (NA for
a lead still open or too young: unresolved), and custom columns described in
the leads file's metadata.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from data.importing.dates import NOT_REAL, dates_usable
from data.importing.importer import METADATA_KEY
from data.labels import LABELS, lead_outcomes
from data.tables import read_table, table_path

IMPORTED_TARGET = "converted"
STORE_TARGETS = ("qualified",)
"""Outcomes a store export also gives (`data.store.export`); a CSV import has only its own."""


@dataclass(frozen=True)
class LabelledLeads:
    leads: pd.DataFrame
    outcomes: pd.DataFrame
    """lead_id, resolved (outcome known) and one 0/1 column per target."""
    targets: tuple[str, ...]
    custom: dict[str, str] = field(default_factory=dict)
    """An import's extra columns and their kinds (categorical, numeric, boolean, timestamp)."""
    post_contact_dropped: list[str] = field(default_factory=list)
    source: str = "generated"
    dates_known: bool = True
    """created_at orders the leads in time; False: split at random, use no time features."""
    dates_note: str = ""
    """Why the dates are (not) usable, to print and log."""
    decided_by_target: dict[str, np.ndarray] = field(default_factory=dict)
    """Targets decided on other rows than `outcomes["resolved"]` (a store export's
    `qualified`): their own mask, which `for_target` puts in place."""

    @property
    def imported(self) -> bool:
        return self.source != "generated"

    def undecided(self, channel: str) -> pd.DataFrame:
        """The channel's leads whose outcome is not known yet (open, or too young)."""
        open_ = ~self.outcomes["resolved"].to_numpy(dtype=bool)
        rows = (self.leads["channel"].to_numpy() == channel) & open_
        undecided: pd.DataFrame = self.leads[rows].reset_index(drop=True)
        return undecided

    def for_target(self, target: str) -> LabelledLeads:
        """The same leads with `resolved` meaning "this target is known"."""
        decided = self.decided_by_target.get(target)
        if decided is None:
            return self
        outcomes = self.outcomes.copy()
        outcomes["resolved"] = decided
        return replace(self, outcomes=outcomes)

    def target(self, asked: str) -> str:
        """The outcome column to learn; an import has one, whatever was asked for `won`."""
        if asked in self.targets:
            return asked
        if self.imported and asked == "won":
            return IMPORTED_TARGET
        raise ValueError(
            f"target {asked!r} is not in this data; it has: {', '.join(self.targets)}"
            + (" (as the import mapping's outcome defines it)" if self.imported else "")
        )


def is_import(folder: Path) -> bool:
    """`leadscore import` wrote this folder (its outcomes are given, not derived)."""
    return table_path(folder, "outcomes").exists()


def load_labelled(folder: Path) -> LabelledLeads:
    """Leads and outcomes of `folder`: an import if it has outcomes.parquet, else generated."""
    if not is_import(folder):
        leads = read_table(folder, "leads")
        outcomes = lead_outcomes(leads, read_table(folder, "opportunities"))
        known, note = _dates(leads, {})
        return LabelledLeads(leads, outcomes, LABELS, dates_known=known, dates_note=note)
    leads = read_table(folder, "leads")
    metadata = pq.read_schema(table_path(folder, "leads")).metadata or {}
    described = json.loads(metadata.get(METADATA_KEY, b"{}"))
    path = table_path(folder, "outcomes")
    extra_targets = [t for t in STORE_TARGETS if t in pq.read_schema(path).names]
    given = pd.read_parquet(path, columns=["lead_id", IMPORTED_TARGET, *extra_targets])
    outcomes = leads[["lead_id"]].merge(given, on="lead_id", how="left", validate="one_to_one")
    decided = {t: outcomes[t].notna().to_numpy() for t in (IMPORTED_TARGET, *extra_targets)}
    outcomes["resolved"] = decided[IMPORTED_TARGET]
    for target in (IMPORTED_TARGET, *extra_targets):
        outcomes[target] = outcomes[target].fillna(0).astype("int8")
    known, note = _dates(leads, described)
    return LabelledLeads(
        leads,
        outcomes[["lead_id", "resolved", IMPORTED_TARGET, *extra_targets]],
        (IMPORTED_TARGET, *extra_targets),
        custom=dict(described.get("extra", {})),
        post_contact_dropped=list(described.get("post_contact_dropped", [])),
        source=str(described.get("source", "import")),
        dates_known=known,
        dates_note=note,
        decided_by_target={t: decided[t] for t in extra_targets},
    )


def _dates(leads: pd.DataFrame, described: dict[str, Any]) -> tuple[bool, str]:
    """dates_known and dates_note: the import's word when it had no dates, else the data's."""
    if described.get("created_at", {}).get("real", True) is False:
        return False, NOT_REAL
    return dates_usable(leads["created_at"])
