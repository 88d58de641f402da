"""The roster, outcome and score-history endpoints on a real database: SQLite and
PostgreSQL, each starting empty so the service creates the schema itself."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from tests.postgres import fresh_schema
from tests.serving.conftest import Registry
from tests.serving.helpers import lead_json, score

CLOSER = {
    "rep_id": "CL-9",
    "name": "Ana Silva",
    "role": "closer",
    "region": "emea",
    "capacity": 12,
    "industries": ["software"],
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(
    request: pytest.FixtureRequest, registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'leadscore.db'}"
    else:
        url = fresh_schema(request.getfixturevalue("postgres_url"), f"api_{os.getpid()}")
    with TestClient(create_app(registry.settings(database_url=url))) as client:
        yield client


@pytest.fixture(scope="module")
def lead(sample: pd.DataFrame) -> dict[str, object]:
    return lead_json(sample.iloc[0])


def test_every_score_served_is_in_the_history_newest_first(
    api: TestClient, sample: pd.DataFrame
) -> None:
    first, second = lead_json(sample.iloc[1]), lead_json(sample.iloc[1])
    second["demo_requested" if first["channel"] == "inbound" else "meeting_booked"] = True
    answers = [score(api, first), score(api, second)]
    response = api.get(f"/v1/leads/{first['lead_id']}/scores")
    assert response.status_code == 200
    history = response.json()
    assert [h["probability"] for h in history] == [
        answers[1]["probability"],
        answers[0]["probability"],
    ]
    assert history[0]["model_version"] == answers[1]["model"]["version"]
    assert history[0]["grade"] == answers[1]["grade"]
    assert history[0]["reasons"] == answers[1]["reasons"]
    assert history[0]["scored_at"] >= history[1]["scored_at"]


def test_a_list_request_records_each_lead(api: TestClient, sample: pd.DataFrame) -> None:
    body = [lead_json(row) for _, row in sample.iloc[10:15].iterrows()]
    score(api, body, reasons=0)
    for lead in body:
        assert len(api.get(f"/v1/leads/{lead['lead_id']}/scores").json()) == 1


def test_history_of_an_unknown_lead_is_404_naming_it(api: TestClient) -> None:
    response = api.get("/v1/leads/NOPE-1/scores")
    assert response.status_code == 404
    assert "NOPE-1" in response.json()["detail"]


def test_the_roster_can_be_set_and_read(api: TestClient) -> None:
    response = api.put(f"/v1/reps/{CLOSER['rep_id']}", json=CLOSER)
    assert response.status_code == 200, response.text
    assert response.json()["load"] == 0
    closers = api.get("/v1/reps", params={"role": "closer"}).json()
    assert [r["rep_id"] for r in closers] == ["CL-9"]
    changed = api.put("/v1/reps/CL-9", json=CLOSER | {"capacity": 3, "available": False}).json()
    assert (changed["capacity"], changed["available"]) == (3, False)
    assert api.get("/v1/reps/CL-9").json()["capacity"] == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"capacity": -1}, "capacity"),
        ({"capacity": "lots"}, "capacity"),
        ({"role": "wizard"}, "role"),
        ({"weight": 0}, "weight"),
        ({"rep_id": "CL-10"}, "rep_id"),
    ],
)
def test_bad_roster_input_is_422_naming_the_field_and_stores_nothing(
    api: TestClient, change: dict[str, object], field: str
) -> None:
    response = api.put("/v1/reps/CL-BAD", json=CLOSER | {"rep_id": "CL-BAD"} | change)
    assert response.status_code == 422
    assert any(error["loc"][-1] == field for error in response.json()["detail"])
    assert api.get("/v1/reps/CL-BAD").status_code == 404


def _event(event_id: str, kind: str, lead_id: object, **extra: object) -> dict[str, object]:
    return {
        "event_id": event_id,
        "type": kind,
        "lead_id": lead_id,
        "occurred_at": "2026-11-20T10:00:00Z",
        **extra,
    }


def test_outcomes_are_idempotent_by_event_id(api: TestClient, lead: dict[str, object]) -> None:
    score(api, lead)
    first = api.post("/v1/outcomes", json=_event("E-1", "qualified", lead["lead_id"]))
    again = api.post("/v1/outcomes", json=_event("E-1", "qualified", lead["lead_id"]))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["event"] == again.json()["event"]
    assert again.json()["duplicate"] is True


def test_an_event_id_reused_for_another_event_is_a_conflict(
    api: TestClient, lead: dict[str, object]
) -> None:
    score(api, lead)
    assert api.post("/v1/outcomes", json=_event("E-2", "qualified", lead["lead_id"])).is_success
    response = api.post("/v1/outcomes", json=_event("E-2", "lost", lead["lead_id"]))
    assert response.status_code == 409
    assert "E-2" in response.json()["detail"]


def test_won_after_lost_is_refused_and_not_stored(api: TestClient, sample: pd.DataFrame) -> None:
    lead = lead_json(sample.iloc[2])
    score(api, lead)
    assert api.post("/v1/outcomes", json=_event("E-3", "lost", lead["lead_id"])).is_success
    response = api.post("/v1/outcomes", json=_event("E-4", "won", lead["lead_id"], value=900))
    assert response.status_code == 422
    assert "E-3" in response.json()["detail"]
    retry = api.post("/v1/outcomes", json=_event("E-4", "won", lead["lead_id"], value=900))
    assert retry.status_code == 422, "the refused event must not have been stored"


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        (_event("E-5", "won", "NEVER-SEEN"), 404, "NEVER-SEEN"),
        (_event("E-6", "won", None), 422, "lead_id"),
        (_event("E-7", "promoted", "X"), 422, "type"),
        (_event("E-8", "won", "X", value=-5), 422, "value"),
        (
            {k: v for k, v in _event("E-9", "won", "X").items() if k != "occurred_at"},
            422,
            "occurred_at",
        ),
    ],
)
def test_bad_outcomes_name_the_problem(
    api: TestClient, body: dict[str, object], status: int, names: str
) -> None:
    response = api.post("/v1/outcomes", json=body)
    assert response.status_code == status
    assert names in response.text


def test_without_a_database_the_store_endpoints_say_how_to_get_one(
    registry: Registry, tmp_path: Path
) -> None:
    with TestClient(create_app(registry.settings())) as client:
        response = client.get("/v1/reps")
    assert response.status_code == 503
    assert "LEADSCORE_DATABASE_URL" in response.json()["detail"]
