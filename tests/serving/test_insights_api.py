"""The insights endpoints and the lead timeline over HTTP, on SQLite and PostgreSQL.

The store holds the hand-built history of `tests/serving/insights/history.py`
(January 2026), whose figures the data tests check one by one; here the
answers' shapes, the defaults, the empty store and every bad input.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from data.store import Store
from serving.app import create_app
from serving.config import ServingConfig
from tests.postgres import fresh_schema
from tests.serving.helpers import error_locs
from tests.serving.insights.history import build

JANUARY = {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}
PERIOD_ENDPOINTS = ["funnel", "speed-to-lead", "workload", "backtest", "routed"]


def app_on(url: str, home: Path) -> TestClient:
    """The API on `url`, with an empty model registry: the rule score serves, nobody cares."""
    config = ServingConfig(
        tracking_uri=f"sqlite:///{home / 'mlflow.db'}", database_url=url, auth="none"
    )
    return TestClient(create_app(config))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def urls(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, str]:
    """(a store with the history, an empty store) on one backend."""
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("insights")
        return f"sqlite:///{folder / 'full.db'}", f"sqlite:///{folder / 'empty.db'}"
    server = request.getfixturevalue("postgres_url")
    return (
        fresh_schema(server, f"insights_{os.getpid()}"),
        fresh_schema(server, f"insights_empty_{os.getpid()}"),
    )


@pytest.fixture(scope="module")
def api(urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_on(urls[0], tmp_path_factory.mktemp("mlflow")) as client:
        with Store(urls[0]) as store:  # the app created the schema on start-up
            build(store)
        yield client


@pytest.fixture(scope="module")
def empty(urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_on(urls[1], tmp_path_factory.mktemp("mlflow-empty")) as client:
        yield client


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_timeline_of_a_lead(api: TestClient) -> None:
    t = get(api, "/v1/leads/L1/timeline")
    assert t["lead_id"] == "L1" and t["channel"] == "inbound"
    assert [e["stage"] for e in t["events"]][:6] == [
        "created",
        "scored",
        "contacted",
        "contacted",
        "qualified",
        "routed",
    ]
    sides = [(h["from_rep_id"], h["to_rep_id"]) for h in t["handoffs"]]
    assert sides == [("IS1", "CL1"), ("CL1", "AM1")]
    assert t["events"][0]["at"] == "2026-01-05T09:00:00Z"


def test_an_unknown_lead_is_404_naming_it(api: TestClient, empty: TestClient) -> None:
    for client in (api, empty):
        response = client.get("/v1/leads/NOPE-7/timeline")
        assert response.status_code == 404
        assert response.json() == {"detail": "lead 'NOPE-7' not found"}


def test_the_funnel_of_a_period(api: TestClient) -> None:
    f = get(api, "/v1/insights/funnel", **JANUARY)
    assert f["by"] == "channel"
    assert f["period"] == JANUARY
    assert f["overall"]["counts"] == {
        "created": 5,
        "contacted": 4,
        "qualified": 3,
        "routed": 3,
        "won": 2,
        "retained": 1,
    }
    assert [g["key"] for g in f["groups"]] == ["inbound", "outbound"]
    first = f["groups"][0]["conversions"][0]
    assert set(first) == {"from", "to", "rate", "low", "high", "shrunk_rate", "small"}


@pytest.mark.parametrize("by", ["channel", "source", "role", "rep", "segment", "grade"])
def test_every_breakdown(api: TestClient, by: str) -> None:
    f = get(api, "/v1/insights/funnel", by=by, **JANUARY)
    assert f["by"] == by and f["groups"]


def test_the_default_period_is_the_last_90_days(api: TestClient) -> None:
    f = get(api, "/v1/insights/funnel")  # the history is older: nothing in it
    assert f["groups"] == [] and f["overall"]["counts"]["created"] == 0
    days = (_time(f["period"]["end"]) - _time(f["period"]["start"])).days
    assert days == 90


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_speed_workload_backtest_and_routed(api: TestClient) -> None:
    speed = get(api, "/v1/insights/speed-to-lead", **JANUARY)
    assert [r["key"] for r in speed["by_channel"]] == ["inbound", "outbound"]
    assert speed["by_channel"][0]["first_touch_minutes"] == {"p50": 35.0, "p90": 55.0, "n": 2}
    work = get(api, "/v1/insights/workload")
    assert {r["rep_id"] for r in work["reps"]} == {"IS1", "PR1", "CL1", "CL2", "AM1"}
    assert {r["role"] for r in work["by_role"]} == {
        "inbound_specialist",
        "prospector",
        "closer",
        "account_manager",
    }
    back = get(api, "/v1/insights/backtest", horizon_days=30, **JANUARY)
    assert back["horizon_days"] == 30
    versions = {(v["model"], v["version"]): v["leads"] for v in back["versions"]}
    assert versions == {("lead-score-inbound", "3"): 3, ("lead-score-outbound", "3"): 1}
    routed = get(api, "/v1/insights/routed", limit=5, **JANUARY)["assignments"]
    subjects = [(a["kind"], a["subject_id"]) for a in routed]
    assert subjects == [("customer", "CU1"), ("lead", "L2"), ("lead", "L1")]


@pytest.mark.parametrize("endpoint", PERIOD_ENDPOINTS)
def test_an_empty_store_answers_empty(empty: TestClient, endpoint: str) -> None:
    body = get(empty, f"/v1/insights/{endpoint}")
    lists = [v for v in body.values() if isinstance(v, list) and v != body.get("stages")]
    assert all(v == [] for v in lists), body


def test_an_unknown_breakdown_is_422_naming_by(api: TestClient) -> None:
    response = api.get("/v1/insights/funnel", params={"by": "weather"})
    assert response.status_code == 422
    assert ["query", "by"] in error_locs(response)


@pytest.mark.parametrize("endpoint", PERIOD_ENDPOINTS)
@pytest.mark.parametrize(
    "period",
    [
        {"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},  # inverted
        {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},  # empty
        {"start": "2999-01-01T00:00:00Z"},  # after the default end, now
        {"start": "last tuesday"},  # not a time
    ],
)
def test_a_bad_period_is_422_naming_start(
    api: TestClient, endpoint: str, period: dict[str, str]
) -> None:
    response = api.get(f"/v1/insights/{endpoint}", params=period)
    assert response.status_code == 422, response.text
    assert error_locs(response) == [["query", "start"]]


def test_bad_limits_are_422_naming_them(api: TestClient) -> None:
    response = api.get("/v1/insights/backtest", params={"horizon_days": 0})
    assert response.status_code == 422 and ["query", "horizon_days"] in error_locs(response)
    response = api.get("/v1/insights/routed", params={"limit": 0})
    assert response.status_code == 422 and ["query", "limit"] in error_locs(response)


def test_outcomes_take_contacted_and_a_rep_of_the_roster(api: TestClient) -> None:
    touch = {
        "event_id": "api-touch-1",
        "type": "contacted",
        "lead_id": "L3",
        "occurred_at": "2026-01-07T10:00:00Z",
        "rep_id": "IS1",
    }
    response = api.post("/v1/outcomes", json=touch)
    assert response.status_code == 201, response.text
    assert response.json()["event"]["rep_id"] == "IS1"
    stranger = touch | {"event_id": "api-touch-2", "rep_id": "IS-404"}
    response = api.post("/v1/outcomes", json=stranger)
    assert response.status_code == 422
    assert error_locs(response) == [["body", "rep_id"]]
    assert "IS-404" in response.json()["detail"][0]["msg"]
    t = get(api, "/v1/leads/L3/timeline")
    assert ("contacted", "IS1") in {(e["stage"], e["rep_id"]) for e in t["events"]}
