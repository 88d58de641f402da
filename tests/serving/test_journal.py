"""Every answered score reaches the history: a bad row never takes others with it, and
a process killed with kill -9 right after its last answer loses none of them."""

from __future__ import annotations

import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from data.contract import Lead
from data.store import Store
from data.store.migrate import upgrade
from data.store.store_records import ScoreIn
from serving.history_writer import HistoryWriter
from serving.journal import SUFFIX, JournalError, ScoreJournal, journal_line, replay_orphans
from tests.serving.conftest import Registry
from tests.serving.helpers import free_port, lead_json, start_server, wait_ready

pytestmark = pytest.mark.slow


@pytest.fixture
def store(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    with Store(url) as opened:
        yield opened


def score_row(lead: dict[str, Any], probability: float = 0.3) -> ScoreIn:
    # Built like the API builds them: no validation, so a value the database refuses
    # (a probability above 1) reaches it.
    return ScoreIn.model_construct(
        lead=Lead.model_validate(lead),
        model_name="lead-score-inbound",
        model_version="1",
        probability=probability,
        score=30,
        grade="C",
        reasons=[],
        scored_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
    )


def leads_like(sample: pd.DataFrame, count: int, prefix: str) -> list[dict[str, Any]]:
    template = lead_json(sample.iloc[0])
    return [dict(template, lead_id=f"{prefix}-{i}") for i in range(count)]


def test_a_row_the_database_refuses_is_dropped_alone(
    store: Store, sample: pd.DataFrame, tmp_path: Path
) -> None:
    leads = leads_like(sample, 6, "ROW")
    rows = [score_row(lead, 1.5 if i == 2 else 0.3) for i, lead in enumerate(leads)]
    journal = ScoreJournal(tmp_path / "journal")
    writer = HistoryWriter(store, interval=0.05, journal=journal)
    writer.start()
    writer.add(rows)
    writer.flush()
    assert (writer.written, writer.failed) == (5, 1)
    for i, lead in enumerate(leads):
        expected = [] if i == 2 else [0.3]
        assert [s.probability for s in store.score_history(lead["lead_id"])] == expected
    # The journal moved past the refused row: nothing is left to replay.
    assert store.journal_offset(journal.name) == journal.path.stat().st_size
    writer.close()
    assert not journal.path.exists()


def test_a_journal_left_by_a_dead_process_is_replayed_once(
    store: Store, sample: pd.DataFrame, tmp_path: Path
) -> None:
    folder = tmp_path / "journal"
    leads = leads_like(sample, 7, "DEAD")
    dead = ScoreJournal(folder)
    writer = HistoryWriter(store, interval=0.05, journal=dead)
    writer.start()
    writer.add([score_row(lead) for lead in leads[:3]])
    writer.flush()  # three are in the history with the journal's progress
    dead.append([score_row(lead) for lead in leads[3:]], lambda entries: None)  # answered only
    os.close(dead._fd)  # the process dies: its lock goes, the file stays
    assert replay_orphans(folder, store) == 4
    for lead in leads:
        assert len(store.score_history(lead["lead_id"])) == 1, lead["lead_id"]
    assert list(folder.glob(f"*{SUFFIX}")) == []
    assert replay_orphans(folder, store) == 0


def test_a_live_process_journal_is_not_replayed_by_another(
    store: Store, sample: pd.DataFrame, tmp_path: Path
) -> None:
    folder = tmp_path / "journal"
    alive = ScoreJournal(folder)
    alive.append([score_row(lead) for lead in leads_like(sample, 2, "LIVE")], lambda e: None)
    assert replay_orphans(folder, store) == 0
    assert alive.path.exists()


def test_a_killed_server_loses_no_answered_score(
    registry: Registry, sample: pd.DataFrame, tmp_path: Path
) -> None:
    """kill -9 right after the last answer, start again: every answered score is there."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    config = registry.settings(
        port=free_port(), database_url=url, journal_dir=str(tmp_path / "journal")
    )

    def start() -> subprocess.Popen[bytes]:
        return start_server(config, tmp_path, quiet=True)

    base = f"http://127.0.0.1:{config.port}"
    template = lead_json(sample.iloc[0])
    server = start()
    answered: list[str] = []
    try:
        wait_ready(server, base, 60)

        def send(i: int) -> str | None:
            lead = dict(template, lead_id=f"KILL-{i}")
            with httpx.Client(base_url=base, timeout=30) as client:
                ok = client.post("/v1/leads/score", json=lead, params={"reasons": 0})
            return lead["lead_id"] if ok.status_code == 200 else None

        with ThreadPoolExecutor(8) as pool:
            answered = [lead for lead in pool.map(send, range(400)) if lead]
        os.kill(server.pid, signal.SIGKILL)  # within the history writer's batch window
        server.wait(timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
    assert len(answered) == 400
    with Store(url) as opened:
        before = sum(bool(opened.score_history(lead, 1)) for lead in answered)
    server = start()
    try:
        wait_ready(server, base, 60)
    finally:
        server.terminate()
        server.wait(timeout=20)
    with Store(url) as opened:
        missing = [lead for lead in answered if len(opened.score_history(lead, 5)) != 1]
    assert missing == [], f"{len(missing)} answered scores lost ({before} were in before)"


def test_a_full_disk_refuses_the_score_and_promises_nothing(
    store: Store, tmp_path: Path, sample: pd.DataFrame
) -> None:
    journal = ScoreJournal(tmp_path / "journal")
    os.dup2(os.open("/dev/full", os.O_WRONLY), journal._fd)  # every write: ENOSPC
    handed: list[Any] = []
    with pytest.raises(JournalError, match="No space left on device"):
        journal.append([score_row(leads_like(sample, 1, "full")[0])], handed.append)
    assert handed == [] and journal._end == 0


def test_scores_reach_the_history_in_order_whatever_the_batch_boundaries(
    store: Store, tmp_path: Path, sample: pd.DataFrame
) -> None:
    journal = ScoreJournal(tmp_path / "journal")
    writer = HistoryWriter(store, interval=0.01, journal=journal)
    writer.start()
    leads = leads_like(sample, 1200, "order")  # more than two full batches
    for i, lead in enumerate(leads):
        writer.add([score_row(lead, probability=i / 2000)])
        if i % 400 == 0:
            assert writer.flush(timeout=10)
    assert writer.flush(timeout=10)
    writer.close()
    assert writer.written == 1200 and writer.failed == 0
    for i in (0, 599, 1199):
        (record,) = store.score_history(f"order-{i}")
        assert record.probability == i / 2000
    assert store.journal_offset(journal.name) in (0, journal._end)  # forgotten once written


def test_a_journal_line_is_the_scores_own_json(sample: pd.DataFrame) -> None:
    """The journal writes each lead serialised once, spliced into its score's line: the
    bytes are what serialising the whole score gives, so a replay reads it back equal."""
    leads = [lead_json(row) for _, row in sample.iloc[:30].iterrows()]
    leads[0]["custom_fields"] = {"note": 'quote " and é', "size": 3.5, "flag": None}
    reasons = [{"field": "company_size", "value": None, "effect": -2.5}]
    for lead in leads:
        row = score_row(lead).model_copy(update={"reasons": reasons})
        line = journal_line(row, Lead.__pydantic_serializer__.to_json(row.lead))
        assert line == row.model_dump_json().encode() + b"\n"
        assert ScoreIn.model_validate_json(line) == row
