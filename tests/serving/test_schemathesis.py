"""Every operation of the OpenAPI document, fed generated input (valid and not):
never a server error, and every answer as the document describes it.

One check is left out: that every schema-valid request is accepted. The service
refuses more than JSON Schema can say (NUL text, years outside 1900-2199, one
lead twice in a list), on purpose, with a 422 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from data.store import Store
from data.store.migrate import upgrade
from serving.app import create_app
from tests.serving.conftest import Registry

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(
    registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FastAPI, str]]:
    """The app with API keys on, and an admin key's token."""
    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'store.db'}"
    upgrade(url)
    with Store(url) as store:
        _, token = store.create_api_key("fuzz", ["admin"])
    config = registry.settings(database_url=url, journal_dir=str(folder / "journal"), auth="keys")
    app = create_app(config)
    with TestClient(app):  # runs the lifespan: the store opens and the models load
        yield app, token


@pytest.fixture(scope="module")
def api_schema(served: tuple[FastAPI, str]) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", served[0])


def test_no_operation_fails_or_breaks_its_schema(
    api_schema: schemathesis.schemas.BaseSchema, served: tuple[FastAPI, str]
) -> None:
    key = {"Authorization": f"Bearer {served[1]}"}
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[union-attr]
    # Every route of the API is in the document, and so gets fuzzed.
    assert {f"{o.method.upper()} {o.path}" for o in operations} >= {
        "POST /v1/leads/score",
        "POST /v1/outcomes",
        "PUT /v1/reps/{rep_id}",
        "GET /v1/insights/funnel",
        "GET /v1/leads/{lead_id}/timeline",
        "GET /readyz",
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=key, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except BaseException as error:  # schemathesis reports a group of failures
            if isinstance(error, KeyboardInterrupt):
                raise
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert not failures, "\n\n".join(failures)
