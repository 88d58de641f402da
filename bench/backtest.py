"""Rolling-origin backtest of the lead-score training schemes on generated histories.

    .venv/bin/python bench/backtest.py [--leads 200000] [--seed 11] [--channel inbound]
                                       [--history drifting] [--origins 6] [--threads 2]

For a drifting history (`GeneratorConfig(drift=True)`: the conversion rate
rises about four-fold, one effect flips, new sources appear) and a
stationary one from the same seed, and for each channel: at every origin
(every two months over the last year of resolved leads) the scheme used
before drift-aware training (`legacy`: oldest 65% to train, next 15% to stop
and calibrate) and the drift-aware production model (`drift_aware`: refit on
every row known at the origin) learn from the leads known at the origin and
score the next two months. Prints ROC AUC and log loss per origin, the mean
paired difference with its bootstrap interval and a verdict. Results also go
to `.leadscore/bench/backtest.json`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from training.backtest import Backtest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/backtest.py` from anywhere

OUT = ROOT / ".leadscore" / "bench" / "backtest.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--channel", action="append", choices=["inbound", "outbound"])
    parser.add_argument("--history", action="append", choices=["drifting", "stationary"])
    parser.add_argument("--origins", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from data.generator.generator_config import GeneratorConfig
    from data.generator.synthesis import generate
    from features.lead_features import default_spec
    from training.backtest import METRICS, BacktestConfig, backtest
    from training.channel_data import channel_data
    from training.training_config import TrainingConfig

    config = BacktestConfig(origins=args.origins, training=TrainingConfig(threads=args.threads))
    report: dict[str, dict[str, object]] = {}
    for history in args.history or ["drifting", "stationary"]:
        drift = history == "drifting"
        tables = generate(GeneratorConfig(leads=args.leads, seed=args.seed, drift=drift))
        for channel in args.channel or ["inbound", "outbound"]:
            spec = default_spec(channel)
            data = channel_data(tables["leads"], tables["opportunities"], channel, "won", spec)
            started = time.perf_counter()
            result = backtest(data, spec, config)
            seconds = time.perf_counter() - started
            print(
                f"\n{history} history, {channel}: {len(data.y):,} labelled leads "
                f"({args.leads:,} generated, seed {args.seed}), {seconds:.0f} s"
            )
            print(table(result))
            for metric in METRICS:
                print("  " + result.verdict(metric))
            report[f"{history}/{channel}"] = as_dict(result, seconds)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {OUT}")


def table(result: Backtest) -> str:
    header = (
        f"  {'origin':<10} {'learnt':>7} {'scored':>7} {'rate':>6} | "
        f"{'AUC legacy':>10} {'drift-aw.':>9} {'diff':>7} | "
        f"{'logloss legacy':>14} {'drift-aw.':>9} {'diff':>7} | rounds"
    )
    lines = [header, "  " + "-" * (len(header) - 2)]
    for o in result.origins:
        old, new = o.metrics["legacy"], o.metrics["drift_aware"]
        lines.append(
            f"  {o.origin.date()!s:<10} {o.learnt_rows:>7,} {o.scored_rows:>7,} "
            f"{o.scored_rate:>6.1%} | {old['roc_auc']:>10.4f} {new['roc_auc']:>9.4f} "
            f"{new['roc_auc'] - old['roc_auc']:>+7.4f} | {old['log_loss']:>14.4f} "
            f"{new['log_loss']:>9.4f} {new['log_loss'] - old['log_loss']:>+7.4f} | "
            f"{o.rounds['legacy']}/{o.rounds['drift_aware']}"
        )
    for skipped in result.skipped:
        lines.append(f"  skipped {skipped}")
    return "\n".join(lines)


def as_dict(result: Backtest, seconds: float) -> dict[str, object]:
    return {
        "seconds": round(seconds, 1),
        "origins": [
            {
                "origin": str(o.origin.date()),
                "learnt_rows": o.learnt_rows,
                "scored_rows": o.scored_rows,
                "scored_rate": o.scored_rate,
                "metrics": o.metrics,
                "rounds": o.rounds,
            }
            for o in result.origins
        ],
        "difference": result.difference,
        "interval": result.interval,
        "verdicts": [result.verdict(m) for m in result.difference],
        "skipped": result.skipped,
    }


if __name__ == "__main__":
    main()
