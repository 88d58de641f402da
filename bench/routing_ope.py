"""Doubly robust routing evaluation on generated histories where the answer is known.

    .venv/bin/python bench/routing_ope.py [--leads 100000] [--seeds 20] [--first-seed 1]

For each scenario (closers truly differ; no closer changes any outcome, with the
historical routing and with territory routing) and each seed: generate a history,
fit the closer-fit model as training does, and estimate the routing policies from
the history alone (`training.routing_evaluation.doubly_robust`: estimated
propensities, DR, bootstrap intervals). The truth is read afterwards, only to
check. Prints, per scenario, how often each lift's verdict was better / no
evidence / worse, how often its interval held the true lift, the mean estimated
and true lifts, and how often the fit's AUC gain over the lead-only model was
significant (what the gate needs to promote a rep fit). Results also go to
`.leadscore/bench/routing_ope.json`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/routing_ope.py` from anywhere

OUT = ROOT / ".leadscore" / "bench" / "routing_ope.json"
SCENARIOS: dict[str, dict[str, Any]] = {
    "closers differ": {},
    "closers differ, territory routing": {"assignment": "territory"},
    "no owner effect": {"rep_effects": False},
    "no owner effect, territory routing": {"rep_effects": False, "assignment": "territory"},
}
LIFTS = ("round_robin", "historical", "placebo_over_round_robin")


def run_one(leads: int, seed: int, changes: dict[str, Any]) -> dict[str, Any]:
    """One history: the estimate's lifts, verdicts and the truth beside them."""
    from data.generator.generator_config import GeneratorConfig
    from data.generator.synthesis import generate
    from features.rep_features import closer_spec
    from training.flow import judge
    from training.rep_data import closer_data
    from training.role_fit import fit_rep, rep_training_config
    from training.routing_evaluation.doubly_robust import estimate_routing
    from training.routing_evaluation.simulated import Truth

    config = GeneratorConfig(leads=leads, seed=seed, **changes)
    tables = generate(config)
    spec = closer_spec()
    data = closer_data(tables["leads"], tables["opportunities"], tables["reps"], spec)
    fitted = fit_rep(data, spec, rep_training_config())
    estimate = estimate_routing(
        data.rows, fitted.split.validation, tables["reps"], fitted.model, seed=seed
    )
    truth = Truth(
        tables["truth_leads"], tables["truth_closer_effects"], tables["reps"], config.region_loyalty
    )
    checked = estimate_routing(
        data.rows, fitted.split.validation, tables["reps"], fitted.model, seed=seed, truth=truth
    )
    assert checked.lifts["round_robin"].interval == estimate.lifts["round_robin"].interval
    out: dict[str, Any] = {"seed": seed, "deals": estimate.deals, "strata": list(estimate.strata)}
    # The gate's first condition for a rep fit: its AUC gain over the lead-only model is
    # significantly above 0 (`baseline_rule="must_beat"`).
    scores, base = fitted.validation_scores()
    y = data.y[fitted.split.validation]
    gain = judge(y, scores.probability, base.probability, seed=seed).intervals.roc_auc_difference
    out["beats_lead_only_model"] = bool(gain is not None and gain[0] > 0)
    for key in LIFTS:
        lift = checked.lifts[key]
        interval = lift.interval
        out[key] = {
            "value": interval.value,
            "low": interval.low,
            "high": interval.high,
            "verdict": lift.verdict,
            "truth": lift.truth,
        }
    out["ess"] = {name: p.effective_sample_size for name, p in checked.policies.items()}
    assert checked.propensity_check is not None
    out["propensity_mean_absolute_error"] = checked.propensity_check.mean_absolute_error
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS))
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    results: dict[str, list[dict[str, Any]]] = {}
    for name in args.scenario or list(SCENARIOS):
        started = time.perf_counter()
        results[name] = [run_one(args.leads, seed, SCENARIOS[name]) for seed in seeds]
        runs = results[name]
        seconds = time.perf_counter() - started
        print(
            f"\n{name}: {len(runs)} seeds of {args.leads:,} leads "
            f"(~{runs[0]['deals']:,} validation deals), {seconds:.0f} s"
        )
        for key in LIFTS:
            verdicts = Counter(r[key]["verdict"] for r in runs)
            held = sum(r[key]["low"] <= r[key]["truth"] <= r[key]["high"] for r in runs)
            mean = sum(r[key]["value"] for r in runs) / len(runs)
            true = sum(r[key]["truth"] for r in runs) / len(runs)
            print(
                f"  lift {key:<25} better {verdicts['better']:>2}, no evidence "
                f"{verdicts['no evidence']:>2}, worse {verdicts['worse']:>2}; interval held "
                f"the truth {held}/{len(runs)}; mean DR {mean:+.3f}, mean truth {true:+.3f}"
            )
        beats = sum(r["beats_lead_only_model"] for r in runs)
        print(f"  closer fit beats the lead-only model (the gate's must-beat): {beats}/{len(runs)}")
        ess = {p: sum(r["ess"][p] for r in runs) / len(runs) for p in runs[0]["ess"]}
        print("  mean effective sample size: " + ", ".join(f"{p} {v:,.0f}" for p, v in ess.items()))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"leads": args.leads, "results": results}, indent=2))
    print(f"\nwritten to {OUT}")


if __name__ == "__main__":
    main()
