"""The doubly robust routing estimate as MLflow params, metrics, a JSON artifact and
printable rows, and read back from a run for `leadscore route`.

Every lift goes out with its interval and its verdict in words: a metric
``routing_dr_lift_*`` always has ``*_ci_low`` / ``*_ci_high`` beside it and a
``routing_verdict_*`` param; the console rows and `recorded_lifts` print the
sentence from `training.routing_evaluation.lifts.lift_sentence`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from training.routing_evaluation.doubly_robust import (
    LABEL,
    LIFT_WORDS,
    OUTCOME_MODEL,
    POLICY_REPLAYED,
    RoutingEstimate,
)
from training.routing_evaluation.lifts import (
    Interval,
    interval_metrics,
    interval_text,
    lift_sentence,
)
from training.routing_evaluation.mlflow_log import log_evaluation, log_skipped

ARTIFACT = "routing_ope.json"
LIFT_METRIC = {
    "round_robin": "routing_dr_lift_over_round_robin",
    "historical": "routing_dr_lift_over_historical",
    "placebo_over_round_robin": "routing_dr_placebo_lift_over_round_robin",
}
VERDICT_PARAM = {
    "round_robin": "routing_verdict_over_round_robin",
    "historical": "routing_verdict_over_historical",
    "placebo_over_round_robin": "routing_verdict_placebo_over_round_robin",
}


def routing_ope_metrics(estimate: RoutingEstimate) -> dict[str, float]:
    """Every figure under a flat metric name; truth checks only where the truth was read."""
    out: dict[str, float] = {
        "routing_dr_deals": float(estimate.deals),
        "routing_overflow_share": estimate.overflow_share,
        "routing_propensity_exceptions": float(estimate.propensity_exceptions),
    }
    for name, policy in estimate.policies.items():
        out |= interval_metrics(f"routing_dr_{name}", policy.value)
        out[f"routing_ess_{name}"] = policy.effective_sample_size
        if policy.truth is not None:
            out[f"routing_truth_{name}"] = policy.truth
    for key, lift in estimate.lifts.items():
        out |= interval_metrics(LIFT_METRIC[key], lift.interval)
        if lift.truth is not None:
            out[LIFT_METRIC[key].replace("_dr_", "_truth_")] = lift.truth
    if (check := estimate.propensity_check) is not None:
        out["routing_propensity_mae_vs_known"] = check.mean_absolute_error
        out["routing_propensity_logged_relative_error"] = check.logged_relative_error
        out |= interval_metrics(
            "routing_dr_lift_over_round_robin_known_propensity",
            check.lift_over_round_robin_with_known,
        )
    return out


def routing_ope_params(estimate: RoutingEstimate) -> dict[str, str]:
    """How the estimate was made, and each lift's verdict and sentence."""
    s = estimate.settings
    out = {
        "routing_eval": "doubly robust estimate from the history alone, on the closer-fit "
        "validation period; historical propensities estimated (no truth read)",
        "routing_outcome_model": OUTCOME_MODEL,
        "routing_policy": f"{POLICY_REPLAYED} (fairness {estimate.config.fairness:g}, "
        f"deals open for {s.hold_leads} leads, headroom {s.headroom:g})",
        "routing_propensity": f"cross-fitted smoothed frequencies by "
        f"{' x '.join(estimate.strata) or 'nothing (one stratum)'}; {estimate.rules}"
        + _logged_note(estimate),
        "routing_placebo": "the same policy driven by the fit with closer ids permuted "
        "within each region/segment group",
        "routing_interval": f"percentile bootstrap over deals, {s.resamples} resamples, "
        f"{s.confidence:.0%}, paired for lifts",
    }
    for key, lift in estimate.lifts.items():
        out[VERDICT_PARAM[key]] = lift.verdict
        out[VERDICT_PARAM[key].replace("_verdict_", "_lift_sentence_")] = lift.sentence
    return {k: v[:500] for k, v in out.items()}


def routing_ope_dict(estimate: RoutingEstimate) -> dict[str, Any]:
    """The estimate as plain JSON-ready data, without the per-deal choices."""
    data: dict[str, Any] = dataclasses.asdict(dataclasses.replace(estimate, chosen={}))
    data.pop("chosen")
    data["metrics"] = routing_ope_metrics(estimate)
    data["params"] = routing_ope_params(estimate)
    return data


def log_routing_ope(estimate: RoutingEstimate) -> None:
    """Log the estimate into the active MLflow run: params, metrics and the JSON artifact."""
    log_evaluation(
        routing_ope_params(estimate),
        routing_ope_metrics(estimate),
        routing_ope_dict(estimate),
        ARTIFACT,
    )


def log_routing_ope_skipped(reason: str) -> None:
    """Say on the run why there is no doubly robust routing estimate."""
    log_skipped("routing_eval", reason)


def _logged_note(estimate: RoutingEstimate) -> str:
    """How many deals use the propensity the service logged instead of the estimate."""
    if not estimate.propensities_logged:
        return ""
    return (
        f"; {estimate.propensities_logged:,} of {estimate.deals:,} deals use the propensity "
        "the service logged when it routed them (decisions.parquet)"
    )


def routing_ope_rows(estimate: RoutingEstimate) -> list[tuple[str, str]]:
    """(what, figure) rows for a console table: every value with its interval and effective
    sample size, every lift with its interval and verdict."""
    rows = [
        (
            "evaluated",
            f"{estimate.deals:,} validation deals, {len(estimate.closers)} closers; "
            f"propensities by {' x '.join(estimate.strata) or 'one stratum'}; {estimate.rules}"
            + _logged_note(estimate),
        ),
    ]
    for name, policy in estimate.policies.items():
        truth = "" if policy.truth is None else f"; truth {policy.truth:.3f}"
        rows.append(
            (
                f"win rate, {LABEL[name]}",
                f"DR {interval_text(policy.value)}, effective sample "
                f"{policy.effective_sample_size:,.0f} of {estimate.deals:,}{truth}",
            )
        )
    for lift in estimate.lifts.values():
        truth = "" if lift.truth is None else f"; truth {lift.truth:+.3f}"
        rows.append((f"{LABEL[lift.policy]} vs {LABEL[lift.over]}", lift.sentence + truth))
    if (check := estimate.propensity_check) is not None:
        known = lift_sentence(check.lift_over_round_robin_with_known, "round-robin")
        rows.append(
            (
                "check: estimated propensities against the generator's",
                f"mean absolute error {check.mean_absolute_error:.4f}; "
                f"with the known ones: {known}",
            )
        )
    return rows


def recorded_lifts(params: Mapping[str, str], metrics: Mapping[str, float]) -> list[str]:
    """The DR lifts a closer-fit run recorded, as sentences with interval and verdict
    (empty when the run has no DR evaluation)."""
    lines = []
    for key, metric in LIFT_METRIC.items():
        needed = (metric, f"{metric}_ci_low", f"{metric}_ci_high")
        if not all(name in metrics for name in needed):
            continue
        interval = Interval(*(float(metrics[name]) for name in needed))
        who, over = LIFT_WORDS[key]
        lines.append(lift_sentence(interval, over, who))
    return lines
