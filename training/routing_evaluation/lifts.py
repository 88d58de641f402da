"""Intervals and lifts: a figure with its bootstrap interval, and a lift in words.

Every routing figure goes out with a percentile-bootstrap interval over the
evaluated leads, and every lift with its verdict (better, no evidence, worse),
so no number is shown without how far to trust it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Verdict = Literal["better", "no evidence", "worse"]


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap interval."""

    value: float
    low: float
    high: float

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high


def bootstrap_means(
    columns: npt.NDArray[np.float64], resamples: int, confidence: float, rng: np.random.Generator
) -> list[Interval]:
    """Mean of each row of ``columns`` (k x leads) with a percentile interval from one
    shared set of lead resamples, so differences of rows are paired."""
    n = columns.shape[1]
    draws = np.empty((resamples, columns.shape[0]))
    for b in range(resamples):
        draws[b] = columns[:, rng.integers(0, n, n)].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
    means: npt.NDArray[np.float64] = columns.mean(axis=1)
    return [
        Interval(float(m), float(lo), float(hi)) for m, lo, hi in zip(means, low, high, strict=True)
    ]


def verdict(lift: Interval) -> Verdict:
    """ "better" when the whole interval is above 0, "worse" when below, else "no evidence"."""
    if lift.low > 0:
        return "better"
    if lift.high < 0:
        return "worse"
    return "no evidence"


def lift_sentence(lift: Interval, over: str, who: str = "routing by fit") -> str:
    """The lift in words, always with its interval."""
    figures = f"lift {lift.value:+.3f}, 95% CI {lift.low:+.3f} to {lift.high:+.3f}"
    word = verdict(lift)
    if word == "better":
        return f"better: {who} beats {over} on this history ({figures})"
    if word == "worse":
        return f"worse: {who} does worse than {over} on this history ({figures})"
    return f"no evidence that {who} beats {over} on this history ({figures})"


def interval_metrics(name: str, interval: Interval) -> dict[str, float]:
    """The interval as three flat metrics: ``name``, ``name_ci_low``, ``name_ci_high``."""
    return {name: interval.value, f"{name}_ci_low": interval.low, f"{name}_ci_high": interval.high}


def interval_text(interval: Interval) -> str:
    """The value with its 95% interval, for a console row."""
    return f"{interval.value:.3f} (95% CI {interval.low:.3f} to {interval.high:.3f})"
