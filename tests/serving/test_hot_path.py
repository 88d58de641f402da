"""The scoring route answers the same through its hot path as through the full stack:
status, headers and body byte for byte, the same request metrics, for good requests
and for every kind of bad one the stack refuses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from data.store import Store, upgrade
from serving import online_scoring
from serving.app import create_app
from serving.hot_path import HotPathAPI
from serving.routes import leads as lead_routes
from tests.serving.conftest import Registry
from tests.serving.helpers import lead_json

BODY_LIMIT = 16 * 1024
SCORE = "/v1/leads/score"


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('hot') / 'leadscore.db'}"
    upgrade(url)
    with Store(url) as store:
        keys = {
            scope: store.create_api_key(f"{scope}-key", [scope])[1] for scope in ("score", "read")
        }
    return url, keys


@pytest.fixture(scope="module")
def app(registry: Registry, tokens: tuple[str, dict[str, str]]) -> Iterator[HotPathAPI]:
    url, _ = tokens
    settings = registry.settings(database_url=url, auth="keys", max_body_bytes=BODY_LIMIT)
    built = create_app(settings)
    assert isinstance(built, HotPathAPI)
    with TestClient(built):  # runs the lifespan: store, keys, models, history
        yield built


def _stack_of(app: FastAPI) -> Callable[..., Any]:
    """The same app, every request through FastAPI's own middleware stack."""

    async def stack(scope: Any, receive: Any, send: Any) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    return stack


@pytest.fixture(scope="module")
def both(app: HotPathAPI) -> dict[str, TestClient]:
    return {
        "hot": TestClient(app, raise_server_exceptions=False),
        "stack": TestClient(_stack_of(app), raise_server_exceptions=False),
    }


@pytest.fixture(scope="module")
def leads(sample: pd.DataFrame) -> list[dict[str, Any]]:
    return [lead_json(row) for _, row in sample.iloc[40:46].iterrows()]


Request = tuple[str, dict[str, Any]]
"""(what it is, keyword arguments of `TestClient.request`)."""


def _requests(leads: list[dict[str, Any]], keys: dict[str, str]) -> list[Request]:
    score = {"Authorization": f"Bearer {keys['score']}"}
    body = json.dumps(leads[0]).encode()

    def post(query: str = "", content: Any = body, **headers: str) -> dict[str, Any]:
        merged = {"content-type": "application/json", **score, **headers}
        return {
            "method": "POST",
            "url": SCORE + query,
            "content": content,
            "headers": merged,
            "follow_redirects": False,
        }

    def chunks() -> Iterator[bytes]:
        yield b"[" + b" " * BODY_LIMIT
        yield b"]"

    inbound = leads[0] | {"channel": "inbound"}
    return [
        ("one lead, reasons", post()),
        ("one lead, no reasons", post("?reasons=0")),
        ("a list", post("?reasons=2", json.dumps(leads).encode())),
        ("a repeated query parameter", post("?reasons=1&reasons=0")),
        ("reasons out of range", post("?reasons=21")),
        ("reasons not a number", post("?reasons=many")),
        ("NUL in the query", post("?reasons=%00")),
        ("no key", {**post(), "headers": {"content-type": "application/json"}}),
        ("an unknown key", post(Authorization="Bearer nope")),
        ("a key without the scope", post(Authorization=f"Bearer {keys['read']}")),
        ("not JSON", post(content=b"lead_id=1", **{"content-type": "text/plain"})),
        ("a length that is not a number", post(**{"content-length": "ten"})),
        ("too large", post(content=b"[" + b" " * BODY_LIMIT + b"]")),
        ("too large, chunked", post(content=chunks())),
        ("broken JSON", post(content=b'{"lead_id": ')),
        ("NaN", post(content=body.replace(b'"company_size": ', b'"company_size": NaN, "x": '))),
        ("a bad field", post(content=json.dumps(leads[0] | {"web_visits": -3}).encode())),
        ("1e400", post(content=body[:-1] + b', "web_visits": 1e400}')),
        ("year 9999", post(content=json.dumps(leads[0] | {"created_at": "9999-01-01"}).encode())),
        ("an empty list", post(content=b"[]")),
        ("the same id twice", post(content=json.dumps([inbound, inbound]).encode())),
        (
            "a custom field of the wrong kind",
            post(content=json.dumps(leads[0] | {"custom_fields": {"x": {"nested": 1}}}).encode()),
        ),
        ("GET is not the hot route", {"method": "GET", "url": SCORE, "headers": score}),
        ("a trailing slash", post().copy() | {"url": SCORE + "/"}),
    ]


