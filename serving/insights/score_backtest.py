"""Do the scores hold up? Predicted against realised conversion, per model version.

A backtest in production: take the scores given in [start, end) whose lead
has had `horizon_days` since (scored_at + horizon <= now), keep the last
score of each lead per model version, and compare the mean predicted
probability with the share of those leads won within the horizon after the
score, by grade and by score decile (decile 10 = the highest tenth). The
realised share comes with its 95% Wilson interval; a grade whose predicted
probability falls outside it is a warning: the model's calibration has
drifted, or the world has.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select

from data.store.schema import outcomes, scores
from serving.insights.frames import SCORE_COLUMNS, frame
from serving.insights.intervals import wilson
from serving.insights.responses import Backtest, Calibration, Period, VersionBacktest

DEFAULT_HORIZON_DAYS = 90
GRADES = ("A", "B", "C", "D")


def _scores(connection: Connection, period: Period, cutoff: datetime) -> pd.DataFrame:
    query = select(*(scores.c[n] for n in SCORE_COLUMNS)).where(
        scores.c.scored_at >= period.start,
        scores.c.scored_at < period.end,
        scores.c.scored_at <= cutoff,
    )
    return frame(connection, query, SCORE_COLUMNS)


def _won_at(connection: Connection, lead_ids: list[str]) -> pd.Series:
    """lead_id -> time of its won event (the first, should the CRM send two)."""
    if not lead_ids:
        return pd.Series(dtype="datetime64[ns, UTC]")
    query = (
        select(outcomes.c.lead_id, func.min(outcomes.c.occurred_at))
        .where(outcomes.c.type == "won", outcomes.c.lead_id.in_(lead_ids))
        .group_by(outcomes.c.lead_id)
    )
    rows = frame(connection, query, ["lead_id", "occurred_at"])
    return rows.set_index("lead_id")["occurred_at"]


def _cell(key: str, part: pd.DataFrame) -> Calibration:
    leads, won = len(part), int(part["realised"].sum())
    interval = wilson(won, leads)
    assert interval is not None  # a cell never is empty
    predicted = float(part["probability"].mean())
    return Calibration(
        key=key,
        leads=leads,
        predicted=predicted,
        realised=won / leads,
        low=interval[0],
        high=interval[1],
        outside=not interval[0] <= predicted <= interval[1],
    )


def _deciles(part: pd.DataFrame) -> pd.Series:
    """1-10 by probability, ties broken by lead id; fewer leads than 10 skip deciles."""
    ordered = part.sort_values(["probability", "lead_id"])
    rank = pd.Series(range(1, len(ordered) + 1), index=ordered.index)
    return (rank * 10 / len(ordered)).map(math.ceil).astype(int).reindex(part.index)


def _version_key(item: tuple[Any, pd.DataFrame]) -> tuple[str, int, str]:
    model, version = (str(part) for part in item[0])
    return model, int(version) if version.isdigit() else -1, version


def backtest(
    connection: Connection,
    period: Period,
    now: datetime,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> Backtest:
    horizon = timedelta(days=horizon_days)
    given = _scores(connection, period, now - horizon)
    given = given.sort_values(["scored_at", "id"])
    last = given.groupby(["lead_id", "model_name", "model_version"], as_index=False).last()
    won_at = last["lead_id"].map(_won_at(connection, sorted(set(last["lead_id"]))))
    last["realised"] = won_at.notna() & (won_at <= last["scored_at"] + horizon)
    versions, warnings = [], []
    groups = last.groupby(["model_name", "model_version"])
    for (model, version), part in sorted(groups, key=_version_key):
        present = [g for g in GRADES if (part["grade"] == g).any()]
        by_grade = [_cell(g, part[part["grade"] == g]) for g in present]
        deciles = _deciles(part)
        by_decile = [_cell(str(d), part[deciles == d]) for d in sorted(set(deciles))]
        versions.append(
            VersionBacktest(
                model=str(model),
                version=str(version),
                leads=len(part),
                by_grade=by_grade,
                by_decile=by_decile,
            )
        )
        for cell in by_grade:
            if cell.outside:
                side = "below" if cell.realised < cell.predicted else "above"
                warnings.append(
                    f"{model} v{version}: grade {cell.key} realised {cell.realised:.2f} "
                    f"({cell.low:.2f}-{cell.high:.2f}) {side} predicted {cell.predicted:.2f}"
                )
    return Backtest(horizon_days=horizon_days, versions=versions, warnings=warnings)
