"""What a re-scoring job did: counts per channel and grade, rejects, speed."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pandas as pd

from serving.batch.scoring import LACKING


@dataclass
class Tally:
    """Running counts over the batches of one job."""

    rows: int = 0
    rejected: int = 0
    grades: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(channel, grade) -> leads."""
    lacking: Counter[str] = field(default_factory=Counter)
    """Custom field -> leads scored without it."""

    def add(self, rows: int, scores: pd.DataFrame, rejects: pd.DataFrame) -> None:
        self.rows += rows
        self.rejected += len(rejects)
        if len(scores):
            pairs = scores.groupby(["channel", "grade"], sort=False, observed=True).size()
            for key, count in pairs.items():
                channel, grade = cast(tuple[str, str], key)
                self.grades[(str(channel), str(grade))] += int(count)
            if LACKING in scores:
                self.add_lacking(scores[LACKING].value_counts(sort=False).items())

    def add_lacking(self, counts: Iterable[tuple[object, int]]) -> None:
        """Count (JSON array of the missing custom fields, leads) pairs."""
        for names, count in counts:
            if count and names:
                for name in json.loads(str(names)):
                    self.lacking[name] += int(count)

    @property
    def scored(self) -> int:
        return sum(self.grades.values())


@dataclass(frozen=True)
class RescoreSummary:
    input: Path
    output: Path
    rejects: Path
    engine: str
    rows_read: int
    rows_scored: int
    rows_rejected: int
    grades: dict[str, dict[str, int]]
    """channel -> grade -> leads scored."""
    models: dict[str, str]
    """channel -> 'name vN' of the model that scored it."""
    seconds: float
    ignored_columns: tuple[str, ...] = ()
    lacking: dict[str, int] = field(default_factory=dict)
    """Custom field -> leads scored without it (as if unknown; each has a warning)."""

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0


def grades_by_channel(tally: Tally) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (channel, grade), count in sorted(tally.grades.items()):
        out.setdefault(channel, {})[grade] = count
    return out
