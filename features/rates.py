"""A rep's smoothed outcome rates (win rate, retention rate), overall and per group.

Why a separate step: a rate is learnt from history, not read from the row.
Training computes it point in time - for a row decided at time t, only
outcomes known before t count - so nothing leaks from the future. Serving
reads the counts frozen into the fitted object (`RateFeatures.fit`), the way a
fitted `FeatureSpec` carries its vocabularies. Both go through `smooth`:

    rate = (wins + strength * prior) / (deals + strength)

so a rep with no history (a new hire, an unknown id) gets the prior.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from features.columns import Columns
from features.spec import Feature

REP_FIELD = "rep_id"
"""The pair-column field holding the rep's id."""

_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Rate:
    """A rep's rate overall (`by` is None) or among leads sharing `by`'s value."""

    name: str
    by: Feature | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Rate:
        unknown = set(raw) - {"name", "by"}
        if unknown:
            raise ValueError(f"rate {raw.get('name')!r}: unknown keys {sorted(unknown)}")
        by = raw.get("by")
        return cls(name=str(raw["name"]), by=None if by is None else Feature.from_dict(by))

    @property
    def fields(self) -> tuple[str, ...]:
        """The raw fields the rate's grouping reads, besides the rep id."""
        return () if self.by is None else self.by.fields

    def groups(self, columns: Columns) -> np.ndarray:
        """One group label per row ("rep<sep>key"); None where the row's key is unknown."""
        reps = columns[REP_FIELD]
        if self.by is None:
            keys: np.ndarray = np.full(len(reps), "", dtype=object)
        else:
            keys = self.by.values(columns)
        return np.array(
            [
                None if key is None else f"{'' if rep is None else rep}{_SEPARATOR}{key}"
                for rep, key in zip(reps, keys, strict=True)
            ],
            dtype=object,
        )


@dataclass(frozen=True)
class Outcomes:
    """Past (lead, rep) pairs: their columns, the 0/1 outcome and when it became known."""

    columns: Columns
    known_at: np.ndarray
    y: np.ndarray

    def known_before(self, moment: np.datetime64) -> Outcomes:
        keep = np.flatnonzero(self.known_at < moment)
        return Outcomes(
            columns={name: values[keep] for name, values in self.columns.items()},
            known_at=self.known_at[keep],
            y=self.y[keep],
        )


@dataclass(frozen=True)
class RateFeatures:
    """The rate features of a model; fitted, it holds the counts known at `as_of`."""

    rates: tuple[Rate, ...]
    strength: float = 20.0
    prior: float | None = None
    as_of: np.datetime64 | None = None
    counts: Mapping[str, tuple[tuple[str, ...], np.ndarray, np.ndarray]] = field(
        default_factory=dict
    )

    @property
    def names(self) -> list[str]:
        return [rate.name for rate in self.rates]

    @property
    def fields(self) -> set[str]:
        """The pair-column fields the rates read (none without rates)."""
        if not self.rates:
            return set()
        return {REP_FIELD} | {f for rate in self.rates for f in rate.fields}

    @property
    def is_fitted(self) -> bool:
        return self.prior is not None

    def fit(self, history: Outcomes, as_of: np.datetime64, prior: float) -> RateFeatures:
        """Freeze the (deals, wins) of every group from outcomes known before `as_of`.

        `prior` is the rate everything is smoothed toward (e.g. the training rows'
        overall rate); it is also what a rep with no history gets.
        """
        known = history.known_before(as_of)
        counts = {}
        for rate in self.rates:
            groups = rate.groups(known.columns)
            present = np.array([g is not None for g in groups], dtype=bool)
            frame = pd.DataFrame({"group": groups[present], "y": known.y[present]})
            summary = frame.groupby("group", sort=True)["y"].agg(["count", "sum"])
            counts[rate.name] = (
                tuple(str(g) for g in summary.index),
                summary["count"].to_numpy(dtype=np.float64),
                summary["sum"].to_numpy(dtype=np.float64),
            )
        return replace(self, prior=float(prior), as_of=as_of, counts=counts)

    def smooth(self, deals: np.ndarray, wins: np.ndarray) -> np.ndarray:
        """Additive (beta-prior) smoothing toward the prior with `strength` pseudo-deals."""
        if self.prior is None:
            raise RuntimeError("RateFeatures used before fit: the prior is unknown")
        return np.asarray(
            (wins + self.strength * self.prior) / (deals + self.strength), dtype=np.float64
        )

    def transform(self, columns: Columns) -> dict[str, np.ndarray]:
        """Rates from the frozen counts: the serving path (NaN where the key is unknown)."""
        out = {}
        for rate in self.rates:
            groups = rate.groups(columns)
            # "" is never a group label (labels hold a separator); -1 picks the zero sentinel.
            labels = ["" if g is None else g for g in groups]
            position = self._indexes[rate.name].get_indexer(pd.Index(labels, dtype=object))
            _, deals, wins = self.counts[rate.name]
            n, w = np.append(deals, 0.0)[position], np.append(wins, 0.0)[position]
            out[rate.name] = _missing_key(self.smooth(n, w), groups)
        return out

    def point_in_time(
        self, columns: Columns, at: np.ndarray, history: Outcomes
    ) -> dict[str, np.ndarray]:
        """Rates for rows decided at `at`, from `history` outcomes known strictly before."""
        out = {}
        for rate in self.rates:
            groups = rate.groups(columns)
            deals, wins = counts_before(
                rate.groups(history.columns), history.known_at, history.y, groups, at
            )
            out[rate.name] = _missing_key(self.smooth(deals, wins), groups)
        return out

    @cached_property
    def _indexes(self) -> dict[str, pd.Index]:
        return {name: pd.Index(keys, dtype=object) for name, (keys, _, _) in self.counts.items()}


def _missing_key(rates: np.ndarray, groups: np.ndarray) -> np.ndarray:
    rates[np.array([g is None for g in groups], dtype=bool)] = np.nan
    return rates


def counts_before(
    history_groups: np.ndarray,
    known_at: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    at: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(deals, wins) of each query row's group among history rows known strictly before `at`.

    Vectorised: history is sorted by (group, time) and each query is located
    with one `searchsorted` on a combined (group, time-rank) key.
    """
    n_hist = len(history_groups)
    labels: Sequence[Any] = list(history_groups) + list(groups)
    codes, _ = pd.factorize(pd.Series(labels, dtype=object), use_na_sentinel=True)
    hist_code, query_code = codes[:n_hist].astype(np.int64), codes[n_hist:].astype(np.int64)
    times = np.concatenate([known_at, at]).astype("datetime64[us]").astype(np.int64)
    _, rank = np.unique(times, return_inverse=True)
    width = int(rank.max()) + 2 if rank.size else 1
    keep = (hist_code >= 0) & ~np.isnat(np.asarray(known_at, dtype="datetime64[us]"))
    unsorted = hist_code[keep] * width + rank[:n_hist][keep]
    order = np.argsort(unsorted, kind="stable")
    hist_key = unsorted[order]
    cumulative = np.concatenate([[0.0], np.cumsum(y[keep][order].astype(np.float64))])
    query_key = query_code * width + rank[n_hist:]
    low = np.searchsorted(hist_key, query_code * width, side="left")
    high = np.searchsorted(hist_key, query_key, side="left")
    unknown = query_code < 0
    deals = np.where(unknown, 0, high - low).astype(np.float64)
    wins = np.where(unknown, 0.0, cumulative[high] - cumulative[low])
    return deals, wins
