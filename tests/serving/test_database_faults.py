"""PostgreSQL restarted under load: the real server answers every request (503 with
Retry-After while the database is away, never a 500 or a dropped connection), loses no
acknowledged score or outcome, and recovers by itself."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from tests.postgres import (
    PostgresNotInstalledError,
    not_installed,
    restart_postgres,
    start_postgres,
)
from tests.serving.conftest import Registry
from tests.serving.helpers import free_port, lead_json, start_server, wait_ready

pytestmark = pytest.mark.slow

CLIENTS = 6
SECONDS = 8.0


def test_a_database_restart_under_load_loses_nothing_acknowledged(
    registry: Registry, sample: pd.DataFrame, tmp_path: Path
) -> None:
    parent = Path(tempfile.mkdtemp(prefix="leadscore-faults-"))
    parent.chmod(0o777)
    try:
        url, stop = start_postgres(parent)
    except PostgresNotInstalledError as error:
        not_installed(error)
    (cluster,) = parent.glob("leadscore-pg-*")
    config = registry.settings(
        port=free_port(), database_url=url, journal_dir=str(tmp_path / "journal")
    )
    server = start_server(config, tmp_path)
    base = f"http://127.0.0.1:{config.port}"
    template = lead_json(sample.iloc[0])
    statuses: Counter[str] = Counter()
    dropped: list[str] = []
    scored: list[str] = []
    events: list[str] = []
    lock = threading.Lock()
    try:
        wait_ready(server, base, 60)
        known = [dict(template, lead_id=f"PRE-{i}") for i in range(CLIENTS * 40)]
        with httpx.Client(base_url=base) as client:
            for start in range(0, len(known), 100):
                assert (
                    client.post("/v1/leads/score", json=known[start : start + 100]).status_code
                    == 200
                )
            client.get(f"/v1/leads/{known[-1]['lead_id']}/scores")  # flushed: all are known
        deadline = time.monotonic() + SECONDS

        def work(worker: int) -> None:
            # One keep-alive connection per client: a reset would show as an exception.
            with httpx.Client(base_url=base, timeout=30) as client:
                i = 0
                while time.monotonic() < deadline:
                    i += 1
                    lead_id = f"W{worker}-{i}"
                    try:
                        answer = client.post(
                            "/v1/leads/score",
                            json=dict(template, lead_id=lead_id),
                            params={"reasons": 0},
                        )
                        event_id = f"E{worker}-{i}"
                        subject = known[(worker * 40 + i) % len(known)]["lead_id"]
                        event = {
                            "event_id": event_id,
                            "type": "contacted",
                            "lead_id": subject,
                            "occurred_at": "2026-11-20T09:42:00Z",
                        }
                        told = client.post("/v1/outcomes", json=event)
                    except httpx.TransportError as error:
                        with lock:
                            dropped.append(f"{type(error).__name__}: {error}")
                        continue
                    with lock:
                        statuses[f"score {answer.status_code}"] += 1
                        statuses[f"outcome {told.status_code}"] += 1
                        if answer.status_code == 200:
                            scored.append(lead_id)
                        if told.status_code in (200, 201):
                            events.append(event_id)
                        if told.status_code == 503:
                            assert told.headers["retry-after"]
                            assert told.json()["cause"] == "database"

        threads = [threading.Thread(target=work, args=(w,)) for w in range(CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(SECONDS / 3)
        restart_postgres(url, cluster)
        for thread in threads:
            thread.join()
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(100):  # recovers by itself
                if client.get("/readyz").status_code == 200:
                    break
                time.sleep(0.1)
            assert client.get("/readyz").json() == {"status": "ready", "reasons": []}
            client.get(f"/v1/leads/{scored[-1]}/scores")  # the history has caught up
        stored_scores, stored_events = _stored(url)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")
        stop()
        shutil.rmtree(parent, ignore_errors=True)
    assert dropped == [], dropped[:3]
    assert not [s for s in statuses if s.endswith(("500", "502", "504"))], (
        statuses,
        output[-3000:],
    )
    assert set(statuses) <= {"score 200", "outcome 201", "outcome 503"}, statuses
    assert statuses["outcome 503"] > 0, "the restart was not felt: no 503 while it ran"
    assert len(scored) > 30 and len(events) > 30, statuses
    lost_scores = [lead for lead in scored if lead not in stored_scores]
    lost_events = [event for event in events if event not in stored_events]
    assert (lost_scores, lost_events) == ([], []), (len(lost_scores), len(lost_events))
    print(f"fault test: {dict(statuses)}; scores kept {len(scored)}, outcomes kept {len(events)}")


def _stored(url: str) -> tuple[set[str], set[str]]:
    """Lead ids with a score, and outcome event ids, as the database holds them."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            leads = {row[0] for row in connection.execute(text("SELECT lead_id FROM scores"))}
            events = {row[0] for row in connection.execute(text("SELECT event_id FROM outcomes"))}
    finally:
        engine.dispose()
    return leads, events
