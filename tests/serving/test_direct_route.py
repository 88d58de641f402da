"""A direct route keeps what FastAPI gave the route: key scope, query checks, documentation."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Body, FastAPI, Query, Request, Response
from fastapi.testclient import TestClient

from serving.auth import READ, require
from serving.direct_route import QUERIES_KEPT, DirectRoute
from serving.openapi import add_lead_schemas


class _Ring:
    """A key ring that knows one token, with the read scope."""

    def cached(self, token: str) -> tuple[bool, object]:
        return True, (_Key() if token == "good" else None)


class _Key:
    name, key_id, scopes = "k", "k1", ["read"]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


@pytest.fixture(scope="module")
def client() -> TestClient:
    router = APIRouter(prefix="/v1", route_class=DirectRoute)

    @router.post("/echo", dependencies=[READ], summary="Echo n")
    async def echo(
        request: Request, n: Annotated[int, Query(ge=1, le=9, description="How many.")] = 2
    ) -> Response:
        body = await request.body()
        return Response(f'{{"n": {n}, "bytes": {len(body)}}}', media_type="application/json")

    app = FastAPI()
    app.state.key_ring = _Ring()
    app.include_router(router)
    add_lead_schemas(app)
    return TestClient(app)


def test_the_key_is_checked_first(client: TestClient) -> None:
    response = client.post("/v1/echo?n=0")
    assert response.status_code == 401
    assert "scope 'read'" in response.json()["detail"]
    unknown = client.post("/v1/echo", headers={"Authorization": "Bearer bad"})
    assert unknown.status_code == 401


def test_query_parameters_are_validated_as_fastapi_would(client: TestClient) -> None:
    auth = {"Authorization": "Bearer good"}
    for value, kind in (
        ("0", "greater_than_equal"),
        ("10", "less_than_equal"),
        ("x", "int_parsing"),
    ):
        response = client.post("/v1/echo", params={"n": value}, headers=auth)
        assert response.status_code == 422
        (error,) = response.json()["detail"]
        assert (error["loc"], error["type"]) == (["query", "n"], kind)
    assert client.post("/v1/echo", headers=auth, content=b"abc").json() == {"n": 2, "bytes": 3}
    assert client.post("/v1/echo?n=7", headers=auth).json() == {"n": 7, "bytes": 0}


def test_the_documentation_keeps_the_parameter_and_the_scope(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/echo"]["post"]
    (parameter,) = operation["parameters"]
    assert (parameter["name"], parameter["in"], parameter["description"]) == (
        "n",
        "query",
        "How many.",
    )
    assert parameter["schema"]["minimum"] == 1 and parameter["schema"]["maximum"] == 9
    assert operation["security"] == [{"bearerKey": []}, {"headerKey": []}]
    assert "scope `read`" in operation["description"]


def test_a_direct_route_refuses_what_it_would_not_run() -> None:
    router = APIRouter(route_class=DirectRoute)

    async def with_body(request: Request, payload: Annotated[dict[str, int], Body()]) -> Response:
        return Response()

    with pytest.raises(TypeError, match="reads its body itself"):
        router.add_api_route("/body", with_body, methods=["POST"])

    async def plain(request: Request) -> Response:
        return Response()

    with pytest.raises(TypeError, match="one `require` scope"):
        router.add_api_route("/two", plain, methods=["POST"], dependencies=[READ, require("score")])


def test_query_errors_are_fastapis_to_the_letter(client: TestClient) -> None:
    """The same declaration on a plain FastAPI route answers the same 422 bodies."""
    plain = FastAPI()

    @plain.post("/v1/echo")
    async def echo(n: Annotated[int, Query(ge=1, le=9, description="How many.")] = 2) -> int:
        return n

    reference = TestClient(plain)
    auth = {"Authorization": "Bearer good"}
    for query in ("n=0", "n=10", "n=x", "n=", "n=1.5", "n=3&n=12", "n=3&n=4", "other=1", ""):
        ours = client.post(f"/v1/echo?{query}", headers=auth)
        theirs = reference.post(f"/v1/echo?{query}")
        assert ours.status_code == theirs.status_code, query
        if theirs.status_code == 422:
            assert ours.json() == theirs.json(), query
        else:
            assert ours.json()["n"] == theirs.json(), query


def test_query_strings_read_before_give_the_same_answer_past_the_memory(
    client: TestClient,
) -> None:
    """A route remembers the readings of the query strings it saw; more distinct ones
    than it keeps (a client varying a parameter) are read afresh, never mixed up."""
    auth = {"Authorization": "Bearer good"}
    for round_ in range(2):
        for i in range(QUERIES_KEPT + 50):
            n = i % 12  # 1-9 valid, 0, 10 and 11 out of range
            response = client.post(f"/v1/echo?n={n}&pad={i}", headers=auth)
            if 1 <= n <= 9:
                assert response.json() == {"n": n, "bytes": 0}, (round_, i)
            else:
                assert response.status_code == 422, (round_, i)
                assert response.json()["detail"][0]["input"] == str(n)
