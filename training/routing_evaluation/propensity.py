"""Estimated propensities of the historical closer assignment: P(closer | deal).

Off-policy estimates on a real CRM need, for every logged deal, the probability
the old routing gave the closer it chose. CRMs do not record it, so it is
estimated from the deals themselves:

- eligibility first, as routing rules do: where the history shows a rule (at
  least `RULE_SHARE` of a region's deals went to closers of that region; the
  same for segments), only those closers could take a deal of that region;
  elsewhere every closer could;
- among the eligible closers, the smoothed closer frequencies of the deal's
  stratum (region, or region x segment, industry or source: the candidate that
  best predicts held-out assignments) give the probabilities;
- they are clipped away from 0 (`PROPENSITY_FLOOR`) and cross-fitted: a
  deal's propensity comes from a model fitted on the other folds, never on
  that deal, so it cannot echo the choice it is meant to explain.

Pure functions on frames and arrays; `training.routing_evaluation.doubly_robust` uses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from data.contract import Role, segment_of

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

RULE_SHARE = 0.95
"""A region (segment) whose deals went to its own closers at least this often is
treated as routed by a territory rule: its other closers get no propensity."""
MIN_RULE_DEALS = 20
"""Fewer deals than this in a region say nothing about a rule; everyone stays eligible."""
PROPENSITY_FLOOR = 0.01
"""No eligible closer's propensity goes below this: an estimate near 0 would turn a
single deal into a huge importance weight."""
FOLDS = 5
UNKNOWN = "(unknown)"


def lead_segments(company_size: pd.Series) -> npt.NDArray[np.object_]:
    """The contract segment of each lead's company (None if the size is unknown)."""
    sizes = pd.to_numeric(company_size, errors="coerce").to_numpy(dtype=float)
    out = [segment_of(None if np.isnan(s) else float(s)) for s in sizes]
    return np.array([None if s is None else s.value for s in out], dtype=object)


