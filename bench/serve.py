"""Online scoring benchmark: our API against `mlflow models serve` and two bare references.

    .venv/bin/python bench/serve.py [--leads 50000] [--duration 10] [--clients 8] [--skip-mlflow]
                                    [--breakdown]

Trains (once, cached) the lead-score models on a generated history in a
private MLflow store under `.leadscore/bench/`, starts each server on a free
loopback port (one uvicorn worker each, same settings: uvloop, httptools, log
level warning), and drives them with one load generator, N keep-alive clients
then one, posting one inbound lead per request, in interleaved rounds. Prints
a table and DESIGN.md's target ratios; writes `.leadscore/bench/serve.json`.
The load generator shares the machine's CPUs with the server: the table shows
the CPU of server, client and everything else, so a noisy run shows as such.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/serve.py` from anywhere

from bench.loadgen import HOST, combine, run_load, wrk_available  # noqa: E402
from bench.reference_apps import MODEL_URI, RowMapper  # noqa: E402
from bench.servers import Live, free_port, measure, server  # noqa: E402
from data.store import Store, upgrade  # noqa: E402

BENCH = ROOT / ".leadscore" / "bench"
POOL = 256
"""Distinct inbound leads (the newest of the history) cycled through by the clients."""

BREAKDOWN = frozenset({"ours-no-keys", "ours-no-store"})
"""Servers measured only with --breakdown."""

Targets = list[tuple[str, str, list[bytes]]]
"""(name, path, request bodies) measured on one server."""
Server = tuple[list[str], dict[str, str], Targets]
"""Command line ("{port}" filled in at start), environment, targets."""


def store_uri(folder: Path) -> str:
    return f"sqlite:///{folder / 'mlflow.db'}"


def prepare_models(leads: int) -> Path:
    """A store with both champions trained on `leads` generated leads; reused when present."""
    from mlflow import MlflowClient

    from data.generator.generator_config import GeneratorConfig
    from data.generator.synthesis import write_history
    from training.pipeline import train_lead_scores
    from training.tracking import TrackingTarget

    folder = BENCH / f"leads-{leads}"
    if (folder / "mlflow.db").exists():
        try:
            MlflowClient(store_uri(folder)).get_model_version_by_alias(
                "lead-score-inbound", "champion"
            )
            print(f"reusing the models in {folder}")
            return folder
        except Exception:
            print(f"{folder} has no champion: training again")
    print(f"generating {leads:,} leads and training both channels into {folder}")
    write_history(GeneratorConfig(leads=leads, seed=7), folder / "data")
    target = TrackingTarget(store_uri(folder), "bench", (folder / "mlartifacts").as_uri())
    train_lead_scores(folder / "data", target, say=print)
    return folder


def fresh_score_store(folder: Path) -> None:
    """Start from an empty score history and no journals: each run adds a few hundred
    thousand scores, and a store grown over earlier runs makes its writes dearer."""
    for name in ("leadscore.db", "leadscore.db-wal", "leadscore.db-shm"):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / "journal", ignore_errors=True)


def lead_pool(folder: Path) -> list[dict[str, Any]]:
    """The newest inbound leads of the history, as a CRM would post them."""
    from data.json_rows import to_records
    from data.tables import read_table

    leads = read_table(folder / "data", "leads")
    inbound = leads.loc[leads["channel"] == "inbound"].sort_values("created_at")
    return to_records(inbound.tail(POOL))


def p50_us(call: Callable[[int], object], count: int = 3000) -> float:
    for i in range(200):
        call(i)
    times = np.empty(count)
    for i in range(count):
        started = time.perf_counter_ns()
        call(i)
        times[i] = time.perf_counter_ns() - started
    return float(np.median(times) / 1000)


def in_process(folder: Path, pool: Sequence[dict[str, Any]]) -> dict[str, float]:
    """p50 of single-lead calls in this process (µs), after checking the reference mapping."""
    import mlflow

    from features.columns import from_records
    from models.packaging import load_lead_model

    mlflow.set_tracking_uri(store_uri(folder))
    model = load_lead_model(MODEL_URI)
    fields, n, booster = model.spec.input_fields, len(pool), model.trees
    rows = [model.spec.transform(from_records([lead], fields)) for lead in pool]
    mapper = RowMapper(model.spec)
    for lead, row in zip(pool, rows, strict=True):
        if not np.array_equal(mapper.row(lead), row, equal_nan=True):
            raise AssertionError(f"the reference row mapping differs on {lead['lead_id']}")
    print(
        f"model: {booster.num_trees()} trees over {booster.num_feature()} features; the "
        f"reference row mapping equals the feature spec's matrix on {n} leads"
    )
    return {
        "booster.predict": p50_us(lambda i: booster.predict(rows[i % n], num_threads=1)),
        "booster.predict(pred_contrib)": p50_us(
            lambda i: booster.predict(rows[i % n], pred_contrib=True, num_threads=1)
        ),
        "model.score(reasons=0)": p50_us(
            lambda i: model.score(from_records([pool[i % n]], fields), threads=1)
        ),
        "model.score(reasons=3)": p50_us(
            lambda i: model.score(from_records([pool[i % n]], fields), reasons=3, threads=1)
        ),
        # What the API calls for one lead: the single-row path, same numbers.
        "model.score_records(reasons=0)": p50_us(
            lambda i: model.score_records([pool[i % n]], threads=1)
        ),
        "model.score_records(reasons=3)": p50_us(
            lambda i: model.score_records([pool[i % n]], reasons=3, threads=1)
        ),
    }


def plan(folder: Path, pool: list[dict[str, Any]]) -> dict[str, Server]:
    """Per server: command ({port} to fill in), environment, and what to measure on it."""
    leads = [json.dumps(lead).encode() for lead in pool]
    records = [json.dumps({"dataframe_records": [lead]}).encode() for lead in pool]
    records3 = [
        json.dumps({"dataframe_records": [lead], "params": {"reasons": 3}}).encode()
        for lead in pool
    ]
    at = ["--host", HOST, "--port", "{port}"]
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--workers", "1", *at]
    uvicorn += ["--log-level", "warning"]
    uri, bin_dir = store_uri(folder), Path(sys.executable).parent
    serve = [sys.executable, "-m", "leadscore", "serve", *at, "--log-level", "warning"]
    ours_env = {"LEADSCORE_HOME": str(folder), "LEADSCORE_MLFLOW_TRACKING_URI": uri}
    return {
        "hello": (
            [*uvicorn, "bench.reference_apps:hello_app"],
            {},
            [("hello-world", "/hello", leads)],
        ),
        "plain-hello": (
            [*uvicorn, "bench.reference_apps:plain_hello_app"],
            {},
            [("hello-world, bare ASGI", "/hello", leads)],
        ),
        "booster": (
            [*uvicorn, "bench.reference_apps:booster_app"],
            {"MLFLOW_TRACKING_URI": uri},
            [("bare booster", "/predict", leads)],
        ),
        "ours": (
            serve,
            ours_env,
            [
                ("ours reasons=0", "/v1/leads/score?reasons=0", leads),
                ("ours reasons=3", "/v1/leads/score?reasons=3", leads),
            ],
        ),
        "ours-no-keys": (
            serve,
            {**ours_env, "LEADSCORE_API__AUTH": "none"},
            [("ours no key check r=0", "/v1/leads/score?reasons=0", leads)],
        ),
        "ours-no-store": (
            [*uvicorn, "bench.reference_apps:ours_without_store"],
            ours_env,
            [("ours no store r=0", "/v1/leads/score?reasons=0", leads)],
        ),
        "ours-no-journal": (
            serve,
            {**ours_env, "LEADSCORE_API__JOURNAL": "false"},
            [("ours no journal r=0", "/v1/leads/score?reasons=0", leads)],
        ),
        "mlflow": (
            [
                str(bin_dir / "mlflow"),
                "models",
                "serve",
                "-m",
                MODEL_URI,
                "--env-manager",
                "local",
                "-w",
                "1",
                "-h",
                HOST,
                "-p",
                "{port}",
            ],
            {
                "MLFLOW_TRACKING_URI": uri,
                "UVICORN_LOG_LEVEL": "warning",
                "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            },
            [
                ("mlflow serve", "/invocations", records),
                ("mlflow serve reasons=3", "/invocations", records3),
            ],
        ),
    }


def auth_headers(folder: Path) -> dict[str, str]:
    """A `score` key in the store `leadscore serve` uses there: the API checks it per
    request, as in production."""
    url = f"sqlite:///{folder / 'leadscore.db'}"
    upgrade(url)
    with Store(url) as store:
        _, token = store.create_api_key("bench", ["score"])
    return {"Authorization": f"Bearer {token}"}


def run_servers(
    folder: Path, pool: list[dict[str, Any]], args: argparse.Namespace
) -> dict[str, Any]:
    """Start every server, warm each target up, then measure them in interleaved rounds.

    Interleaving spreads whatever else the machine does over all targets
    alike, instead of penalising the one that happened to run during it.
    """
    with ExitStack() as servers:
        live: list[Live] = []
        for name, (command, env, targets) in plan(folder, pool).items():
            if name == "mlflow" and args.skip_mlflow:
                continue
            if name in BREAKDOWN and not args.breakdown:
                continue
            port = free_port()
            argv = [part.format(port=port) for part in command]
            print(f"starting {name} on port {port} ...", flush=True)
            probe = (targets[0][1], targets[0][2][0])
            headers = auth_headers(folder) if name.startswith("ours") else {}
            pgid = servers.enter_context(server(name, argv, env, probe, port, BENCH, ROOT, headers))
            live += [
                Live(target, pgid, port, path, bodies, headers) for target, path, bodies in targets
            ]
        for target in live:
            run_load(
                target.port,
                target.path,
                target.bodies,
                args.clients,
                args.warmup,
                args.client,
                target.headers,
            )
        slices: dict[str, list[dict[str, Any]]] = {target.name: [] for target in live}
        for round_ in range(args.rounds):
            print(f"round {round_ + 1} of {args.rounds} ...", flush=True)
            for target in live:
                slices[target.name].append(
                    measure(target, args.duration / args.rounds, args.clients, args.client)
                )
    return {name: combine(runs) for name, runs in slices.items()}


def report(results: dict[str, Any], process: dict[str, float], clients: int) -> list[Any]:
    print(
        f"\n{'target':<23}{'req/s':>8}{'±':>5}{'p50 ms':>8}{'p99 ms':>8}{'1c p50':>8}{'server':>8}"
        f"{'µs/req':>8}{'client':>8}{'others':>8}{'errors':>8}"
    )
    for name, r in results.items():
        loaded, single = r["loaded"], r["single"]
        print(
            f"{name:<23}{loaded['rps']:>8,.0f}{loaded['rps_spread']:>5.0%}{loaded['p50_ms']:>8.2f}"
            f"{loaded['p99_ms']:>8.2f}{single['p50_ms']:>8.2f}{r['server_cpu']:>8.2f}"
            f"{r['server_cpu_us']:>8,.0f}{loaded['client_cpu']:>8.2f}{r['other_cpu']:>8.2f}"
            f"{loaded['errors'] + single['errors']:>8}"
        )
    print(
        f"at {clients} clients: req/s (± half its range over the rounds), p50 and p99 (medians "
        "over the rounds);\n1c p50: p50 at one client; server: its CPU in cores, µs/req: its CPU "
        "per request;\nclient, others: CPU of the load generator and of everything else on the "
        "machine (this script too)"
    )
    print("\nin process, one lead, p50:", ", ".join(f"{k} {v:.0f} µs" for k, v in process.items()))

    def rps(name: str) -> float:
        return float(results[name]["loaded"]["rps"]) if name in results else float("nan")

    def per_round(name: str, kind: str = "loaded", key: str = "rps") -> np.ndarray:
        if name not in results:
            return np.array([np.nan])
        return np.array([r[kind][key] for r in results[name]["rounds"]], dtype=float)

    def over(a: str, b: str) -> tuple[float, np.ndarray]:
        """The ratio of two targets' req/s over the run, and round by round (the rounds are
        interleaved, so round i of each was measured minutes apart at most)."""
        return rps(a) / rps(b), per_round(a) / per_round(b)

    booster, contrib = process["booster.predict"], process["booster.predict(pred_contrib)"]
    one0, one3 = (
        process["model.score_records(reasons=0)"],
        process["model.score_records(reasons=3)"],
    )
    gaps_ms = per_round("ours reasons=0", "single", "p50_ms") - booster / 1000
    gap_ms = results["ours reasons=0"]["single"]["p50_ms"] - booster / 1000
    none = np.array([np.nan])
    ratios = [  # what, value and its per-round values, target, higher is better
        ("ours r0 / mlflow serve", *over("ours reasons=0", "mlflow serve"), 40.0, True),
        (
            "ours r3 / mlflow serve with reasons",
            *over("ours reasons=3", "mlflow serve reasons=3"),
            20.0,
            True,
        ),
        (
            "ours r3 / mlflow serve without reasons",
            *over("ours reasons=3", "mlflow serve"),
            20.0,
            True,
        ),
        ("ours r0 / hello-world", *over("ours reasons=0", "hello-world"), 0.35, True),
        (
            "ours r0 / hello-world, bare ASGI",
            *over("ours reasons=0", "hello-world, bare ASGI"),
            None,
            True,
        ),
        ("ours r0 / bare booster endpoint", *over("ours reasons=0", "bare booster"), 1.0, True),
        ("ours r3 / bare booster endpoint", *over("ours reasons=3", "bare booster"), 0.5, True),
        ("bare booster endpoint / mlflow serve", *over("bare booster", "mlflow serve"), None, True),
        ("p50 1 client: ours r0 - booster.predict (ms)", gap_ms, gaps_ms, 1.0, False),
        ("in process: score_records r0 - booster.predict (µs)", one0 - booster, none, 40.0, False),
        ("in process: score_records r3 / pred_contrib", one3 / contrib, none, 1.5, False),
    ]
    print(
        "\nratios of req/s at the same load, and in-process gaps (targets: DESIGN.md, issues);"
        "\nrounds: lowest and highest of the ratio round by round, the spread a verdict must clear"
    )
    out = []
    for what, value, rounds, target, higher in ratios:
        low, high = (np.nan, np.nan) if np.isnan(rounds).all() else (rounds.min(), rounds.max())
        said = verdict(value, low, high, target, higher)
        goal = "" if target is None else f"target {'>=' if higher else '<='} {target:g}"
        shown = "skipped" if np.isnan(value) else f"{value:.3f}"
        spread = "" if np.isnan(low) else f"{low:.3f}-{high:.3f}"
        print(f"  {what:<46}{shown:>8}  {spread:<14}{goal:<16}{said}")
        out.append(
            {
                "ratio": what,
                "value": value,
                "rounds_low": None if np.isnan(low) else float(low),
                "rounds_high": None if np.isnan(high) else float(high),
                "target": target,
                "verdict": said,
            }
        )
    return out


def verdict(value: float, low: float, high: float, target: float | None, higher: bool) -> str:
    """ "met" only when every round clears the target, "NOT met" when none does; rounds on
    both sides of it say so, whatever the run's overall ratio. Without rounds (in-process
    figures) the value decides."""
    if target is None or np.isnan(value):
        return ""
    if np.isnan(low):
        low = high = value
    best, worst = (high, low) if higher else (low, high)
    if (worst >= target) if higher else (worst <= target):
        return "met"
    if (best < target) if higher else (best > target):
        return "NOT met"
    return "within the spread: rounds on both sides of the target"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Online scoring benchmark (see bench/serve.py).")
    parser.add_argument("--leads", type=int, default=50_000, help="generated leads to train on")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per target")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument(
        "--rounds", type=int, default=5, help="interleaved rounds the duration is split into"
    )
    parser.add_argument("--skip-mlflow", action="store_true", help="leave out mlflow models serve")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also measure our API without its key check, and without any store (no keys, "
        "history or journal): what each costs per request",
    )
    parser.add_argument(
        "--client",
        choices=["wrk", "python"],
        default="wrk" if wrk_available() else "python",
        help="load generator (default: wrk when installed)",
    )
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= 256 and 1 <= args.duration <= 600 and 0 < args.warmup <= 60):
        parser.error("keep it bounded: 1-256 clients, 1-600 s per run, 0-60 s of warm-up")
    if not 1 <= args.rounds <= args.duration:
        parser.error("--rounds: from 1 to --duration (rounds of at least one second)")
    # Ctrl-C (even when started in the background) and SIGTERM run the `finally`s: servers stop.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    BENCH.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    folder = prepare_models(args.leads)
    fresh_score_store(folder)
    pool = lead_pool(folder)
    process = in_process(folder, pool)
    print(
        f"load generator: {args.client} on this machine, sharing its {os.cpu_count()} CPUs "
        f"with the server; load average {load_before[0]:.2f}"
    )
    results = run_servers(folder, pool, args)
    ratios = report(results, process, args.clients)
    load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    packages = ("fastapi", "uvicorn", "lightgbm", "mlflow")
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": load_before,
        "load_after": load_after,
        "versions": {p: version(p) for p in packages},
    }
    output = {
        "settings": vars(args),
        "machine": machine,
        "in_process_p50_us": process,
        "servers": results,
        "ratios": ratios,
    }
    (BENCH / "serve.json").write_text(json.dumps(output, indent=2, default=str))
    print(f"wrote {BENCH / 'serve.json'}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; every server started was stopped")
