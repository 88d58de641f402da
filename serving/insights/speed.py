"""Speed-to-lead: how long new leads wait for a first touch and for qualification.

Per lead created in the period: minutes from creation to the first
`contacted` event, hours from creation to the first `qualified` event (leads
without the event are left out of that figure: `n` says how many count).
Percentiles are numpy's linear interpolation. By channel, and by the front
rep (the contacting rep; `unassigned` when nobody is known).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from serving.insights.funnel import UNASSIGNED
from serving.insights.responses import Percentiles, Period, SpeedRow, SpeedToLead


def percentiles(values: pd.Series) -> Percentiles:
    known = values.dropna().to_numpy(dtype=float)
    if known.size == 0:
        return Percentiles(p50=None, p90=None, n=0)
    p50, p90 = np.percentile(known, [50, 90])
    return Percentiles(p50=float(p50), p90=float(p90), n=int(known.size))


def _rows(frame: pd.DataFrame, key: pd.Series) -> list[SpeedRow]:
    rows = []
    for name, part in sorted(frame.groupby(key), key=lambda item: str(item[0])):
        rows.append(
            SpeedRow(
                key=str(name),
                leads=len(part),
                first_touch_minutes=percentiles(part["first_touch_minutes"]),
                qualification_hours=percentiles(part["qualification_hours"]),
            )
        )
    return rows


def speed_to_lead(journeys: pd.DataFrame, period: Period) -> SpeedToLead:
    created = journeys["created_at"]
    frame = pd.DataFrame(
        {
            "first_touch_minutes": (journeys["contacted_at"] - created).dt.total_seconds() / 60,
            "qualification_hours": (journeys["qualified_at"] - created).dt.total_seconds() / 3600,
        },
        index=journeys.index,
    )
    return SpeedToLead(
        period=period,
        by_channel=_rows(frame, journeys["channel"]),
        by_rep=_rows(frame, journeys["front_rep"].fillna(UNASSIGNED)),
    )
