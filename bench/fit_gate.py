"""How often the rep-fit gate promotes, with and without a real owner effect.

    .venv/bin/python bench/fit_gate.py [--role closer] [--leads 20000] [--seeds 20]
                                       [--scenario real] [--scenario none] ...

For each scenario and seed, a history straight from `write_history`: `real` (owners
differ, historical routing), `none` (no owner changes any outcome, historical
routing) and `territory` (no owner effect, owners only from the lead's region).
Fits the role's model, its lead-only baseline and its placebo (owners shuffled within
territory and segment), and applies the gate with the placebo (new rule) and without
it (old rule: beat the baseline only). Prints the promoted counts per scenario and
writes every run's figures to `.leadscore/bench/fit_gate.json`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/fit_gate.py` from anywhere

from data.contract import Role  # noqa: E402
from data.generator.generator_config import GeneratorConfig  # noqa: E402
from data.generator.synthesis import write_history  # noqa: E402
from features.rep_features import account_manager_spec, closer_spec  # noqa: E402
from training.gate import decide  # noqa: E402
from training.placebo import with_placebo  # noqa: E402
from training.rep_evidence import judge_fit  # noqa: E402
from training.rep_pipeline import role_data  # noqa: E402
from training.role_fit import fit_rep, rep_training_config  # noqa: E402
from training.training_config import TrainingConfig  # noqa: E402

OUT = ROOT / ".leadscore" / "bench" / "fit_gate.json"
SCENARIOS = {
    "real": {"rep_effects": True, "assignment": "historical"},
    "none": {"rep_effects": False, "assignment": "historical"},
    "territory": {"rep_effects": False, "assignment": "territory"},
}
"""Scenario name -> the `GeneratorConfig` fields it sets."""


@dataclass(frozen=True)
class GateRun:
    """One history's figures and both rules' verdicts."""

    scenario: str
    role: str
    seed: int
    leads: int
    validation_rows: int
    auc: float
    baseline_auc: float
    placebo_auc: float
    baseline_gain: tuple[float, float]
    placebo_gain: tuple[float, float]
    promoted: bool
    """The gate as it is: beat the baseline and the placebo."""
    promoted_old_rule: bool
    """The gate before the placebo: beat the baseline only."""
    reason: str


def gate_run(
    folder: Path, role: Role, scenario: str, seed: int, leads: int, config: TrainingConfig
) -> GateRun:
    """Generate the history into `folder`, fit the three models and apply both rules."""
    write_history(GeneratorConfig(leads=leads, seed=seed, **SCENARIOS[scenario]), folder)  # type: ignore[arg-type]
    spec = closer_spec() if role is Role.closer else account_manager_spec()
    data = role_data(folder, role, spec)
    fitted = with_placebo(fit_rep(data, spec, config), spec, config)
    judged, placebo, evidence = judge_fit(fitted, config.seed)
    assert placebo is not None and evidence.baseline_gain and evidence.placebo_gain
    gate = decide(evidence, None, baseline_rule="must_beat")
    old = decide(
        replace(evidence, placebo=None, placebo_gain=None), None, baseline_rule="must_beat"
    )
    return GateRun(
        scenario=scenario,
        role=role.value,
        seed=seed,
        leads=leads,
        validation_rows=len(fitted.split.validation),
        auc=judged.metrics["roc_auc"],
        baseline_auc=judged.baseline["roc_auc"],
        placebo_auc=placebo.baseline["roc_auc"],
        baseline_gain=evidence.baseline_gain,
        placebo_gain=evidence.placebo_gain,
        promoted=gate.promote,
        promoted_old_rule=old.promote,
        reason=gate.reason,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--role",
        choices=[r.value for r in (Role.closer, Role.account_manager)],
        default=Role.closer.value,
    )
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS))
    parser.add_argument("--min-positives", type=int, default=40)
    args = parser.parse_args()
    role = Role(args.role)
    config = rep_training_config(min_positives=args.min_positives)
    runs: list[GateRun] = []
    started = time.perf_counter()
    for scenario in args.scenario or list(SCENARIOS):
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            with tempfile.TemporaryDirectory(prefix="fit-gate-") as tmp:
                run = gate_run(Path(tmp), role, scenario, seed, args.leads, config)
            runs.append(run)
            print(
                f"{scenario:9} seed {seed:2}: AUC {run.auc:.3f} base {run.baseline_auc:.3f} "
                f"placebo {run.placebo_auc:.3f}; gain vs base {run.baseline_gain[0]:+.3f}.."
                f"{run.baseline_gain[1]:+.3f}, vs placebo {run.placebo_gain[0]:+.3f}.."
                f"{run.placebo_gain[1]:+.3f} -> new {'PROMOTED' if run.promoted else 'no'}, "
                f"old {'PROMOTED' if run.promoted_old_rule else 'no'} "
                f"({run.validation_rows:,} validation rows)",
                flush=True,
            )
    print(
        f"\n{role.value}, {args.leads:,} leads per history, {time.perf_counter() - started:.0f} s"
    )
    for scenario in args.scenario or list(SCENARIOS):
        mine = [r for r in runs if r.scenario == scenario]
        print(
            f"{scenario:9}: promoted {sum(r.promoted for r in mine)}/{len(mine)} "
            f"(old rule, baseline only: {sum(r.promoted_old_rule for r in mine)}/{len(mine)})"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps([asdict(r) for r in runs], indent=2))


if __name__ == "__main__":
    main()
