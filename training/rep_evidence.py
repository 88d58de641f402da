"""What a rep fit's gate judges: the model against its lead-only baseline and against its
placebo, on the same validation rows and bootstrap resamples."""

from __future__ import annotations

from dataclasses import replace

import mlflow

from data.contract import Role
from training.flow import BASELINE, Judged, judge
from training.gate import GATE_METRIC, Evidence, OwnerClaim
from training.role_fit import FittedRep

CLAIMS = {
    Role.closer: OwnerClaim("closer", "the win rate"),
    Role.account_manager: OwnerClaim("account manager", "retention"),
}
"""What each fit model claims, in the words its gate reasons use."""


def judge_fit(fitted: FittedRep, seed: int) -> tuple[Judged, Judged | None, Evidence]:
    """The model against its lead-only baseline and against its placebo (None if not
    fitted) on the validation rows, and the gate's evidence from both.

    The placebo's figures are the second `Judged`'s `baseline`. Same seed and rows, so
    both gains come from the same bootstrap resamples, pair for pair.
    """
    y_val = fitted.data.y[fitted.split.validation]
    scores, base_scores = fitted.validation_scores()
    judged = judge(y_val, scores.probability, base_scores.probability, seed=seed)
    evidence = replace(judged.evidence("lightgbm"), claim=CLAIMS[fitted.data.role])
    placebo_scores = fitted.placebo_scores()
    if placebo_scores is None:
        return judged, None, evidence
    placebo = judge(y_val, scores.probability, placebo_scores.probability, seed=seed)
    evidence = replace(
        evidence,
        placebo=placebo.baseline[GATE_METRIC],
        placebo_gain=placebo.intervals.roc_auc_difference,
    )
    return judged, placebo, evidence


def log_placebo(placebo: Judged) -> None:
    """placebo_val_* metrics, their intervals, and the paired interval of the gain over it."""
    mlflow.log_metrics({f"placebo_val_{k}": v for k, v in placebo.baseline.items()})
    for metric, (low, high) in placebo.intervals.by_model[BASELINE].items():
        mlflow.log_metrics(
            {f"placebo_val_{metric}_ci_low": low, f"placebo_val_{metric}_ci_high": high}
        )
    if placebo.intervals.roc_auc_difference is not None:
        low, high = placebo.intervals.roc_auc_difference
        mlflow.log_metrics(
            {"val_roc_auc_placebo_gain_ci_low": low, "val_roc_auc_placebo_gain_ci_high": high}
        )
