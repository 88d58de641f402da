"""Lifts in words: a verdict and a sentence, always with the interval."""

from __future__ import annotations

from training.routing_evaluation.lifts import Interval, lift_sentence, verdict


def test_verdicts_in_words() -> None:
    assert verdict(Interval(0.05, 0.01, 0.09)) == "better"
    assert verdict(Interval(0.01, -0.02, 0.04)) == "no evidence"
    assert verdict(Interval(-0.05, -0.08, -0.01)) == "worse"
    assert lift_sentence(Interval(0.01, -0.02, 0.04), "round-robin") == (
        "no evidence that routing by fit beats round-robin on this history "
        "(lift +0.010, 95% CI -0.020 to +0.040)"
    )
    assert lift_sentence(Interval(0.05, 0.01, 0.09), "round-robin").startswith(
        "better: routing by fit beats round-robin"
    )
    assert "does worse than round-robin" in lift_sentence(
        Interval(-0.05, -0.08, -0.01), "round-robin"
    )