def _text(values: pd.Series | npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Values as strings, None for a blank."""
    series = pd.Series(values, dtype=object)
    return np.array([None if pd.isna(v) else str(v) for v in series], dtype=object)


@dataclass(frozen=True)
class AssignmentRules:
    """Who could have taken a deal, as the history shows it: the closers (roster order)
    with their region and segment, and the regions and segments routed by a rule."""

    closers: tuple[str, ...]
    closer_regions: tuple[str | None, ...]
    closer_segments: tuple[str | None, ...]
    ruled_regions: frozenset[str]
    ruled_segments: frozenset[str]
    region_shares: dict[str, float]
    """Per lead region: the share of its deals that went to a closer of that region."""
    segment_shares: dict[str, float]

    def eligible(
        self, regions: npt.NDArray[np.object_], segments: npt.NDArray[np.object_]
    ) -> BoolArray:
        """(deals x closers): may the closer have taken the deal under the detected rules."""
        closer_region = np.array(self.closer_regions, dtype=object)
        closer_segment = np.array(self.closer_segments, dtype=object)
        out = np.ones((len(regions), len(self.closers)), dtype=bool)
        for region in self.ruled_regions:
            out[regions == region] &= closer_region[None, :] == region
        for segment in self.ruled_segments:
            out[segments == segment] &= closer_segment[None, :] == segment
        return out

    def describe(self) -> str:
        """The rules in words, for the run and the console."""
        parts = []
        for kind, ruled, shares in (
            ("region", self.ruled_regions, self.region_shares),
            ("segment", self.ruled_segments, self.segment_shares),
        ):
            if ruled:
                lowest = min(shares[r] for r in ruled)
                parts.append(
                    f"{kind} rule for {', '.join(sorted(ruled))} "
                    f"(at least {lowest:.1%} of their deals stayed in {kind})"
                )
        if not parts:
            kept = max(self.region_shares.values(), default=0.0)
            return (
                "no territory rule (at most "
                f"{kept:.1%} of a region's deals stayed in region): every closer eligible"
            )
        return "; ".join(parts)


def _shares(
    lead_values: npt.NDArray[np.object_], chosen_values: npt.NDArray[np.object_]
) -> dict[str, float]:
    shares = {}
    for value in sorted({v for v in lead_values if v is not None}):
        rows = lead_values == value
        if rows.sum() >= MIN_RULE_DEALS:
            shares[str(value)] = float((chosen_values[rows] == value).mean())
    return shares


def detect_rules(deals: pd.DataFrame, reps: pd.DataFrame) -> AssignmentRules:
    """The closers and the territory/segment rules the deals (lead fields + closer_id) obey."""
    roster = reps[reps["role"] == Role.closer.value].drop_duplicates("rep_id")
    records = roster.to_dict("records")
    known = {str(r): row for r, row in zip(roster["rep_id"], records, strict=True)}
    closers = tuple(sorted(set(known) | set(deals["closer_id"].astype(str))))

    def attribute(name: str) -> tuple[str | None, ...]:
        values = [known[c].get(name) if c in known else None for c in closers]
        return tuple(None if v is None or pd.isna(v) else str(v) for v in values)

    regions, segments = attribute("region"), attribute("segment")
    position = {c: j for j, c in enumerate(closers)}
    chosen = np.array([position[c] for c in deals["closer_id"].astype(str)], dtype=np.int64)
    lead_region = _text(deals["company_region"])
    lead_segment = lead_segments(deals["company_size"])
    region_shares = _shares(lead_region, np.array(regions, dtype=object)[chosen])
    segment_shares = _shares(lead_segment, np.array(segments, dtype=object)[chosen])
    return AssignmentRules(
        closers=closers,
        closer_regions=regions,
        closer_segments=segments,
        ruled_regions=frozenset(r for r, s in region_shares.items() if s >= RULE_SHARE),
        ruled_segments=frozenset(s for s, v in segment_shares.items() if v >= RULE_SHARE),
        region_shares=region_shares,
        segment_shares=segment_shares,
    )


@dataclass(frozen=True)
class EstimatedPropensities:
    """P(closer | deal) of the historical routing for the deals asked for (rows x closers),
    zero outside the eligible closers, each row summing to 1."""

    rules: AssignmentRules
    probability: FloatArray
    eligible: BoolArray
    folds: int
    strata: tuple[str, ...]
    """The lead fields whose combinations the routing was found to depend on."""
    held_out_log_loss: float

    def of_chosen(self, chosen: IntArray) -> FloatArray:
        """The propensity of each deal's logged closer; a choice the detected rule calls
        ineligible (a rare exception to a 95% rule) gets the floor."""
        rows = np.arange(len(chosen))
        return np.maximum(self.probability[rows, chosen], PROPENSITY_FLOOR)

    def exceptions(self, chosen: IntArray) -> int:
        """Deals whose logged closer breaks the detected rules."""
        return int((~self.eligible[np.arange(len(chosen)), chosen]).sum())


def _clipped(probability: FloatArray, eligible: BoolArray) -> FloatArray:
    """Masked to the eligible closers, floored, and renormalised per row."""
    masked = np.where(eligible, probability, 0.0)
    total = masked.sum(axis=1, keepdims=True)
    uniform = eligible / np.maximum(eligible.sum(axis=1, keepdims=True), 1)
    masked = np.where(total > 0, masked / np.where(total > 0, total, 1.0), uniform)
    floored = np.where(eligible, np.maximum(masked, PROPENSITY_FLOOR), 0.0)
    return np.asarray(floored / floored.sum(axis=1, keepdims=True), dtype=np.float64)


STRATA: tuple[tuple[str, ...], ...] = (
    (),
    ("company_region",),
    ("company_region", "segment"),
    ("company_region", "company_industry"),
    ("company_region", "source"),
    ("company_region", "segment", "company_industry"),
)
"""The candidate stratifications of the historical routing; the one that predicts
held-out assignments best (cross-fitted log loss) is used."""
SMOOTHING = 10.0
"""Prior strength, in deals, pulling a stratum's frequencies toward its region's (and a
region's toward the whole history's): a stratum of 10 deals is half its own evidence."""


def _keys(deals: pd.DataFrame) -> dict[str, npt.NDArray[np.object_]]:
    """Each stratification field as text, a blank being its own level."""
    values = {
        "company_region": _text(deals["company_region"]),
        "segment": lead_segments(deals["company_size"]),
        "company_industry": _text(deals["company_industry"]),
        "source": _text(deals["source"]) if "source" in deals else np.full(len(deals), None),
    }
    return {
        k: np.array([UNKNOWN if x is None else x for x in v], dtype=object)
        for k, v in values.items()
    }


def _codes(keys: dict[str, npt.NDArray[np.object_]], fields: tuple[str, ...], n: int) -> IntArray:
    if not fields:
        return np.zeros(n, dtype=np.int64)
    joined = pd.Series(["|".join(str(keys[f][i]) for f in fields) for i in range(n)])
    return np.asarray(pd.factorize(joined)[0], dtype=np.int64)


def _counts(codes: IntArray, chosen: IntArray, fold: IntArray, folds: int, m: int) -> FloatArray:
    """(folds x strata x closers) deal counts."""
    out = np.zeros((folds, int(codes.max()) + 1, m))
    np.add.at(out, (fold, codes, chosen), 1.0)
    return out


def _leave_fold_out(counts: FloatArray) -> FloatArray:
    """Counts of every fold's deals learnt from the other folds: (folds x strata x closers)."""
    return np.asarray(counts.sum(axis=0, keepdims=True) - counts, dtype=np.float64)


def _smoothed(counts: FloatArray, prior: FloatArray) -> FloatArray:
    """(counts + SMOOTHING x prior) / (deals + SMOOTHING), per fold and stratum."""
    total = counts.sum(axis=-1, keepdims=True)
    return np.asarray((counts + SMOOTHING * prior) / (total + SMOOTHING), dtype=np.float64)


def _cross_fitted(
    keys: dict[str, npt.NDArray[np.object_]],
    fields: tuple[str, ...],
    chosen: IntArray,
    fold: IntArray,
    folds: int,
    m: int,
) -> FloatArray:
    """P(closer | deal's stratum) of every deal, from the other folds' deals (deals x closers)."""
    n = len(chosen)
    overall = _leave_fold_out(_counts(np.zeros(n, dtype=np.int64), chosen, fold, folds, m))
    prior = (overall + 1.0) / (overall.sum(axis=-1, keepdims=True) + m)  # (folds x 1 x m)
    if fields:
        region = _codes(keys, fields[:1], n)
        by_region = _smoothed(_leave_fold_out(_counts(region, chosen, fold, folds, m)), prior)
        if len(fields) == 1:
            return by_region[fold, region]
        codes = _codes(keys, fields, n)
        region_of = np.zeros(int(codes.max()) + 1, dtype=np.int64)
        region_of[codes] = region
        stratum = _leave_fold_out(_counts(codes, chosen, fold, folds, m))
        return _smoothed(stratum, by_region[:, region_of])[fold, codes]
    return np.asarray(prior[fold, 0], dtype=np.float64)


def estimate_propensities(
    deals: pd.DataFrame,
    reps: pd.DataFrame,
    rows: IntArray | None = None,
    folds: int = FOLDS,
    seed: int = 0,
) -> EstimatedPropensities:
    """Cross-fitted P(closer | deal) of the deals at positions `rows` (all if None).

    `deals` are all the decided deals known by the end of the evaluated period
    (lead fields and closer_id). The folds split them at random; each fold's deals
    get the smoothed closer frequencies of their stratum among the other folds' deals.
    Of the candidate stratifications (`STRATA`) the one with the lowest held-out log
    loss over all deals is kept.
    """
    rows = np.arange(len(deals)) if rows is None else np.asarray(rows, dtype=np.int64)
    deals = deals.reset_index(drop=True)
    rules = detect_rules(deals, reps)
    m = len(rules.closers)
    position = {c: j for j, c in enumerate(rules.closers)}
    chosen = np.array([position[c] for c in deals["closer_id"].astype(str)], dtype=np.int64)
    keys = _keys(deals)
    eligible = rules.eligible(keys["company_region"], keys["segment"])
    fold = np.random.default_rng(seed).permutation(len(deals)) % folds
    everyone = np.arange(len(deals))
    best: tuple[float, tuple[str, ...], FloatArray] | None = None
    for fields in STRATA:
        probability = _clipped(_cross_fitted(keys, fields, chosen, fold, folds, m), eligible)
        loss = float(-np.log(np.maximum(probability[everyone, chosen], PROPENSITY_FLOOR)).mean())
        if best is None or loss < best[0]:
            best = (loss, fields, probability)
    assert best is not None
    return EstimatedPropensities(
        rules=rules,
        probability=best[2][rows],
        eligible=eligible[rows],
        folds=folds,
        strata=best[1],
        held_out_log_loss=best[0],
    )
