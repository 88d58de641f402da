"""The routing evaluation as MLflow metrics, a JSON artifact and printable rows.

`policy_metrics` and `summary_rows` are pure; `log_policy_evaluation` and
`log_policy_evaluation_skipped` are the MLflow edge, called inside the
closer-fit run by `training.rep_pipeline`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from training.routing_evaluation.lifts import (
    interval_metrics,
    interval_text,
    lift_sentence,
    verdict,
)
from training.routing_evaluation.mlflow_log import log_evaluation, log_skipped
from training.routing_evaluation.off_policy import OffPolicyEstimate
from training.routing_evaluation.simulated import PolicyResult, RoutingEvaluation

ARTIFACT = "policy_evaluation.json"
PREFIX = {
    "leadscore": "policy",
    "round_robin": "round_robin",
    "historical": "historical",
    "oracle": "oracle",
}
LABEL = {
    "leadscore": "leadscore policy",
    "round_robin": "round-robin",
    "historical": "historical assignment",
    "oracle": "best eligible closer (truth)",
    "greedy": "leadscore greedy (no exploration)",
}


def _policy(prefix: str, result: PolicyResult) -> dict[str, float]:
    return {
        **interval_metrics(f"{prefix}_win_rate", result.win_rate),
        f"{prefix}_best_rep_share": result.best_rep_share,
        f"{prefix}_load_gini": result.load_gini,
        # MLflow stores no infinity: a closer with no lead at all is logged as -1.
        f"{prefix}_load_max_min": result.load_max_min
        if math.isfinite(result.load_max_min)
        else -1.0,
        f"{prefix}_peak_utilisation": result.peak_utilisation,
    }


def _ope(estimate: OffPolicyEstimate) -> dict[str, float]:
    suffix = estimate.target + (
        "" if estimate.logging == "leadscore" else f"_from_{estimate.logging}"
    )
    out = {
        **interval_metrics(f"ope_ips_{suffix}", estimate.ips),
        **interval_metrics(f"ope_snips_{suffix}", estimate.snips),
        **interval_metrics(f"ope_dr_{suffix}", estimate.dr),
        f"ope_ess_{suffix}": estimate.effective_sample_size,
    }
    if estimate.truth is not None:
        out[f"truth_{suffix}"] = estimate.truth
    return out


def policy_metrics(evaluation: RoutingEvaluation) -> dict[str, float]:
    """Every figure of the evaluation under a flat MLflow metric name."""
    out: dict[str, float] = {}
    for name, result in evaluation.policies.items():
        out |= _policy(PREFIX[name], result)
    out |= interval_metrics("policy_lift_over_round_robin", evaluation.lift_over_round_robin)
    out |= interval_metrics("policy_lift_over_historical", evaluation.lift_over_historical)
    out |= {
        "policy_eval_leads": float(evaluation.leads),
        "best_rep_share_chance": evaluation.best_rep_chance,
        "policy_capacity_bound_share": evaluation.capacity_bound_share,
        "policy_explored_share": evaluation.explored_share,
        "historical_over_capacity_share": evaluation.policies["historical"].over_capacity
        / evaluation.leads,
    }
    for estimate in evaluation.off_policy:
        out |= _ope(estimate)
    for point in evaluation.fairness_curve:
        out[f"policy_win_rate_fairness_{point.fairness:g}"] = point.win_rate
        out[f"policy_load_gini_fairness_{point.fairness:g}"] = point.load_gini
    return out


def policy_params(evaluation: RoutingEvaluation) -> dict[str, Any]:
    s, c = evaluation.settings, evaluation.config
    return {
        "policy_eval": "replay of the validation leads against the generator's truth",
        "policy_eval_hold_leads": s.hold_leads,
        "policy_eval_headroom": s.headroom,
        "policy_eval_capacity": ",".join(str(x) for x in sorted(set(evaluation.capacity))),
        "policy_eval_interval": f"percentile bootstrap over leads, {s.resamples} resamples, "
        f"{s.confidence:.0%}",
        "policy_eval_fairness": c.fairness,
        "policy_eval_exploration": f"{c.mode} {c.exploration:g}",
        "policy_lift_verdict_over_round_robin": verdict(evaluation.lift_over_round_robin),
        "policy_lift_verdict_over_historical": verdict(evaluation.lift_over_historical),
    }


def evaluation_dict(evaluation: RoutingEvaluation) -> dict[str, Any]:
    """The evaluation as plain JSON-ready data, without the raw replays."""
    data: dict[str, Any] = dataclasses.asdict(dataclasses.replace(evaluation, traces={}))
    data.pop("traces")
    for result in data["policies"].values():
        if not math.isfinite(result["load_max_min"]):
            result["load_max_min"] = None  # a closer got no lead; JSON has no infinity
    data["metrics"] = policy_metrics(evaluation)
    return data


def log_policy_evaluation(evaluation: RoutingEvaluation) -> None:
    """Log the evaluation into the active MLflow run: params, metrics and the JSON artifact."""
    log_evaluation(
        policy_params(evaluation), policy_metrics(evaluation), evaluation_dict(evaluation), ARTIFACT
    )


def log_policy_evaluation_skipped(reason: str) -> None:
    """Say on the run why there is no routing evaluation (no truth: real data)."""
    log_skipped("policy_eval", reason)


def summary_rows(evaluation: RoutingEvaluation) -> list[tuple[str, str]]:
    """(what, figure) rows for a console table."""
    s = evaluation.settings
    capacity = "/".join(str(c) for c in sorted(set(evaluation.capacity)))
    rows = [
        (
            "replay",
            f"{evaluation.leads:,} validation leads, {len(evaluation.closers)} closers, "
            f"deals open for {s.hold_leads} leads, capacity {capacity}",
        ),
    ]
    for name, result in evaluation.policies.items():
        rows.append((f"true win rate: {LABEL[name]}", interval_text(result.win_rate)))
    rows += [
        (
            "lift over round-robin (truth)",
            lift_sentence(evaluation.lift_over_round_robin, "round-robin"),
        ),
        (
            "lift over historical (truth)",
            lift_sentence(evaluation.lift_over_historical, "the historical assignment"),
        ),
        (
            "chose the truly best closer with room",
            f"{evaluation.policies['leadscore'].best_rep_share:.1%} of leads "
            f"(chance {evaluation.best_rep_chance:.1%})",
        ),
        ("model's favourite closer was full", f"{evaluation.capacity_bound_share:.1%} of leads"),
    ]
    for name, result in evaluation.policies.items():
        rows.append(
            (
                f"load balance: {LABEL[name]}",
                f"Gini {result.load_gini:.3f}, max/min {result.load_max_min:.2f}, "
                f"peak {result.peak_utilisation:.0%} of capacity",
            )
        )
    for point in evaluation.fairness_curve:
        rows.append(
            (
                f"leadscore policy at fairness {point.fairness:g}",
                f"true win rate {point.win_rate:.3f}, load Gini {point.load_gini:.3f}",
            )
        )
    for e in evaluation.off_policy:
        truth = "" if e.truth is None else f"; truth {e.truth:.3f}"
        rows.append(
            (
                f"off-policy {LABEL.get(e.target, e.target)} from the {LABEL[e.logging]} log",
                f"DR {interval_text(e.dr)}; IPS {e.ips.value:.3f}; "
                f"SNIPS {e.snips.value:.3f}{truth} "
                f"(effective sample {e.effective_sample_size:,.0f} of {e.decisions:,})",
            )
        )
    return rows
