"""The cold start: the rule score serves a channel until its model is registered."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from models.rule_score import DEFAULT_RULES
from serving.app import create_app
from serving.online_scoring import RULE_SCORE_WARNING
from tests.serving.conftest import CHAMPION, Registry
from tests.serving.helpers import lead_json, rows_of, score

pytestmark = pytest.mark.slow

RULE_VERSION = hashlib.sha256(DEFAULT_RULES.read_bytes()).hexdigest()[:12]


def only_inbound(registry: Registry, alias: str) -> None:
    """Give `alias` to the inbound champion only: outbound is 'not trained yet'."""
    version = registry.client.get_model_version_by_alias("lead-score-inbound", CHAMPION)
    registry.client.set_registered_model_alias("lead-score-inbound", alias, version.version)


def test_the_rule_score_serves_a_channel_without_a_model(
    registry: Registry, sample: pd.DataFrame
) -> None:
    only_inbound(registry, "cold_outbound")
    inbound = lead_json(rows_of(sample, "inbound").iloc[0])
    outbounds = [lead_json(row) for _, row in rows_of(sample, "outbound").head(20).iterrows()]
    with TestClient(create_app(registry.settings(model_alias="cold_outbound"))) as app_client:
        body = score(app_client, [inbound, *outbounds])
        assert body[0]["model"]["name"] == "lead-score-inbound"
        assert body[0]["warnings"] == []
        for scored in body[1:]:
            assert scored["model"] == {"name": "rule-score", "version": RULE_VERSION}
            assert scored["warnings"] == [RULE_SCORE_WARNING]
            assert 1 <= scored["score"] <= 99
            assert scored["probability"] == pytest.approx(scored["score"] / 100)
            assert scored["grade"] in {"A", "B", "C", "D"}
            effects = [r["effect"] for r in scored["reasons"]]
            assert effects == sorted(e for e in effects if e > 0)[::-1] + sorted(
                e for e in effects if e < 0
            )

        booked = score(app_client, {**outbounds[0], "meeting_booked": True, "replies": 3})
        cold = score(app_client, {**outbounds[0], "meeting_booked": False, "replies": 0})
        assert booked["score"] > cold["score"]
        assert ("meeting_booked", True) in {(r["field"], r["value"]) for r in booked["reasons"]}

        ready = app_client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        (missing,) = app_client.get("/v1/models").json()["missing"]
        assert missing["channel"] == "outbound"
        assert "rule score serves this channel" in missing["served_by"]


def test_without_the_rule_score_a_missing_model_is_still_a_503(
    registry: Registry, sample: pd.DataFrame
) -> None:
    only_inbound(registry, "cold_off")
    outbound = lead_json(rows_of(sample, "outbound").iloc[0])
    config = registry.settings(model_alias="cold_off", rule_score=None)
    with TestClient(create_app(config)) as app_client:
        response = app_client.post("/v1/leads/score", json=outbound)
        assert response.status_code == 503 and "lead-score-outbound" in response.json()["detail"]
        assert app_client.get("/readyz").status_code == 503
        (missing,) = app_client.get("/v1/models").json()["missing"]
        assert missing["served_by"] is None


def test_a_registered_model_takes_over_after_a_reload(
    registry: Registry, sample: pd.DataFrame
) -> None:
    alias = "cold_then_trained"
    only_inbound(registry, alias)
    outbound = lead_json(rows_of(sample, "outbound").iloc[0])
    with TestClient(create_app(registry.settings(model_alias=alias))) as app_client:
        assert score(app_client, outbound)["model"]["name"] == "rule-score"
        version = registry.register("outbound", alias)
        reloaded = app_client.post("/v1/models/reload").json()
        assert reloaded["missing"] == []
        after = score(app_client, outbound)
        assert after["model"] == {"name": "lead-score-outbound", "version": version}
        assert RULE_SCORE_WARNING not in after["warnings"]


def test_a_broken_rule_file_stops_the_start_up(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  both:\n    - {field: headcount, at_least: 2, points: 5}\n")
    with pytest.raises(ValueError, match=r"rules\.both rule 0"):
        create_app(registry.settings(rule_score=str(path)))
