"""The replay: deals released after the hold, capacities scaled to the open work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.routing_evaluation.replay import ReplaySettings, fixed_chooser, replay, replay_roster


def test_replay_releases_each_deal_after_the_hold_and_scales_capacity() -> None:
    chosen = np.array([0, 0, 1, 0, 1, 1, 0], dtype=np.int64)
    trace = replay(len(chosen), np.array([1, 1], dtype=np.int64), 2, fixed_chooser(chosen))
    # Lead t's deal is released when lead t + 2 comes.
    assert trace.loads.tolist() == [[0, 0], [1, 0], [1, 0], [0, 1], [1, 0], [0, 1], [0, 1]]
    assert trace.over_capacity == 2  # leads 1 and 5 went to a closer already holding 1
    assert trace.peak_load.tolist() == [2, 2]
    reps = pd.DataFrame(
        {
            "rep_id": ["CL2", "CL1", "IS1", "CL3"],
            "role": ["closer", "closer", "inbound_specialist", "closer"],
            "capacity": [40, 20, 400, 40],
            "active": [True, True, True, False],
        }
    )
    roster = replay_roster(reps, ReplaySettings(hold_leads=30, headroom=1.5))
    assert [r.rep_id for r in roster] == ["CL1", "CL2"]
    assert [r.capacity for r in roster] == [15, 30]  # 45 slots for 30 open deals, 1:2
    with pytest.raises(ValueError, match="headroom"):
        ReplaySettings(headroom=0.9)
