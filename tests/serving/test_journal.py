"""Every answered score reaches the history: a bad row never takes others with it, and
a process killed with kill -9 right after its last answer loses none of them."""

from __future__ import annotations

import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from pydantic import TypeAdapter

from data.contract import Lead
from data.store import Store
from data.store.migrate import upgrade
from data.store.store_records import ScoreIn, UtcTime
from serving.history_writer import HistoryWriter, score_rows
from serving.journal import (
    SUFFIX,
    JournalError,
    ScoreJournal,
    now_json,
    replay_orphans,
    served_lines,
    time_json,
)
from serving.schemas import LeadScore, ModelRef, Reason
from tests.serving.conftest import Registry
from tests.serving.helpers import free_port, lead_json, start_server, wait_ready

pytestmark = pytest.mark.slow


@pytest.fixture
def store(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    with Store(url) as opened:
        yield opened


SERVED_AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
MODEL = ModelRef(name="lead-score-inbound", version="1")


def served(
    lead: dict[str, Any], probability: float = 0.3, reasons: list[Reason] | None = None
) -> tuple[Lead, LeadScore]:
    """A lead and its score as the API has them when it records the score. Built like the
    API builds them: no validation, so a value the database refuses (a probability above
    1) reaches it."""
    parsed = Lead.model_validate(lead)
    score = LeadScore.model_construct(
        lead_id=parsed.lead_id,
        channel=parsed.channel,
        probability=probability,
        score=30,
        grade="C",
        reasons=reasons or [],
        model=MODEL,
        warnings=[],
    )
    return parsed, score


def scores_of(
    leads: list[dict[str, Any]], probability: float = 0.3
) -> tuple[list[Lead], list[LeadScore]]:
    """(leads, scores) of `leads`, for `ScoreHistory.add`."""
    pairs = [served(lead, probability) for lead in leads]
    return [lead for lead, _ in pairs], [score for _, score in pairs]


def journal_lines(leads: list[dict[str, Any]]) -> list[bytes]:
    parsed, scores = scores_of(leads)
    return served_lines(parsed, scores, time_json(SERVED_AT))[1]


def leads_like(sample: pd.DataFrame, count: int, prefix: str) -> list[dict[str, Any]]:
    template = lead_json(sample.iloc[0])
    return [dict(template, lead_id=f"{prefix}-{i}") for i in range(count)]


def test_a_row_the_database_refuses_is_dropped_alone(
    store: Store, sample: pd.DataFrame, tmp_path: Path
) -> None:
    leads = leads_like(sample, 6, "ROW")
    pairs = [served(lead, 1.5 if i == 2 else 0.3) for i, lead in enumerate(leads)]
    journal = ScoreJournal(tmp_path / "journal")
    writer = HistoryWriter(store, interval=0.05, journal=journal)
    writer.start()
    writer.add([lead for lead, _ in pairs], [score for _, score in pairs])
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
    writer.add(*scores_of(leads[:3]))
    writer.flush()  # three are in the history with the journal's progress
    dead.append(journal_lines(leads[3:]))  # answered only
    os.close(dead._fd)  # the process dies: its lock goes, the file stays
    assert replay_orphans(folder, store) == 4
    for lead in leads:
        assert len(store.score_history(lead["lead_id"])) == 1, lead["lead_id"]
    assert list(folder.glob(f"*{SUFFIX}")) == []
    assert replay_orphans(folder, store) == 0


def test_a_replayed_line_out_of_range_is_skipped_alone(
    store: Store, sample: pd.DataFrame, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The start-up replay keeps the promise the live writer keeps: one score the history
    cannot hold (read back, its probability fails the row's own check) neither stops the
    service from starting nor takes the others with it, and the log says why."""
    folder = tmp_path / "journal"
    leads = leads_like(sample, 5, "ORPHAN")
    pairs = [served(lead, 1.5 if i == 1 else 0.3) for i, lead in enumerate(leads)]
    dead = ScoreJournal(folder)
    dead.append(served_lines([p[0] for p in pairs], [p[1] for p in pairs], time_json(SERVED_AT))[1])
    os.close(dead._fd)

    assert replay_orphans(folder, store) == 4

    for i, lead in enumerate(leads):
        expected = [] if i == 1 else [0.3]
        assert [s.probability for s in store.score_history(lead["lead_id"])] == expected
    assert "skipped an unreadable line" in caplog.text
    assert "probability" in caplog.text and "less than or equal to 1" in caplog.text
    assert list(folder.glob(f"*{SUFFIX}")) == []
    assert replay_orphans(folder, store) == 0


def test_a_live_process_journal_is_not_replayed_by_another(
    store: Store, sample: pd.DataFrame, tmp_path: Path
) -> None:
    folder = tmp_path / "journal"
    alive = ScoreJournal(folder)
    alive.append(journal_lines(leads_like(sample, 2, "LIVE")))
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
        journal.append(journal_lines(leads_like(sample, 1, "full")), lambda *at: handed.append(at))
    assert handed == [] and journal._end == 0


def test_scores_reach_the_history_in_order_whatever_the_batch_boundaries(
    store: Store, tmp_path: Path, sample: pd.DataFrame
) -> None:
    journal = ScoreJournal(tmp_path / "journal")
    writer = HistoryWriter(store, interval=0.01, journal=journal)
    writer.start()
    leads = leads_like(sample, 1200, "order")  # more than two full batches
    for i, lead in enumerate(leads):
        writer.add(*scores_of([lead], probability=i / 2000))
        if i % 400 == 0:
            assert writer.flush(timeout=10)
    assert writer.flush(timeout=10)
    writer.close()
    assert writer.written == 1200 and writer.failed == 0
    for i in (0, 599, 1199):
        (record,) = store.score_history(f"order-{i}")
        assert record.probability == i / 2000
    assert store.journal_offset(journal.name) in (0, journal._end)  # forgotten once written


def test_a_journal_line_reads_back_as_the_row_the_history_records(sample: pd.DataFrame) -> None:
    """The journal builds each line from the lead's JSON and the served score, without a
    `ScoreIn`: a replay must read back exactly the row the thread writer records, for
    every kind of value a lead, a reason or a probability can hold."""
    leads = [lead_json(row) for _, row in sample.iloc[:30].iterrows()]
    leads[0]["custom_fields"] = {"note": 'quote " and é\n', "size": 3.5, "flag": None}
    leads[1]["custom_fields"] = {"model_name": "not the top level", "reasons": 2}
    leads[2]["company_name"] = 'Ünïcødé ☃ \\ "quoted" \u2028'
    reasons = [
        Reason(field="company_size", value=None, effect=-2.5),
        Reason(field="source", value='web "form"', effect=3.25),
        Reason(field="is_customer", value=True, effect=1e-7),
        Reason(field="pages_viewed", value=12, effect=-0.1),
        Reason(field="time_on_site_sec", value=168.6, effect=12.0),
    ]
    probabilities = [0.3, 1e-5, 1 / 3, 0.999999999999, 5e-324, 0.0, 1.0]
    model = ModelRef(name='odd "name" é', version="7")
    for i, lead in enumerate(leads):
        parsed, score = served(lead, probabilities[i % len(probabilities)], reasons[: i % 6])
        score = score.model_copy(update={"model": model, "grade": "ABCD"[i % 4]})
        (line,) = served_lines([parsed], [score], time_json(SERVED_AT))[1]
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        (row,) = score_rows([parsed], [score], SERVED_AT)
        read = ScoreIn.model_validate_json(line)
        assert read == row
        assert read.probability == score.probability and read.reasons == row.reasons
        assert read.lead == parsed and read.scored_at == SERVED_AT


def test_the_time_a_line_is_stamped_with_is_now_to_the_microsecond() -> None:
    for _ in range(200):
        before = datetime.now(UTC)
        stamped = TypeAdapter(UtcTime).validate_json(now_json())
        after = datetime.now(UTC)
        assert before - timedelta(microseconds=1) <= stamped <= after
    assert TypeAdapter(UtcTime).validate_json(time_json(SERVED_AT)) == SERVED_AT
