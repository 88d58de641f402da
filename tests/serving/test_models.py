"""Health, readiness, the models in use, a missing model and reloading after a promotion."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from tests.serving.conftest import CHAMPION, CHANNELS, Registry
from tests.serving.helpers import lead_json, rows_of, score

pytestmark = pytest.mark.slow


def test_healthz_is_always_ok(registry: Registry) -> None:
    app = create_app(registry.settings())
    assert TestClient(app).get("/healthz").json() == {"status": "ok"}  # before the lifespan


def test_not_ready_before_the_models_are_loaded(registry: Registry) -> None:
    # Without `with`, TestClient does not run the lifespan: nothing is loaded yet.
    app_client = TestClient(create_app(registry.settings()))
    response = app_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not_ready"
    assert app_client.get("/v1/models").status_code == 503


def test_ready_when_every_channel_has_its_model(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    # Ready or not and why, nothing more: versions and metrics are behind the read scope.
    assert response.json() == {"status": "ready", "reasons": []}
    listed = client.get("/v1/models").json()
    assert sorted(m["channel"] for m in listed["models"]) == sorted(CHANNELS)


def test_models_lists_versions_and_their_validation_metrics(
    client: TestClient, registry: Registry
) -> None:
    body = client.get("/v1/models").json()
    assert body["missing"] == [] and body["errors"] == []
    by_channel = {m["channel"]: m for m in body["models"]}
    assert set(by_channel) == set(CHANNELS)
    for channel, model in by_channel.items():
        version = registry.client.get_model_version_by_alias(f"lead-score-{channel}", CHAMPION)
        assert model["name"] == f"lead-score-{channel}"
        assert model["alias"] == CHAMPION
        assert model["version"] == str(version.version)
        assert model["run_id"] == version.run_id
        assert model["metrics"] == pytest.approx(registry.metrics[channel])
        assert 0.5 < model["metrics"]["val_roc_auc"] < 1.0


def test_openapi_declares_the_bodies(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"Lead", "LeadScore", "ModelList", "Readiness"} <= set(schemas)
    score_op = spec["paths"]["/v1/leads/score"]["post"]
    body = score_op["requestBody"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/Lead"} in body["oneOf"]
    assert "200" in score_op["responses"] and "422" in score_op["responses"]
    assert client.get("/docs").status_code == 200


@pytest.fixture(scope="module")
def inbound_only(registry: Registry) -> str:
    """An alias only the inbound model carries: outbound is 'not trained yet'."""
    alias = "inbound_only"
    version = registry.client.get_model_version_by_alias("lead-score-inbound", CHAMPION)
    registry.client.set_registered_model_alias("lead-score-inbound", alias, version.version)
    return alias


def test_a_missing_model_is_a_503_naming_it_while_the_other_channel_scores(
    registry: Registry, inbound_only: str, sample: pd.DataFrame
) -> None:
    inbound = lead_json(rows_of(sample, "inbound").iloc[0])
    outbound = lead_json(rows_of(sample, "outbound").iloc[0])
    # With the rule score off; tests/serving/test_rule_score_api.py covers it on.
    config = registry.settings(model_alias=inbound_only, rule_score=None)
    with TestClient(create_app(config)) as app_client:
        assert score(app_client, inbound)["model"]["name"] == "lead-score-inbound"
        for body in (outbound, [inbound, outbound]):
            response = app_client.post("/v1/leads/score", json=body)
            assert response.status_code == 503
            message = response.json()["detail"]
            assert "lead-score-outbound" in message
            assert f"'{inbound_only}'" in message
            assert "leadscore train --data DIR" in message

        ready = app_client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {
            "status": "not_ready",
            "reasons": ["no model for the outbound channel"],
        }
        listed = app_client.get("/v1/models").json()
        assert [m["name"] for m in listed["models"]] == ["lead-score-inbound"]
        assert [m["name"] for m in listed["missing"]] == ["lead-score-outbound"]

        models = app_client.get("/v1/models").json()
        assert [m["channel"] for m in models["models"]] == ["inbound"]
        (missing,) = models["missing"]
        assert missing["name"] == "lead-score-outbound" and missing["alias"] == inbound_only
        assert "leadscore train" in missing["reason"]


def test_reload_picks_up_a_promoted_version_and_keeps_serving_through_a_broken_one(
    registry: Registry, sample: pd.DataFrame
) -> None:
    alias = "reload_test"
    for channel in CHANNELS:
        version = registry.client.get_model_version_by_alias(f"lead-score-{channel}", CHAMPION)
        registry.client.set_registered_model_alias(f"lead-score-{channel}", alias, version.version)
    lead = lead_json(rows_of(sample, "inbound").iloc[0])
    with TestClient(create_app(registry.settings(model_alias=alias))) as app_client:
        before = score(app_client, lead)
        old = before["model"]["version"]

        # A new version is registered and promoted: reload swaps it in.
        new = registry.register("inbound", alias)
        assert new != old
        assert score(app_client, lead)["model"]["version"] == old  # not before the reload
        reloaded = app_client.post("/v1/models/reload").json()
        versions = {m["channel"]: m["version"] for m in reloaded["models"]}
        assert versions["inbound"] == new and reloaded["errors"] == []
        after = score(app_client, lead)
        assert after["model"]["version"] == new
        assert after["probability"] == before["probability"]  # same model, new version

        # A promoted version whose files are gone fails to load: the old one keeps serving.
        broken = registry.register("inbound", alias)
        source = registry.client.get_model_version_download_uri("lead-score-inbound", broken)
        shutil.rmtree(Path(urlparse(source).path).parent)
        reloaded = app_client.post("/v1/models/reload").json()
        versions = {m["channel"]: m["version"] for m in reloaded["models"]}
        assert versions["inbound"] == new
        assert len(reloaded["errors"]) == 1 and f"version {broken}" in reloaded["errors"][0]
        assert app_client.get("/readyz").status_code == 200
        assert score(app_client, lead)["model"]["version"] == new


def test_scoring_goes_on_while_the_models_reload(registry: Registry, sample: pd.DataFrame) -> None:
    lead = lead_json(rows_of(sample, "outbound").iloc[0])
    with TestClient(create_app(registry.settings())) as app_client:
        reloads = threading.Thread(
            target=lambda: [app_client.post("/v1/models/reload") for _ in range(3)]
        )
        reloads.start()
        answers = []
        while reloads.is_alive():
            answers.append(app_client.post("/v1/leads/score", json=lead))
        reloads.join()
    assert answers and all(a.status_code == 200 for a in answers)
    assert len({a.json()["probability"] for a in answers}) == 1
