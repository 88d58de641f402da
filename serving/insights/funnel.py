"""The funnel: how many leads reached each stage, and the conversion between stages.

Leads are a cohort: those created in the period, with every stage they
reached since (see `lifecycle`). Breakdowns:

- `channel`, `source`: from the lead as posted (`unknown` when missing);
- `segment`: from the company size (`data.contract.segment_of`);
- `grade`: the grade of the lead's first score (`unscored` without one);
- `rep`: the rep who owns the stage transition. A lead counts in its front
  rep's group from `created` on (`unassigned` when nobody is known), in its
  closer's group from `routed` on, and in its account manager's from `won`
  on; a rep's earlier stages are 0, so conversions before a rep received
  the lead are null. The groups overlap: a won lead is in three of them;
- `role`: the same, grouped by the role of those reps.

Every conversion comes with its 95% Wilson interval and a rate shrunk toward
the overall one, so a rep with three deals is not ranked first by luck.
Where a group has no lead at the `from` stage, rate, interval and shrunk rate
are all null: the group took no part in that step.
"""

from __future__ import annotations

import itertools

import pandas as pd

from serving.insights.intervals import SMALL, shrunk, wilson
from serving.insights.lifecycle import STAGES
from serving.insights.responses import Breakdown, Conversion, Funnel, FunnelGroup, Period

UNASSIGNED = "unassigned"
OVERALL = "all"
BREAKDOWNS: tuple[Breakdown, ...] = ("channel", "source", "role", "rep", "segment", "grade")
# Stage index from which an owner's group counts a lead.
FROM_ROUTED, FROM_WON = STAGES.index("routed"), STAGES.index("won")


def memberships(journeys: pd.DataFrame, by: Breakdown) -> pd.DataFrame:
    """(key, row, entry): lead `row` counts in group `key` from stage index `entry` on."""
    if by not in ("rep", "role"):
        return pd.DataFrame({"key": journeys[by].astype(str), "row": journeys.index, "entry": 0})
    suffix = "rep" if by == "rep" else "role"
    front = journeys["front_rep" if by == "rep" else "front_role"].fillna(UNASSIGNED)
    parts = [pd.DataFrame({"key": front, "row": journeys.index, "entry": 0})]
    for owner, entry in (("closer", FROM_ROUTED), ("manager", FROM_WON)):
        column = owner if suffix == "rep" else f"{owner}_role"
        known = journeys[owner].notna()
        parts.append(
            pd.DataFrame(
                {"key": journeys.loc[known, column], "row": journeys.index[known], "entry": entry}
            )
        )
    every = pd.concat(parts, ignore_index=True)
    # The same rep in two roles of one lead counts it once, from the earlier stage.
    return every.groupby(["key", "row"], as_index=False).agg(entry=("entry", "min"))


def _counts(journeys: pd.DataFrame, rows: pd.Series, entries: pd.Series) -> dict[str, int]:
    counts: dict[str, int] = {}
    for index, stage in enumerate(STAGES):
        reached = journeys[f"reached_{stage}"].to_numpy()[rows.to_numpy()]
        counts[stage] = int((reached & (entries.to_numpy() <= index)).sum())
    return counts


def _group(key: str, counts: dict[str, int], overall: dict[str, int] | None) -> FunnelGroup:
    conversions = []
    for before, after in itertools.pairwise(STAGES):
        trials, successes = counts[before], counts[after]
        base = overall if overall is not None else counts
        prior = base[after] / base[before] if base[before] else None
        interval = wilson(successes, trials)
        conversions.append(
            Conversion.model_validate(
                {
                    "from": before,
                    "to": after,
                    "rate": successes / trials if trials else None,
                    "low": None if interval is None else interval[0],
                    "high": None if interval is None else interval[1],
                    "shrunk_rate": shrunk(successes, trials, prior) if trials else None,
                    "small": trials < SMALL,
                }
            )
        )
    return FunnelGroup(
        key=key, counts=counts, conversions=conversions, small=max(counts.values()) < SMALL
    )


def funnel(journeys: pd.DataFrame, period: Period, by: Breakdown) -> Funnel:
    """Counts and conversions overall and per group of `by`, groups sorted by key."""
    if by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {', '.join(BREAKDOWNS)}, not {by!r}")
    every = pd.Series(journeys.index)
    overall_counts = _counts(journeys, every, pd.Series(0, index=every.index))
    groups = []
    members = memberships(journeys, by)
    for key, part in sorted(members.groupby("key"), key=lambda item: str(item[0])):
        counts = _counts(journeys, part["row"], part["entry"])
        groups.append(_group(str(key), counts, overall_counts))
    return Funnel(
        period=period,
        by=by,
        stages=list(STAGES),
        overall=_group(OVERALL, overall_counts, None),
        groups=groups,
    )
