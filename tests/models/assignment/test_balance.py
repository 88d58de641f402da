"""Load balance, on numbers small enough to check by hand."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from models.assignment.balance import gini, load_balance


def test_gini_of_hand_checkable_loads() -> None:
    assert gini([5, 5, 5, 5]) == 0.0
    assert gini([0, 0, 0, 0]) == 0.0
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)  # one rep has all: (n - 1) / n
    assert gini([1, 3]) == pytest.approx(0.25)  # |1 - 3| * 2 pairs / (2 * 4 * 2)


def test_load_balance_summary_and_weights() -> None:
    lb = load_balance([10, 20, 30])
    assert (lb.max, lb.min, lb.mean, lb.max_min_ratio) == (30.0, 10.0, 20.0, 3.0)
    assert lb.gini == pytest.approx(2 * (10 + 20 + 10) / (2 * 9 * 20))
    weighted = load_balance([20, 10, 10], weights=[2, 1, 1])
    assert weighted.max_min_ratio == 1.0 and weighted.gini == 0.0
    assert math.isinf(load_balance([0, 4]).max_min_ratio)
    assert load_balance([0, 0]).max_min_ratio == 1.0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: gini([]), "loads"),
        (lambda: gini([1, -1]), "loads"),
        (lambda: load_balance([1, 2], weights=[1, 0]), "weights"),
    ],
)
def test_bad_input_raises_naming_the_argument(call: Callable[[], object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        call()
