"""With a journal, the score history is written by a child process: every answered score
reaches it exactly once, a read sees its own writes, and a child that dies is replaced."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from serving import journal as journal_module
from serving.app import create_app
from serving.history_shipping import JournalShipper
from tests.serving.conftest import Registry
from tests.serving.helpers import lead_json

pytestmark = pytest.mark.slow


@pytest.fixture
def served(registry: Registry, tmp_path: Path) -> Iterator[tuple[FastAPI, TestClient, Path]]:
    url = f"sqlite:///{tmp_path / 'leadscore.db'}"
    folder = tmp_path / "journal"
    app = create_app(registry.settings(database_url=url, journal_dir=str(folder)))
    with TestClient(app) as client:
        yield app, client, folder


def _leads(sample: pd.DataFrame, count: int, prefix: str) -> list[dict[str, Any]]:
    template = lead_json(sample.iloc[0])
    return [dict(template, lead_id=f"{prefix}-{i}") for i in range(count)]


def _scores_in_database(app: FastAPI) -> dict[str, int]:
    with app.state.store.engine.connect() as connection:
        rows = connection.execute(text("SELECT lead_id, COUNT(*) FROM scores GROUP BY lead_id"))
        return {lead_id: int(n) for lead_id, n in rows}


def test_a_read_sees_the_scores_just_answered(
    served: tuple[FastAPI, TestClient, Path], sample: pd.DataFrame
) -> None:
    app, client, _ = served
    assert isinstance(app.state.history, JournalShipper)
    for lead in _leads(sample, 5, "read"):
        scored = client.post("/v1/leads/score?reasons=0", json=lead).json()
        history = client.get(f"/v1/leads/{lead['lead_id']}/scores")
        assert history.status_code == 200, history.text
        assert [h["score"] for h in history.json()] == [scored["score"]]


def test_a_child_killed_mid_stream_is_replaced_and_nothing_is_lost_or_doubled(
    served: tuple[FastAPI, TestClient, Path], sample: pd.DataFrame
) -> None:
    app, client, _ = served
    shipper: JournalShipper = app.state.history
    leads = _leads(sample, 120, "kill")
    for i, lead in enumerate(leads):
        assert client.post("/v1/leads/score?reasons=0", json=lead).status_code == 200
        if i == 60:
            assert shipper._child is not None
            os.kill(shipper._child.pid, signal.SIGKILL)
    assert shipper.flush(timeout=60)
    assert _scores_in_database(app) == {lead["lead_id"]: 1 for lead in leads}
    # Counted as the child reports them (one killed between its commit and its report
    # leaves those rows counted as queued): every answered score is one or the other.
    samples = {
        s.name: s.value
        for family in app.state.metrics.registry.collect()
        for s in family.samples
        if s.name.startswith("leadscore_score_history")
    }
    written = samples["leadscore_score_history_rows_written_total"]
    assert written + samples["leadscore_score_history_queue_length"] == 120
    assert written > 0


def test_rotated_journals_are_written_and_then_deleted(
    registry: Registry, tmp_path: Path, sample: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "ROTATE_BYTES", 4000)  # a few scores per journal
    url = f"sqlite:///{tmp_path / 'leadscore.db'}"
    folder = tmp_path / "journal"
    leads = _leads(sample, 40, "rotate")
    app = create_app(registry.settings(database_url=url, journal_dir=str(folder)))
    with TestClient(app) as client:
        client.post("/v1/leads/score?reasons=3", json=leads)
        for lead in leads:
            client.post("/v1/leads/score?reasons=0", json=lead)
        assert app.state.history.flush(timeout=60)
        assert len(app.state.history._journal.retired) > 3
    # Stopped: every score is in, once, and no journal is left to replay.
    assert _scores_in_database(app) == {lead["lead_id"]: 2 for lead in leads}
    assert list(folder.glob("*.jsonl")) == []
