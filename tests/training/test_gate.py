"""The promotion gate's rule, on hand-picked figures."""

from __future__ import annotations

from training.gate import decide


def test_the_first_model_is_promoted() -> None:
    gate = decide(0.7, None, None, "roc_auc")
    assert gate.promote
    assert gate.reason == "no current champion"


def test_at_least_as_good_is_promoted_and_worse_is_not() -> None:
    assert decide(0.75, 0.75, "3", "roc_auc").promote
    worse = decide(0.74, 0.75, "3", "roc_auc")
    assert not worse.promote
    assert "worse than champion v3 0.7500" in worse.reason


def test_a_model_below_its_baseline_is_never_promoted() -> None:
    """Routing falls back to round-robin instead of following an uninformative fit."""
    gate = decide(0.506, None, None, "roc_auc", floor=0.528)
    assert not gate.promote
    assert "below its baseline's 0.5280" in gate.reason
    assert decide(0.53, None, None, "roc_auc", floor=0.528).promote
