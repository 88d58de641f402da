"""Batch re-scoring benchmark: the local engine end to end against a bare Booster.predict.

    .venv/bin/python bench/batch.py [--chunks 10] [--chunk-rows 1000000] [--threads 2]

Generates once (cached under `.leadscore/bench/batch/`) ten Parquet files of
a million leads each, from different seeds, written one at a time so memory
stays sane; trains the models once into `.leadscore/bench/leads-50000/`
(the store `bench/serve.py` uses too). Then, each in its own subprocess:

- bare: LightGBM `Booster.predict` on ready numpy matrices of the first
  million leads (features built beforehand, not timed; best of three);
- local 1M: `leadscore rescore` on the first file (read, check, features,
  predict, write), models loaded before the clock starts;
- local 10M: the same on the folder of all ten files.

Both use the same LightGBM threads. Bare and the 1M run go twice, before
and after the 10M run, and the faster of each counts. Peak memory is each child's own
`ru_maxrss` (`os.wait4`: RUSAGE_CHILDREN would report the largest child so
far, not this one); this process stays lean (stdlib only, the preparation
runs in a child too) because a child's peak counts the parent's memory it
was forked from. The machine may be shared: the table shows how many cores
other processes kept busy during each run. Results also go to
`.leadscore/bench/batch.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/batch.py` from anywhere

BENCH = ROOT / ".leadscore" / "bench"
MODELS = BENCH / "leads-50000"
INPUTS = BENCH / "batch" / "leads"


def store_uri(folder: Path) -> str:
    return f"sqlite:///{folder / 'mlflow.db'}"


def prepare_models() -> str:
    """A store with both champions trained on 50,000 generated leads; reused when present."""
    from mlflow import MlflowClient

    from data.generator.generator_config import GeneratorConfig
    from data.generator.synthesis import write_history
    from training.pipeline import train_lead_scores
    from training.tracking import TrackingTarget

    uri = store_uri(MODELS)
    if (MODELS / "mlflow.db").exists():
        try:
            MlflowClient(uri).get_model_version_by_alias("lead-score-outbound", "champion")
            return uri
        except Exception:
            print(f"{MODELS} has no champion: training again", file=sys.stderr)
    print(f"generating 50,000 leads and training both channels into {MODELS}", file=sys.stderr)
    write_history(GeneratorConfig(leads=50_000, seed=7), MODELS / "data")
    train_lead_scores(
        MODELS / "data", TrackingTarget(uri, "bench", (MODELS / "mlartifacts").as_uri())
    )
    return uri


def prepare_inputs(chunks: int, rows: int) -> list[Path]:
    """`chunks` Parquet files of `rows` leads each (ids unique across files); cached."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from data.contract import Lead, arrow_schema
    from data.generator.generator_config import GeneratorConfig
    from data.generator.synthesis import generate

    folder = INPUTS / f"{chunks}x{rows}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"part-{i:03d}.parquet" for i in range(chunks)]
    for i, path in enumerate(paths):
        if path.exists():
            continue
        started = time.perf_counter()
        leads = generate(GeneratorConfig(leads=rows, seed=100 + i))["leads"]
        leads["lead_id"] = np.char.add(f"C{i:03d}-", leads["lead_id"].to_numpy(dtype=str))
        schema = arrow_schema(Lead)
        table = pa.Table.from_pandas(leads[schema.names], schema=schema, preserve_index=False)
        del leads
        temporary = path.with_name(f".{path.name}.tmp")  # hidden: not read as input
        pq.write_table(table, temporary, row_group_size=100_000)
        temporary.replace(path)
        print(f"generated {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return paths


def child_bare(args: argparse.Namespace) -> dict[str, Any]:
    """Booster.predict on ready matrices of the input's leads, per channel; best of three."""
    import pyarrow.parquet as pq

    from features.columns import from_frame
    from serving.batch.job import load_models

    models, _ = load_models(args.tracking_uri, "champion")
    frame = pq.read_table(args.input).to_pandas()
    work = []
    for channel, entry in models.items():
        rows = frame.loc[frame["channel"] == channel]
        spec = entry.model.spec
        work.append((entry.model.booster, spec.transform(from_frame(rows, spec.input_fields))))
    del frame
    rows = sum(len(matrix) for _, matrix in work)
    best, cpu = float("inf"), 0.0
    for _ in range(3):
        started, cpu_started = time.perf_counter(), time.process_time()
        for booster, matrix in work:
            booster.predict(matrix, num_threads=args.threads)
        if (seconds := time.perf_counter() - started) < best:
            best, cpu = seconds, time.process_time() - cpu_started
    trees = {c: m.model.trees.num_trees() for c, m in models.items()}
    return {"rows": rows, "seconds": best, "cpu_seconds": cpu, "trees": trees}


def child_local(args: argparse.Namespace) -> dict[str, Any]:
    """The local engine end to end, models loaded before the clock starts."""
    from serving.batch.io import open_source
    from serving.batch.job import load_models
    from serving.batch.local import run_local
    from serving.batch.scoring import ScoringTask

    models, _ = load_models(args.tracking_uri, "champion")
    # --threads scorers of one LightGBM thread each: the same threads as bare predict.
    task = ScoringTask(reasons=0, scored_at=datetime.now(UTC), threads=1)
    started, cpu_started = time.perf_counter(), time.process_time()
    source = open_source(args.input)
    tally = run_local(source, args.output, task, models, args.batch_size, workers=args.threads)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {"rows": tally.rows, "seconds": seconds, "cpu_seconds": cpu}


def _busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def child_prepare(args: argparse.Namespace) -> dict[str, Any]:
    uri = prepare_models()
    paths = prepare_inputs(args.chunks, args.chunk_rows)
    return {"tracking_uri": uri, "small": str(paths[0]), "large": str(paths[0].parent)}


def measure(mode: str, source: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one measurement in a child process; its result, peak RSS and the machine's load."""
    command = [sys.executable, __file__, "--child", mode, "--input", str(source)]
    command += ["--chunks", str(args.chunks), "--chunk-rows", str(args.chunk_rows)]
    command += ["--threads", str(args.threads), "--batch-size", str(args.batch_size)]
    command += [
        "--tracking-uri",
        args.tracking_uri,
        "--output",
        str(BENCH / "batch" / "out.parquet"),
    ]
    busy, started = _busy_cpu_seconds(), time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # ours, stdlib only
    assert child.stdout is not None
    printed = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the {mode} run failed:\n{printed}")
    result: dict[str, Any] = json.loads(printed.strip().splitlines()[-1])
    if mode == "prepare":
        return result
    child_cpu = usage.ru_utime + usage.ru_stime
    result["rows_per_second"] = result["rows"] / result["seconds"]
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result["cpu_per_row_us"] = result["cpu_seconds"] / result["rows"] * 1e6
    result["other_cores"] = max(0.0, (_busy_cpu_seconds() - busy - child_cpu) / wall)
    return result


def _faster(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return a if a["seconds"] <= b["seconds"] else b


def _count(rows: int) -> str:
    return f"{rows / 1e6:g}M" if rows >= 1_000_000 else f"{rows / 1e3:g}k"


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    bare_run, small, large = results.values()
    bare = bare_run["rows_per_second"]
    print(f"\nthreads={args.threads} batch size={args.batch_size:,} trees={bare_run['trees']}")
    print(
        f"{'run':<18}{'rows':>12}{'seconds':>9}{'rows/s':>11}{'x bare':>8}"
        f"{'CPU us/row':>12}{'peak RSS MB':>13}{'other cores':>13}"
    )
    for name, r in results.items():
        print(
            f"{name:<18}{r['rows']:>12,}{r['seconds']:>9.1f}{r['rows_per_second']:>11,.0f}"
            f"{r['rows_per_second'] / bare:>8.2f}{r['cpu_per_row_us']:>12.1f}"
            f"{r['peak_rss_mb']:>13,.0f}{r['other_cores']:>13.2f}"
        )
    print(
        f"\nend to end / bare predict: {small['rows_per_second'] / bare:.2f} (small), "
        f"{large['rows_per_second'] / bare:.2f} (large); target >= 0.70"
    )
    rss = large["peak_rss_mb"] / small["peak_rss_mb"]
    print(
        f"peak RSS large / small: {rss:.2f} ({large['rows'] / small['rows']:g}x the rows); "
        "target <= 1.20"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--chunks", type=int, default=10, help="files of generated leads")
    parser.add_argument("--chunk-rows", type=int, default=1_000_000, help="leads per file")
    parser.add_argument(
        "--threads", type=int, default=2, help="LightGBM threads in all (bare; engine scorers)"
    )
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tracking-uri", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)), flush=True)
        return
    args.tracking_uri = ""
    prepared = measure("prepare", Path(), args)
    args.tracking_uri = prepared["tracking_uri"]
    small, large = Path(prepared["small"]), Path(prepared["large"])
    # Bare and small runs twice, at different moments, the faster counting: a busy
    # machine then penalises neither side more than the other.
    bare_first, small_first = measure("bare", small, args), measure("local", small, args)
    large_run = measure("local", large, args)
    bare = _faster(bare_first, measure("bare", small, args))
    small_run = _faster(small_first, measure("local", small, args))
    results = {
        f"bare predict {_count(args.chunk_rows)}": bare,
        f"local {_count(args.chunk_rows)}": small_run,
        f"local {_count(args.chunks * args.chunk_rows)}": large_run,
    }
    report(results, args)
    (BENCH / "batch.json").write_text(json.dumps(results, indent=2))


CHILDREN = {"prepare": child_prepare, "bare": child_bare, "local": child_local}

if __name__ == "__main__":
    main()
