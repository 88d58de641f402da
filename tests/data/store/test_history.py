"""Leads and the score history: upserts, order, content, and all-or-nothing batches."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from data.store import CustomerIn, ScoreIn, Store
from tests.data.store.helpers import NOW, count, make_lead

REASONS = [
    {"field": "demo_requested", "value": True, "effect": 12.5},
    {"field": "company_size", "value": None, "effect": -3.0},
]


def scored(lead_id: str, minutes: int, score: int = 50, **lead_fields: object) -> ScoreIn:
    return ScoreIn(
        lead=make_lead(lead_id, **lead_fields),
        model_name="lead-score-inbound",
        model_version=str(1 + minutes // 100),
        probability=score / 100,
        score=score,
        grade="A" if score >= 75 else "C",
        reasons=REASONS,
        scored_at=NOW + timedelta(minutes=minutes),
    )


def test_history_is_newest_first_with_everything_the_model_said(store: Store) -> None:
    assert store.record_scores([scored("L1", 0, 40), scored("L2", 5, 60)]) == 2
    assert store.record_scores([scored("L1", 10, 80)]) == 1
    history = store.score_history("L1")
    assert [(h.score, h.scored_at) for h in history] == [
        (80, NOW + timedelta(minutes=10)),
        (40, NOW),
    ]
    newest = history[0]
    assert (newest.lead_id, newest.model_name, newest.grade) == ("L1", "lead-score-inbound", "A")
    assert newest.probability == pytest.approx(0.8)
    assert newest.reasons == REASONS
    assert [h.score for h in store.score_history("L1", limit=1)] == [80]
    assert store.score_history("nobody") == []


def test_lead_is_upserted_with_its_payload(store: Store) -> None:
    store.record_scores([scored("L1", 10, web_visits=3)])
    store.record_scores([scored("L1", 0, web_visits=9)])  # a late, older scoring
    record = store.get_lead("L1")
    assert record is not None
    assert record.lead == make_lead("L1", web_visits=9)  # the last payload written
    assert record.first_seen_at == NOW + timedelta(minutes=10)
    assert record.last_scored_at == NOW + timedelta(minutes=10)  # never moves back
    store.record_scores([scored("L1", 20)])
    refreshed = store.get_lead("L1")
    assert refreshed is not None
    assert refreshed.last_scored_at == NOW + timedelta(minutes=20)
    assert refreshed.first_seen_at == NOW + timedelta(minutes=10)
    assert store.get_lead("nobody") is None


def test_a_lead_twice_in_one_batch(store: Store) -> None:
    store.record_scores([scored("L1", 5, 30), scored("L1", 1, 70, web_visits=1)])
    record = store.get_lead("L1")
    assert record is not None
    assert record.lead.web_visits == 1
    assert (record.first_seen_at, record.last_scored_at) == (
        NOW + timedelta(minutes=1),
        NOW + timedelta(minutes=5),
    )
    assert [h.score for h in store.score_history("L1")] == [30, 70]


def test_rescoring_with_changed_fields_keeps_the_first_payload(store: Store) -> None:
    """Training reads `first_lead`: fields the CRM filled in after first scoring stay out."""
    store.record_scores([scored("L1", 0, web_visits=2, demo_requested=None)])
    store.record_scores([scored("L1", 30, web_visits=40, demo_requested=True)])
    record = store.get_lead("L1")
    assert record is not None
    assert (record.lead.web_visits, record.lead.demo_requested) == (40, True)
    assert (record.first_lead.web_visits, record.first_lead.demo_requested) == (2, None)
    assert record.first_lead == make_lead("L1", web_visits=2, demo_requested=None)


def test_the_first_payload_of_a_batch_is_its_earliest_scoring(store: Store) -> None:
    store.record_scores([scored("L1", 5, web_visits=5), scored("L1", 1, web_visits=1)])
    record = store.get_lead("L1")
    assert record is not None
    assert (record.lead.web_visits, record.first_lead.web_visits) == (1, 1)
    store.record_scores([scored("L2", 1, web_visits=1), scored("L2", 5, web_visits=5)])
    second = store.get_lead("L2")
    assert second is not None
    assert (second.lead.web_visits, second.first_lead.web_visits) == (5, 1)


def test_put_lead_without_a_score(store: Store) -> None:
    record = store.put_lead(make_lead("L9"))
    assert record.last_scored_at is None
    assert record.lead == make_lead("L9")
    assert count(store, "scores") == 0


def test_customers(store: Store) -> None:
    customer = CustomerIn(customer_id="CU1", lead_id="L1", payload={"account_value": 1000.0})
    first = store.put_customer(customer)
    assert store.get_customer("CU1") == first
    again = store.put_customer(customer.model_copy(update={"payload": {"account_value": 2.0}}))
    assert again.payload == {"account_value": 2.0}
    assert again.first_seen_at == first.first_seen_at
    assert store.get_customer("nobody") is None


def test_many_rows_in_one_call(store: Store) -> None:
    rows = [scored(f"L{i}", i % 50) for i in range(5000)]
    started = time.perf_counter()
    assert store.record_scores(rows) == 5000
    elapsed = time.perf_counter() - started
    assert count(store, "leads") == 5000
    assert count(store, "scores") == 5000
    assert elapsed < 10, f"5000 score rows took {elapsed:.1f} s"


def test_a_failing_row_stores_nothing_of_the_batch(store: Store) -> None:
    store.record_scores([scored("L0", 0)])
    # Bypass validation so the database itself refuses the third row (score 500).
    broken = scored("L3", 3).model_construct(**{**dict(scored("L3", 3)), "score": 500})
    with pytest.raises(IntegrityError):
        store.record_scores([scored("L1", 1), scored("L0", 2), broken])
    assert count(store, "leads") == 1
    assert count(store, "scores") == 1
    record = store.get_lead("L0")
    assert record is not None
    assert record.last_scored_at == NOW


def _stored_payloads(store: Store) -> dict[str, tuple[Any, Any]]:
    """lead_id -> (payload, first_payload) as the database returns them."""
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT lead_id, payload, first_payload FROM leads"))
        return {row[0]: (row[1], row[2]) for row in rows}


def test_a_lead_given_as_json_text_is_stored_as_the_lead_itself_would_be(store: Store) -> None:
    """The API hands over each lead serialised once (for its journal); what is stored is
    what serialising the lead here stores, on either backend."""
    fields: dict[str, Any] = {
        "web_visits": 3,
        "demo_requested": None,
        "custom_fields": {"tier": "gold é"},
    }
    given, computed = scored("L1", 0, **fields), scored("L2", 0, **fields)
    store.record_scores([given], payloads=[given.lead.model_dump_json()])
    store.record_scores([computed])
    stored = _stored_payloads(store)
    for column in (0, 1):
        as_given, as_computed = stored["L1"][column], stored["L2"][column]
        if isinstance(as_given, str):  # SQLite keeps the text itself
            assert as_given == as_computed.replace('"L2"', '"L1"')
            as_given, as_computed = json.loads(as_given), json.loads(as_computed)
        assert as_given == {**as_computed, "lead_id": "L1"}
    assert store.get_lead("L1").lead == given.lead  # type: ignore[union-attr]


def test_payloads_must_match_the_scores_one_for_one(store: Store) -> None:
    with pytest.raises(ValueError, match="2 payloads for 1 scores"):
        store.record_scores([scored("L1", 0)], payloads=[None, None])
    assert count(store, "scores") == 0
