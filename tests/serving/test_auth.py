"""API keys with scopes on a real store: who gets in, who gets told what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from data.store import Store, upgrade
from serving import auth
from serving.app import create_app
from tests.serving.conftest import Registry
from tests.serving.helpers import lead_json


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('auth') / 'leadscore.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def tokens(database: str) -> dict[str, str]:
    with Store(database) as store:
        return {
            scope: store.create_api_key(f"{scope}-key", [scope])[1]
            for scope in ("score", "route", "outcomes", "read", "admin")
        }


@pytest.fixture(scope="module")
def api(registry: Registry, database: str, tokens: dict[str, str]) -> Iterator[TestClient]:
    config = registry.settings(database_url=database, auth="keys")
    with TestClient(create_app(config)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def lead(sample: pd.DataFrame) -> dict[str, object]:
    return lead_json(sample.iloc[0])


def test_without_a_key_the_answer_names_the_scope_and_how_to_get_one(
    api: TestClient, lead: dict[str, object]
) -> None:
    response = api.post("/v1/leads/score", json=lead)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    detail = response.json()["detail"]
    assert "scope 'score'" in detail and "leadscore keys create" in detail


def test_a_key_with_the_scope_gets_in_by_either_header(
    api: TestClient, tokens: dict[str, str], lead: dict[str, object]
) -> None:
    assert api.post("/v1/leads/score", json=lead, headers=bearer(tokens["score"])).is_success
    alternative = {"X-API-Key": tokens["score"]}
    assert api.post("/v1/leads/score", json=lead, headers=alternative).is_success


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer   "},
        {"Authorization": "Bearer nope", "X-API-Key": "also-nope"},
    ],
    ids=["another-scheme", "empty-bearer", "unknown-keys"],
)
def test_a_key_in_the_wrong_form_is_refused(
    api: TestClient, lead: dict[str, object], headers: dict[str, str]
) -> None:
    response = api.post("/v1/leads/score", json=lead, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_the_authorization_header_wins_over_x_api_key(
    api: TestClient, tokens: dict[str, str], lead: dict[str, object]
) -> None:
    both = {**bearer(tokens["read"]), "X-API-Key": tokens["score"]}
    response = api.post("/v1/leads/score", json=lead, headers=both)
    assert response.status_code == 403, "the bearer key (read) is the one checked"


def test_a_key_without_the_scope_is_told_which_it_lacks(
    api: TestClient, tokens: dict[str, str], lead: dict[str, object]
) -> None:
    response = api.post("/v1/leads/score", json=lead, headers=bearer(tokens["read"]))
    assert response.status_code == 403
    assert "lacks the scope 'score'" in response.json()["detail"]
    assert "it has: read" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("get", "/v1/models", "read"),
        ("get", "/metrics", "read"),
        ("get", "/v1/reps", "read"),
        ("get", "/v1/insights/workload", "read"),
        ("get", "/v1/leads/nobody/timeline", "read"),
        ("get", "/v1/leads/nobody/scores", "score"),
        ("post", "/v1/outcomes", "outcomes"),
        ("post", "/v1/leads/route", "route"),
        ("post", "/v1/customers/assign", "route"),
        ("put", "/v1/reps/CL-1", "admin"),
        ("post", "/v1/models/reload", "admin"),
    ],
)
def test_every_route_asks_for_its_scope(
    api: TestClient, tokens: dict[str, str], method: str, path: str, scope: str
) -> None:
    assert api.request(method, path).status_code == 401
    others = [s for s in tokens if s not in (scope, "admin")]
    for other in others:
        refused = api.request(method, path, headers=bearer(tokens[other]))
        assert refused.status_code == 403, (other, refused.text)
    for holder in {scope, "admin"}:
        passed = api.request(method, path, headers=bearer(tokens[holder]))
        assert passed.status_code not in (401, 403), (holder, passed.text)


def test_health_docs_and_the_dashboard_page_need_no_key(api: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/docs", "/openapi.json", "/dashboard"):
        assert api.get(path).status_code == 200, path


def test_unknown_and_malformed_keys_are_refused(api: TestClient, lead: dict[str, object]) -> None:
    for token in ("lsk_000000000000_guess", "guess", ""):
        response = api.post("/v1/leads/score", json=lead, headers=bearer(token))
        assert response.status_code == 401, token


def test_a_revoked_key_stops_working_once_its_cache_entry_expires(
    api: TestClient, database: str, lead: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(database) as store:
        key, token = store.create_api_key("temporary", ["score"])
        assert api.post("/v1/leads/score", json=lead, headers=bearer(token)).is_success
        store.revoke_api_key(key.key_id)
    monkeypatch.setattr(auth, "CACHE_SECONDS", 0.0)
    response = api.post("/v1/leads/score", json=lead, headers=bearer(token))
    assert response.status_code == 401
    assert "unknown or revoked" in response.json()["detail"]


def test_keys_need_the_store(registry: Registry) -> None:
    with pytest.raises(ValueError, match="API keys live in the store: set database_url"):
        create_app(registry.settings(auth="keys"))


def test_a_key_is_checked_before_the_body(api: TestClient) -> None:
    """An unauthenticated caller learns nothing about the body; only the transport rules
    the OpenAPI document states anyway (JSON, the size limit) come first."""
    json_type = {"content-type": "application/json"}
    response = api.post("/v1/leads/score", content=b"not json", headers=json_type)
    assert response.status_code == 401
    response = api.post(
        "/v1/leads/score", content=b"not json", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415


def test_a_fresh_store_starts_with_a_warning(
    registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = registry.settings(database_url=f"sqlite:///{tmp_path / 'new.db'}", auth="keys")
    with caplog.at_level("WARNING"), TestClient(create_app(config)) as client:
        assert client.get("/v1/models").status_code == 401
    assert "no API key exists yet" in caplog.text
