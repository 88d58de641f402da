"""A wrong method gets a 405 that lists every method the path takes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/reps/R1", "GET, PUT"),  # the router alone said "GET"
        ("POST", "/v1/reps/R1", "GET, PUT"),
        ("GET", "/v1/leads/score", "POST"),
        ("DELETE", "/v1/leads/L1/scores", "GET"),
        ("PUT", "/v1/reps", "GET"),
    ],
)
def test_a_405_lists_every_method_of_the_path(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json() == {"detail": f"{method} is not allowed on {path}; it takes {allowed}"}
    for each in allowed.split(", "):  # and each of those is really served there
        assert client.request(each, path).status_code != 405
