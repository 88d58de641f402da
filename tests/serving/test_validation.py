"""Bad requests get FastAPI's 422 naming the field; odd but valid ones are scored with warnings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from tests.serving.conftest import Registry
from tests.serving.helpers import error_locs, lead_json, score

pytestmark = pytest.mark.slow

MAX_BATCH = 5


@pytest.fixture(scope="module")
def client(registry: Registry) -> Iterator[TestClient]:
    """This module's app takes at most MAX_BATCH leads per request."""
    with TestClient(create_app(registry.settings(max_batch=MAX_BATCH))) as test_client:
        yield test_client


@pytest.fixture
def lead(sample: pd.DataFrame) -> dict[str, Any]:
    return lead_json(sample.iloc[0])


def post(client: TestClient, body: Any) -> Any:
    return client.post("/v1/leads/score", json=body)


def only_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert len(detail) == 1, detail
    error: dict[str, Any] = detail[0]
    assert set(error) >= {"loc", "msg", "type"}
    return error


def test_a_missing_required_field_is_named(client: TestClient, lead: dict[str, Any]) -> None:
    del lead["created_at"]
    error = only_error(post(client, lead))
    assert error["loc"] == ["body", "created_at"]
    assert error["type"] == "missing"


def test_an_error_in_a_list_names_the_index_and_the_field(
    client: TestClient, lead: dict[str, Any]
) -> None:
    broken = {k: v for k, v in lead.items() if k != "lead_id"}
    error = only_error(post(client, [lead, lead, broken]))
    assert error["loc"] == ["body", 2, "lead_id"]


def test_a_wrong_type_is_named(client: TestClient, lead: dict[str, Any]) -> None:
    error = only_error(post(client, {**lead, "web_visits": "plenty"}))
    assert error["loc"] == ["body", "web_visits"]
    assert error["type"] == "int_parsing"


def test_an_unknown_channel_is_named_with_the_allowed_ones(
    client: TestClient, lead: dict[str, Any]
) -> None:
    error = only_error(post(client, {**lead, "channel": "partner"}))
    assert error["loc"] == ["body", "channel"]
    assert "inbound" in error["msg"] and "outbound" in error["msg"]


def test_a_negative_company_size_is_named(client: TestClient, lead: dict[str, Any]) -> None:
    error = only_error(post(client, {**lead, "company_size": -3}))
    assert error["loc"] == ["body", "company_size"]
    assert error["type"] == "greater_than_equal"


def test_an_unknown_extra_field_is_named(client: TestClient, lead: dict[str, Any]) -> None:
    error = only_error(post(client, {**lead, "favourite_colour": "teal"}))
    assert error["loc"] == ["body", "favourite_colour"]
    assert error["type"] == "extra_forbidden"


def test_several_problems_are_all_reported(client: TestClient, lead: dict[str, Any]) -> None:
    bad = {**lead, "channel": "partner", "company_size": -1, "zzz": 1}
    response = post(client, [lead, bad])
    assert response.status_code == 422
    assert sorted(map(str, error_locs(response))) == sorted(
        map(str, [["body", 1, "channel"], ["body", 1, "company_size"], ["body", 1, "zzz"]])
    )


@pytest.mark.parametrize("raw", [b"{not json", b"", b"lead_id=1"])
def test_a_body_that_is_not_json_is_a_422(client: TestClient, raw: bytes) -> None:
    response = client.post(
        "/v1/leads/score", content=raw, headers={"content-type": "application/json"}
    )
    error = only_error(response)
    assert error["loc"] == ["body"]
    assert error["type"] == "json_invalid"
    assert "JSON" in error["msg"]


@pytest.mark.parametrize("body", ["a lead", 42, None, [1, 2]])
def test_json_that_is_not_a_lead_is_a_422(client: TestClient, body: Any) -> None:
    response = post(client, body)
    assert response.status_code == 422
    assert all(loc[0] == "body" for loc in error_locs(response))


def test_an_empty_list_is_a_422(client: TestClient) -> None:
    error = only_error(post(client, []))
    assert error["loc"] == ["body"]
    assert "empty" in error["msg"]


def test_too_many_leads_say_the_count_and_the_limit(
    client: TestClient, lead: dict[str, Any]
) -> None:
    error = only_error(post(client, [lead] * (MAX_BATCH + 2)))
    assert error["loc"] == ["body"]
    assert f"{MAX_BATCH + 2} in one request" in error["msg"]
    assert f"at most {MAX_BATCH}" in error["msg"]
    assert error["ctx"] == {"count": MAX_BATCH + 2, "max_batch": MAX_BATCH}
    distinct = [{**lead, "lead_id": f"{lead['lead_id']}-{i}"} for i in range(MAX_BATCH)]
    assert len(score(client, distinct)) == MAX_BATCH


@pytest.mark.parametrize("reasons", [-1, 21, "some"])
def test_a_bad_reasons_parameter_is_named(
    client: TestClient, lead: dict[str, Any], reasons: object
) -> None:
    response = client.post("/v1/leads/score", params={"reasons": reasons}, json=lead)
    error = only_error(response)
    assert error["loc"] == ["query", "reasons"]


def test_an_unseen_category_is_scored_as_missing_with_a_warning(
    client: TestClient, lead: dict[str, Any]
) -> None:
    odd = score(client, {**lead, "company_industry": "aerospace"})
    blank = score(client, {**lead, "company_industry": None})
    assert len(odd["warnings"]) == 1
    assert "company_industry" in odd["warnings"][0] and "aerospace" in odd["warnings"][0]
    assert odd["probability"] == blank["probability"]
    assert blank["warnings"] == []


def test_warnings_stay_with_their_lead_in_a_list(client: TestClient, lead: dict[str, Any]) -> None:
    twin = {**lead, "lead_id": f"{lead['lead_id']}-twin"}
    other = {**lead, "lead_id": f"{lead['lead_id']}-xx", "company_country": "XX"}
    body = score(client, [lead, other, twin])
    assert [len(s["warnings"]) for s in body] == [0, 1, 0]
    assert "company_country 'XX'" in body[1]["warnings"][0]


def test_times_with_a_zone_are_read_as_utc(client: TestClient, lead: dict[str, Any]) -> None:
    naive = score(client, {**lead, "created_at": "2025-03-03T09:30:00"}, reasons=0)
    zoned = score(client, {**lead, "created_at": "2025-03-03T11:30:00+02:00"}, reasons=0)
    assert naive["probability"] == zoned["probability"]
