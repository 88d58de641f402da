"""From a calibrated probability to what sales people read: a 1-99 score and a grade.

The score is the probability's percentile among the training leads of the
same channel (score 80: more likely to convert than 80% of past leads), so it
spreads over 1-99 even when won deals are rare. Grades are probability
thresholds fixed at training time from the same distribution.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

import numpy as np

_SCORE_POINTS = np.arange(1.0, 100.0)


def _logit(probability: np.ndarray) -> np.ndarray:
    p = np.clip(probability, 1e-12, 1.0 - 1e-12)
    return np.asarray(np.log(p) - np.log1p(-p))


GRADE_SHARES: tuple[tuple[str, float], ...] = (("A", 0.10), ("B", 0.20), ("C", 0.30))
"""Default grade sizes: the top 10% are A, the next 20% B, the next 30% C, the rest D."""


@dataclass(frozen=True)
class PlattCalibration:
    """P(won) = sigmoid(slope * raw + intercept), fitted on held-out rows."""

    slope: float
    intercept: float

    @classmethod
    def fit(cls, raw: np.ndarray, y: np.ndarray) -> PlattCalibration:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=1e6, max_iter=1000)
        model.fit(raw.reshape(-1, 1), y)
        return cls(slope=float(model.coef_[0, 0]), intercept=float(model.intercept_[0]))

    def logit(self, raw: np.ndarray) -> np.ndarray:
        return self.slope * raw + self.intercept

    def probability(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-self.logit(raw))), dtype=np.float64)

    def probability_one(self, raw: float) -> float:
        """`probability` of one value, bit for bit: the same IEEE operations in the same
        order, with numpy's own `exp` (the C library's can differ in the last bit)."""
        return float(1.0 / (1.0 + np.exp(np.float64(-(self.slope * raw + self.intercept)))))


@dataclass(frozen=True)
class ScoreScale:
    """Percentile cut points (1st..99th) of the reference probabilities, and grade thresholds."""

    cuts: tuple[float, ...]
    grade_thresholds: tuple[tuple[str, float], ...]

    @classmethod
    def fit(
        cls, probability: np.ndarray, grade_shares: tuple[tuple[str, float], ...] = GRADE_SHARES
    ) -> ScoreScale:
        cuts = np.quantile(probability, np.linspace(0.01, 0.99, 99))
        # np.interp needs increasing x: break ties among equal cut points.
        cuts = np.maximum.accumulate(cuts + np.arange(99) * 1e-12)
        thresholds, top = [], 0.0
        for grade, share in grade_shares:
            top += share
            thresholds.append((grade, float(np.quantile(probability, 1.0 - top))))
        return cls(cuts=tuple(float(c) for c in cuts), grade_thresholds=tuple(thresholds))

    @cached_property
    def _logit_cuts(self) -> np.ndarray:
        cuts = _logit(np.asarray(self.cuts, dtype=np.float64))
        return np.maximum.accumulate(cuts + np.arange(cuts.size) * 1e-9)

    @cached_property
    def _end_slopes(self) -> tuple[float, float]:
        """Score points per unit of log-odds over the bottom and top tenth."""
        z = self._logit_cuts
        return 9.0 / max(z[9] - z[0], 1e-9), 9.0 / max(z[-1] - z[-10], 1e-9)

    def extended(self, probability: np.ndarray) -> np.ndarray:
        """The score before it is clipped to 1-99: piecewise linear in log-odds between
        the percentile cuts, and continued linearly beyond the 1st and 99th.

        Reasons are measured on this scale, so a lead far above every past lead
        still learns what lifts it, instead of every effect vanishing at 99.
        """
        z = _logit(np.asarray(probability, dtype=np.float64))
        cuts = self._logit_cuts
        bottom, top = self._end_slopes
        out = np.interp(z, cuts, _SCORE_POINTS)
        out = np.where(z > cuts[-1], 99.0 + (z - cuts[-1]) * top, out)
        return np.asarray(np.where(z < cuts[0], 1.0 + (z - cuts[0]) * bottom, out))

    @cached_property
    def _one(self) -> tuple[list[float], list[float], float, float]:
        """What `extended_one` reads: the cuts and slopes as Python floats."""
        cuts = self._logit_cuts
        slopes = [
            float((_SCORE_POINTS[j + 1] - _SCORE_POINTS[j]) / (cuts[j + 1] - cuts[j]))
            for j in range(cuts.size - 1)
        ]
        return cuts.tolist(), slopes, *self._end_slopes

    def extended_one(self, probability: float) -> float:
        """`extended` of one probability, bit for bit: `np.interp`'s arithmetic (a bisection,
        then slope * (x - x0) + y0) in plain floats, with numpy's own `log` and `log1p`."""
        p = min(max(probability, 1e-12), 1.0 - 1e-12)
        z = float(np.log(np.float64(p)) - np.log1p(np.float64(-p)))
        cuts, slopes, bottom, top = self._one
        if z > cuts[-1]:
            return 99.0 + (z - cuts[-1]) * top
        if z < cuts[0]:
            return 1.0 + (z - cuts[0]) * bottom
        j = bisect_right(cuts, z) - 1
        if j == len(cuts) - 1 or cuts[j] == z:
            return float(_SCORE_POINTS[j])
        return slopes[j] * (z - cuts[j]) + float(_SCORE_POINTS[j])

    def grade_one(self, probability: float) -> str:
        """`grade` of one probability."""
        found = "D"
        for grade, threshold in reversed(self.grade_thresholds):
            if probability >= threshold:
                found = grade
        return found

    def score(self, probability: np.ndarray) -> np.ndarray:
        """Continuous 1-99 score (round it to show it)."""
        return np.asarray(np.clip(self.extended(probability), 1.0, 99.0))

    def grade(self, probability: np.ndarray) -> np.ndarray:
        grades = np.full(probability.shape, "D", dtype=object)
        for grade, threshold in reversed(self.grade_thresholds):
            grades[probability >= threshold] = grade
        return grades
