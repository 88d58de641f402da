"""The speed benchmark calls a target met only when every interleaved round clears it."""

from __future__ import annotations

import math

from bench.serve import verdict


def test_a_ratio_is_met_only_when_every_round_clears_the_target() -> None:
    assert verdict(1.05, 1.01, 1.09, 1.0, higher=True) == "met"
    assert verdict(0.90, 0.85, 0.97, 1.0, higher=True) == "NOT met"
    # Above the target overall, one round below it: no verdict either way.
    assert verdict(1.008, 0.938, 1.079, 1.0, higher=True).startswith("within the spread")


def test_a_gap_that_must_stay_small_reads_the_other_way() -> None:
    assert verdict(0.36, 0.34, 0.38, 1.0, higher=False) == "met"
    assert verdict(1.2, 1.1, 1.3, 1.0, higher=False) == "NOT met"
    assert verdict(1.0, 0.9, 1.1, 1.0, higher=False).startswith("within the spread")


def test_without_rounds_the_value_decides_and_without_a_target_nothing_is_said() -> None:
    assert verdict(-0.4, math.nan, math.nan, 40.0, higher=False) == "met"
    assert verdict(0.78, math.nan, math.nan, 0.5, higher=False) == "NOT met"
    assert verdict(42.0, 40.0, 49.0, None, higher=True) == ""
