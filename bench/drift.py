"""What drift monitoring costs scoring: single-lead latency, quiet and under drift scrapes.

    .venv/bin/python bench/drift.py [--history 3000] [--requests 1500]

In process (FastAPI's TestClient, SQLite store, inbound model fitted on 20,000
generated leads with its training reference): the store first receives
`--history` scored leads, then single-lead scoring requests are timed twice,
once quiet and once while another thread scrapes /metrics back to back with
the drift gauges recomputed on every scrape (`drift_refresh_seconds=0`, the
worst case; the default reuses them for 300 s). Also times one drift
computation over the history. Writes `.leadscore/bench/drift.json`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/drift.py` from anywhere


def _model_registry(home: Path) -> tuple[str, list[dict[str, Any]]]:
    import mlflow
    from mlflow import MlflowClient

    from data.generator.generator_config import GeneratorConfig
    from data.generator.synthesis import generate
    from data.json_rows import to_records
    from features.lead_features import default_spec
    from models.packaging import log_lead_model, registered_name
    from training.channel_data import channel_data
    from training.channel_fit import fit_channel
    from training.reference import with_reference
    from training.training_config import TrainingConfig

    tables = generate(GeneratorConfig(leads=20_000, seed=5))
    spec = default_spec("inbound")
    data = channel_data(tables["leads"], tables["opportunities"], "inbound", "won", spec)
    model = fit_channel(data, spec, TrainingConfig(threads=1)).model
    model = replace(model, metadata=dict(model.metadata))
    with_reference(model, data.columns, data.leads["created_at"])
    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(uri, uri)
    experiment = client.create_experiment("bench", artifact_location=(home / "a").as_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with mlflow.start_run(experiment_id=experiment):
        info = log_lead_model(model, data.leads.head(3), registered_model_name="lead-score-inbound")
    client.set_registered_model_alias(
        registered_name("inbound"), "champion", str(info.registered_model_version)
    )
    inbound = tables["leads"][tables["leads"]["channel"] == "inbound"]
    return uri, to_records(inbound)


def _latencies(client: Any, leads: Sequence[dict[str, Any]], count: int) -> np.ndarray:
    out = np.empty(count)
    for i in range(count):
        lead = leads[i % len(leads)]
        started = time.perf_counter()
        response = client.post("/v1/leads/score", params={"reasons": 0}, json=lead)
        out[i] = time.perf_counter() - started
        assert response.status_code == 200, response.text
    return out


def _summary(seconds: np.ndarray) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(seconds, 50)) * 1000, 3),
        "p95_ms": round(float(np.percentile(seconds, 95)) * 1000, 3),
        "p99_ms": round(float(np.percentile(seconds, 99)) * 1000, 3),
    }


def main(argv: Sequence[str] | None = None) -> None:
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from serving.config import ServingConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=3000, help="leads scored beforehand")
    parser.add_argument("--requests", type=int, default=1500, help="timed requests per round")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        uri, leads = _model_registry(home)
        config = ServingConfig(
            tracking_uri=uri,
            database_url=f"sqlite:///{home / 'store.db'}",
            auth="none",
            drift_refresh_seconds=0,
        )
        with TestClient(create_app(config)) as client:
            history = leads[: args.history]
            for i in range(0, len(history), 500):
                client.post("/v1/leads/score", params={"reasons": 0}, json=history[i : i + 500])
            started = time.perf_counter()
            answer = client.get("/v1/insights/drift").json()
            drift_seconds = time.perf_counter() - started
            probe = leads[args.history : args.history + 200]
            _latencies(client, probe, 200)  # warm-up
            quiet = _latencies(client, probe, args.requests)
            stop = threading.Event()
            scrapes = 0

            def scrape() -> None:
                nonlocal scrapes
                while not stop.is_set():
                    client.get("/metrics")
                    scrapes += 1

            scraper = threading.Thread(target=scrape)
            scraper.start()
            try:
                busy = _latencies(client, probe, args.requests)
            finally:
                stop.set()
                scraper.join()
    results = {
        "history_leads": answer["models"][0]["leads"],
        "drift_computation_ms": round(drift_seconds * 1000, 1),
        "quiet": _summary(quiet),
        "under_back_to_back_drift_scrapes": _summary(busy) | {"scrapes": scrapes},
    }
    out = ROOT / ".leadscore" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "drift.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