def _answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "date")
    return response.status_code, headers, response.content


def _request_counts(app: FastAPI) -> dict[tuple[str, ...], float]:
    samples = app.state.metrics.requests.collect()[0].samples
    return {tuple(s.labels.values()): s.value for s in samples if s.name.endswith("_total")}


def test_every_answer_is_the_stacks_byte_for_byte(
    app: HotPathAPI,
    both: dict[str, TestClient],
    leads: list[dict[str, Any]],
    tokens: tuple[str, dict[str, str]],
) -> None:
    statuses = set()
    # Built afresh for each path: a chunked body is a generator, read once.
    fresh = zip(_requests(leads, tokens[1]), _requests(leads, tokens[1]), strict=True)
    for (what, first), (_, again) in fresh:
        hot, stack = _answer(both["hot"].request(**first)), _answer(both["stack"].request(**again))
        assert hot == stack, what
        statuses.add(hot[0])
    # The battery reaches every kind of answer the route gives.
    assert {200, 307, 400, 401, 403, 405, 413, 415, 422} <= statuses


def test_the_request_metrics_count_the_same(
    app: HotPathAPI,
    both: dict[str, TestClient],
    leads: list[dict[str, Any]],
    tokens: tuple[str, dict[str, str]],
) -> None:
    deltas = {}
    for path in ("hot", "stack"):
        before = _request_counts(app)
        for _, request in _requests(leads, tokens[1]):
            both[path].request(**request)
        after = _request_counts(app)
        deltas[path] = {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k)}
    assert deltas["hot"] == deltas["stack"], deltas
    assert deltas["hot"][("POST", SCORE, "200")] == 4  # the template labels the route


def test_an_unexpected_error_is_a_plain_500_both_ways(
    app: HotPathAPI,
    both: dict[str, TestClient],
    leads: list[dict[str, Any]],
    tokens: tuple[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(lead_routes, "score_leads", broken)
    (_, request), *_ = _requests(leads, tokens[1])
    answers = [_answer(both[path].request(**request)) for path in ("hot", "stack")]
    assert answers[0] == answers[1]
    assert answers[0][0] == 500 and answers[0][2] == b"Internal Server Error"
    assert online_scoring.score_leads is not broken  # only the route's name was replaced


def test_the_database_away_while_checking_a_key_is_the_same_503(
    app: HotPathAPI,
    both: dict[str, TestClient],
    leads: list[dict[str, Any]],
    tokens: tuple[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def away(_: str) -> Any:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(app.state.store, "verify_api_key", away)
    (_, request), *_ = _requests(leads, tokens[1])
    answers = []
    for path, token in (("hot", "never-seen-1"), ("stack", "never-seen-2")):
        headers = request["headers"] | {"Authorization": f"Bearer {token}"}
        answers.append(_answer(both[path].request(**(request | {"headers": headers}))))
    assert answers[0] == answers[1]
    assert answers[0][0] == 503 and b"database is unavailable" in answers[0][2]


def test_a_middleware_the_hot_path_would_skip_is_refused(app: HotPathAPI) -> None:
    class Audit:
        def __init__(self, app: Any) -> None:
            self.app = app

    with pytest.raises(TypeError, match="would skip this middleware"):
        app.add_middleware(Audit)
