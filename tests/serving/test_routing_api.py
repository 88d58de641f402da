"""Routing over HTTP: closers for qualified leads, account managers for won customers,
with real fit models, the policy and capacity reserved in a real database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from data.json_rows import to_records
from data.tables import read_table
from serving.app import create_app
from tests.postgres import fresh_schema
from tests.serving.conftest import Registry

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('routing-db') / 'leadscore.db'}"
    return fresh_schema(request.getfixturevalue("postgres_url"), f"routing_{os.getpid()}")


@pytest.fixture(scope="module")
def api(fit_registry: Registry, database: str, history: Path) -> Iterator[TestClient]:
    with TestClient(create_app(fit_registry.settings(database_url=database))) as client:
        for rep in to_records(read_table(history, "reps")):
            assert client.put(f"/v1/reps/{rep['rep_id']}", json=rep).status_code == 200
        yield client


@pytest.fixture(scope="module")
def leads(history: Path) -> list[dict[str, object]]:
    return to_records(read_table(history, "leads").tail(300))


def _set_capacity(api: TestClient, role: str, capacity: int) -> None:
    for rep in api.get("/v1/reps", params={"role": role}).json():
        body = {
            k: rep[k]
            for k in (
                "rep_id",
                "name",
                "role",
                "region",
                "segment",
                "industries",
                "active",
                "available",
                "weight",
            )
        }
        assert api.put(f"/v1/reps/{rep['rep_id']}", json=body | {"capacity": capacity}).is_success


def _load(api: TestClient, rep_id: str) -> int:
    load: int = api.get(f"/v1/reps/{rep_id}").json()["load"]
    return load


def test_a_qualified_lead_goes_to_a_ranked_closer_and_takes_capacity(
    api: TestClient, leads: list[dict[str, object]]
) -> None:
    lead = leads[0]
    response = api.post("/v1/leads/route", json=lead, params={"deal_value": 12_000})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["policy"] == "expected_value"
    assert body["model"]["name"] == "closer-fit"
    ranked = body["ranked"]
    assert body["chosen"]["rep_id"] in {r["rep_id"] for r in ranked}
    assert sum(r["propensity"] for r in ranked) == pytest.approx(1.0)
    assert all(0 < r["fit"] < 1 for r in ranked)
    assert ranked[0]["expected_value"] == pytest.approx(ranked[0]["fit"] * 12_000)
    assert body["chosen"]["name"]
    assert _load(api, body["chosen"]["rep_id"]) == 1
    again = api.post("/v1/leads/route", json=lead)
    assert again.status_code == 409
    assert body["chosen"]["rep_id"] in again.json()["detail"]


def test_a_won_outcome_releases_the_closer(api: TestClient, leads: list[dict[str, object]]) -> None:
    lead = leads[1]
    chosen = api.post("/v1/leads/route", json=lead).json()["chosen"]["rep_id"]
    before = _load(api, chosen)
    event = {
        "event_id": f"won-{lead['lead_id']}",
        "type": "won",
        "lead_id": lead["lead_id"],
        "occurred_at": "2026-11-20T10:00:00Z",
        "value": 15000,
    }
    assert api.post("/v1/outcomes", json=event).status_code == 201
    assert _load(api, chosen) == before - 1


def test_a_won_customer_gets_an_account_manager(api: TestClient, history: Path) -> None:
    customer = to_records(read_table(history, "customers").tail(1))[0]
    response = api.post("/v1/customers/assign", json=customer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "customer"
    assert body["model"]["name"] == "account-manager-fit"
    assert body["chosen"]["rep_id"].startswith("AM")
    value = customer["account_value"]
    assert all(r["expected_value"] >= r["fit"] * value - 1e-6 for r in body["ranked"])


@pytest.mark.parametrize(
    ("path", "change", "params", "field"),
    [
        ("/v1/leads/route", {"channel": "partner"}, {}, "channel"),
        ("/v1/leads/route", {}, {"deal_value": -5}, "deal_value"),
        ("/v1/leads/route", {"lead_id": None}, {}, "lead_id"),
        ("/v1/customers/assign", {"account_value": "much"}, {}, "account_value"),
    ],
)
def test_bad_routing_input_names_the_field(
    api: TestClient,
    history: Path,
    leads: list[dict[str, object]],
    path: str,
    change: dict[str, object],
    params: dict[str, object],
    field: str,
) -> None:
    base = leads[2] if "leads" in path else to_records(read_table(history, "customers").tail(2))[0]
    response = api.post(path, json=base | change, params=params)
    assert response.status_code == 422
    assert any(error["loc"][-1] == field for error in response.json()["detail"])


def test_concurrent_routing_never_exceeds_capacity(
    api: TestClient, leads: list[dict[str, object]]
) -> None:
    _set_capacity(api, "closer", 2)  # loads of earlier tests stay
    before = {r["rep_id"]: r["load"] for r in api.get("/v1/reps", params={"role": "closer"}).json()}
    room = sum(max(0, 2 - load) for load in before.values())
    batch = leads[100 : 100 + room + 15]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda lead: api.post("/v1/leads/route", json=lead), batch))
    codes = [a.status_code for a in answers]
    closers = api.get("/v1/reps", params={"role": "closer"}).json()
    assert all(r["load"] <= r["capacity"] for r in closers)
    assert set(codes) == {200, 409}
    # Every success took exactly one unit of capacity, nothing was double-booked.
    assert sum(r["load"] for r in closers) - sum(before.values()) == codes.count(200)
    for answer in answers:
        if answer.status_code == 409:
            reasons = " ".join(i["reason"] for i in answer.json()["detail"]["ineligible"])
            assert "at capacity" in reasons


def test_without_a_fit_model_routing_falls_back_to_round_robin_and_says_so(
    fit_registry: Registry, tmp_path: Path, history: Path, leads: list[dict[str, object]]
) -> None:
    config = fit_registry.settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", model_alias="nobody"
    )
    with TestClient(create_app(config)) as client:
        for rep in to_records(
            read_table(history, "reps")
        ):  # no territories: anyone may work any lead
            client.put(f"/v1/reps/{rep['rep_id']}", json=rep | {"region": None})
        chosen = []
        for lead in leads[200:212]:
            body = client.post("/v1/leads/route", json=lead).json()
            assert body["policy"] == "round_robin_fallback"
            assert body["model"] is None
            assert "closer-fit" in body["warnings"][0]
            chosen.append(body["chosen"]["rep_id"])
    assert len(set(chosen)) == 12, "weighted round-robin spreads 12 leads over 12 closers"


def test_no_rep_at_all_is_a_clear_409(
    fit_registry: Registry, tmp_path: Path, leads: list[dict[str, object]]
) -> None:
    config = fit_registry.settings(database_url=f"sqlite:///{tmp_path / 'empty.sqlite'}")
    with TestClient(create_app(config)) as client:
        response = client.post("/v1/leads/route", json=leads[0])
    assert response.status_code == 409
    assert "no rep can take it" in response.json()["detail"]["message"]


def test_models_lists_the_fit_models_in_use(api: TestClient) -> None:
    fits = {m["role"]: m for m in api.get("/v1/models").json()["fit_models"]}
    assert fits["closer"]["name"] == "closer-fit"
    assert fits["closer"]["version"] is not None
    assert "val_roc_auc" in fits["closer"]["metrics"]


def test_the_same_lead_routed_forty_times_at_once_is_one_assignment_and_409s(
    api: TestClient, leads: list[dict[str, object]]
) -> None:
    _set_capacity(api, "closer", 1000)
    lead = leads[250]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: api.post("/v1/leads/route", json=lead), range(40)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * 39, codes
    refused = next(a for a in answers if a.status_code == 409).json()
    assert "detail" in refused
    taken = [r for r in api.get("/v1/reps", params={"role": "closer"}).json() if r["load"]]
    assert taken  # the one assignment holds capacity
