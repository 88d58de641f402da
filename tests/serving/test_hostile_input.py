"""Hostile input is normal input: NUL characters, 1e400, year 9999, huge bodies, the
same id twice. Each is a 4xx naming the problem, and nothing already accepted is lost
(on SQLite and on PostgreSQL, whose text cannot hold a NUL)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from serving.app import create_app
from tests.postgres import fresh_schema
from tests.serving.conftest import Registry
from tests.serving.helpers import lead_json

pytestmark = pytest.mark.slow

BODY_LIMIT = 64 * 1024


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'leadscore.db'}"
    return fresh_schema(request.getfixturevalue("postgres_url"), f"hostile_{os.getpid()}")


@pytest.fixture(scope="module")
def api(registry: Registry, database_url: str) -> Iterator[TestClient]:
    settings = registry.settings(database_url=database_url, max_body_bytes=BODY_LIMIT)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def leads(sample: pd.DataFrame) -> list[dict[str, Any]]:
    return [lead_json(row) for _, row in sample.iloc[20:25].iterrows()]


def only_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    return dict(error)


def raw_post(api: TestClient, path: str, body: str) -> Any:
    return api.post(path, content=body.encode(), headers={"content-type": "application/json"})


def test_a_nul_character_is_refused_and_the_good_leads_of_other_requests_are_kept(
    api: TestClient, leads: list[dict[str, Any]]
) -> None:
    good = [dict(lead, lead_id=f"OK-{i}") for i, lead in enumerate(leads)]
    assert api.post("/v1/leads/score", json=good).status_code == 200
    bad = dict(leads[0], lead_id="BAD-1", company_name="a\u0000b")
    error = only_error(api.post("/v1/leads/score", json=[good[0], bad]))
    assert error["loc"] == ["body", 1, "company_name"]
    assert "NUL" in error["msg"]
    for lead in good:
        history = api.get(f"/v1/leads/{lead['lead_id']}/scores")
        assert history.status_code == 200, lead["lead_id"]
        assert len(history.json()) == 1
    assert api.get("/v1/leads/BAD-1/scores").status_code == 404


def test_nul_in_a_custom_field_name_an_outcome_a_rep_or_a_path_is_a_422(
    api: TestClient, leads: list[dict[str, Any]]
) -> None:
    lead = dict(leads[0], custom_fields={"page\u0000": "x"})
    assert only_error(api.post("/v1/leads/score", json=lead))["loc"] == ["body", "custom_fields"]
    event = {
        "event_id": "E\u00001",
        "type": "contacted",
        "lead_id": "L-1",
        "occurred_at": "2026-11-20T09:42:00Z",
    }
    assert only_error(api.post("/v1/outcomes", json=event))["loc"] == ["body", "event_id"]
    rep = {"rep_id": "CL-1", "name": "A\u0000", "role": "closer", "capacity": 3}
    assert only_error(api.put("/v1/reps/CL-1", json=rep))["loc"] == ["body", "name"]
    error = only_error(api.get("/v1/leads/a%00b/scores"))
    assert error["loc"] == ["path"]
    error = only_error(api.get("/v1/insights/funnel", params={"by": "rep\u0000"}))
    assert error["loc"] == ["query", "by"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("time_on_site_sec", "1e400"), ("company_size", "1e400"), ("company_revenue", "-1e400")],
)
def test_numbers_json_cannot_carry_are_named(
    api: TestClient, leads: list[dict[str, Any]], field: str, value: str
) -> None:
    body = json.dumps(leads[0])[:-1] + f', "{field}": {value}}}'
    error = only_error(raw_post(api, "/v1/leads/score", body))
    assert error["loc"] == ["body", field]
    assert error["input"] in ("inf", "-inf")


def test_times_outside_sane_years_are_refused_everywhere(
    api: TestClient, leads: list[dict[str, Any]]
) -> None:
    error = only_error(api.post("/v1/leads/score", json=dict(leads[0], created_at="0001-01-01")))
    assert error["loc"] == ["body", "created_at"]
    assert "between the years 1900 and 2199" in error["msg"]
    event = {
        "event_id": "E-9999",
        "type": "contacted",
        "lead_id": leads[0]["lead_id"],
        "occurred_at": "9999-01-01T00:00:00Z",
    }
    assert only_error(api.post("/v1/outcomes", json=event))["loc"] == ["body", "occurred_at"]
    for start in ("0.5", "1700000000", "0298-04-11T00:00:00Z"):
        error = only_error(api.get("/v1/insights/funnel", params={"start": start}))
        assert error["loc"] == ["query", "start"], start


def test_the_same_lead_twice_in_one_request_names_both_positions(
    api: TestClient, leads: list[dict[str, Any]]
) -> None:
    other_channel = dict(leads[1], lead_id=leads[0]["lead_id"])
    error = only_error(api.post("/v1/leads/score", json=[leads[0], leads[2], other_channel]))
    assert error["loc"] == ["body", 2, "lead_id"]
    assert "also at position 0" in error["msg"]


def test_a_body_over_the_limit_is_a_413_before_it_is_read(api: TestClient) -> None:
    body = "[" + ",".join(["{}"] * (BODY_LIMIT // 2)) + "]"
    response = raw_post(api, "/v1/leads/score", body)
    assert response.status_code == 413
    assert "at most 65,536 bytes" in response.json()["detail"]
    assert response.headers["connection"] == "close"


def test_a_body_without_a_length_is_capped_too(api: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(BODY_LIMIT // 1024 + 2):
            yield b" " * 1024

    response = api.post(
        "/v1/leads/score", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_a_body_that_is_not_json_is_a_415(api: TestClient, leads: list[dict[str, Any]]) -> None:
    response = api.post(
        "/v1/leads/score", content=json.dumps(leads[0]), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert "text/csv" in response.json()["detail"]


def test_an_error_echoes_a_short_prefix_of_a_long_value(
    api: TestClient, leads: list[dict[str, Any]]
) -> None:
    response = api.post("/v1/leads/score", json=dict(leads[0], web_visits="9" * 50_000))
    assert len(response.content) < 2_000
    error = only_error(response)
    assert error["loc"] == ["body", "web_visits"]
    assert error["input"].startswith("9" * 80) and "50,000 characters" in error["input"]


def test_odd_times_stored_before_the_checks_never_fail_a_read(
    api: TestClient, database_url: str, leads: list[dict[str, Any]]
) -> None:
    lead = dict(leads[3], lead_id="OLD-9999")
    assert api.post("/v1/leads/score", json=lead).status_code == 200
    event = {
        "event_id": "E-OLD",
        "type": "contacted",
        "lead_id": "OLD-9999",
        "occurred_at": "2026-11-20T09:42:00Z",
    }
    assert api.post("/v1/outcomes", json=event).status_code == 201
    engine = create_engine(database_url)
    with engine.begin() as connection:  # as an older version would have stored it
        connection.execute(
            text("UPDATE outcomes SET occurred_at = :odd WHERE event_id = 'E-OLD'"),
            {"odd": datetime(9999, 1, 1, tzinfo=UTC)},
        )
    engine.dispose()
    for path in (
        "/v1/insights/funnel",
        "/v1/insights/speed-to-lead",
        "/v1/leads/OLD-9999/timeline",
    ):
        assert api.get(path).status_code == 200, path


def test_the_openapi_document_declares_the_key_schemes_and_the_errors(api: TestClient) -> None:
    document = api.get("/openapi.json").json()
    assert set(document["components"]["securitySchemes"]) == {"bearerKey", "headerKey"}
    score = document["paths"]["/v1/leads/score"]["post"]
    assert score["security"] == [{"bearerKey": []}, {"headerKey": []}]
    assert "scope `score`" in score["description"]
    assert {"401", "403", "409", "413", "415", "422", "503"} <= set(score["responses"])
    assert "security" not in document["paths"]["/readyz"]["get"]
