"""Speed-to-lead on the hand-built history: percentiles with numpy's linear interpolation."""

from __future__ import annotations

import pytest

from data.store import Store
from serving import insights
from tests.serving.insights.history import PERIOD, build


def test_first_touch_and_qualification_percentiles(store: Store) -> None:
    build(store)
    speed = insights.speed_to_lead(store, PERIOD).model_dump(mode="json")
    inbound, outbound = speed["by_channel"]
    # inbound: L1 first touched after 10 min (its second touch does not count), L2 after 60,
    # L3 never: p50 = 35, p90 = 10 + 0.9 x 50 = 55; qualified after 2 h and 20 h:
    # p50 = 11, p90 = 2 + 0.9 x 18 = 18.2
    assert inbound["key"] == "inbound" and inbound["leads"] == 3
    assert inbound["first_touch_minutes"] == {"p50": 35.0, "p90": 55.0, "n": 2}
    assert inbound["qualification_hours"]["p50"] == pytest.approx(11.0)
    assert inbound["qualification_hours"]["p90"] == pytest.approx(18.2)
    # outbound: L4 after 30 min; L5 has no touch recorded, nobody was qualified
    assert outbound["first_touch_minutes"] == {"p50": 30.0, "p90": 30.0, "n": 1}
    assert outbound["qualification_hours"] == {"p50": None, "p90": None, "n": 0}
    by_rep = {row["key"]: row for row in speed["by_rep"]}
    assert sorted(by_rep) == ["IS1", "PR1", "unassigned"]
    assert by_rep["IS1"]["first_touch_minutes"] == inbound["first_touch_minutes"]
    assert by_rep["unassigned"]["leads"] == 1
    assert by_rep["unassigned"]["first_touch_minutes"]["n"] == 0


def test_an_empty_store_has_no_rows(store: Store) -> None:
    speed = insights.speed_to_lead(store, PERIOD)
    assert speed.by_channel == [] and speed.by_rep == []
