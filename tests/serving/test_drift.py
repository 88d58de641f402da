"""Drift monitoring end to end: a served model's inputs against its training reference.

The session's inbound model is registered with the reference of the inbound
leads it learnt from; the outbound one without (as a model trained before
drift monitoring). Leads from the same history score "stable" everywhere; a
planted shift (company sizes twenty times larger, 40% of sources a channel
never seen in training) reads "shifted", through the API and /metrics, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from features.columns import from_frame
from models.packaging import log_lead_model, registered_name
from serving.app import create_app
from serving.config import ServingConfig
from tests.postgres import fresh_schema
from tests.serving.conftest import Registry
from tests.serving.helpers import leads_json, mlflow_tracking, rows_of
from training.reference import with_reference

INBOUND, OUTBOUND = "lead-score-inbound", "lead-score-outbound"
LEADS = 300


@dataclass
class Watched:
    """The app, and the moment between the leads like training's and the shifted ones."""

    client: TestClient
    split_at: str


def _registry_with_reference(registry: Registry, home: Path) -> str:
    """A fresh MLflow registry: inbound with its training reference, outbound without."""
    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("drift", artifact_location=(home / "art").as_uri())
    for channel in ("inbound", "outbound"):
        model = registry.models[channel]
        model = replace(
            model, metadata={k: v for k, v in model.metadata.items() if k != "reference"}
        )
        if channel == "inbound":
            learnt = rows_of(registry.leads, channel)
            with_reference(model, from_frame(learnt, model.spec.input_fields), learnt["created_at"])
        with mlflow_tracking(uri), mlflow.start_run(experiment_id=experiment):
            info = log_lead_model(
                model, registry.examples[channel], registered_model_name=registered_name(channel)
            )
        client.set_registered_model_alias(
            registered_name(channel), "champion", str(info.registered_model_version)
        )
    return uri


def shifted(leads: pd.DataFrame) -> pd.DataFrame:
    """The planted shift: companies 20 times larger, 40% of sources never seen in training."""
    out = leads.copy()
    out["lead_id"] = "S-" + out["lead_id"].astype(str)
    out["company_size"] = out["company_size"] * 20
    new_source = out.index[: int(len(out) * 0.4)]
    out.loc[new_source, "source"] = "tiktok"
    return out


def post(client: TestClient, leads: pd.DataFrame) -> None:
    body = leads_json(leads)
    for i in range(0, len(body), 100):
        response = client.post("/v1/leads/score", params={"reasons": 0}, json=body[i : i + 100])
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def watched(
    request: pytest.FixtureRequest,
    registry: Registry,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Watched]:
    home = tmp_path_factory.mktemp("drift")
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'store.db'}"
    else:
        url = fresh_schema(request.getfixturevalue("postgres_url"), f"drift_{os.getpid()}")
    config = ServingConfig(
        tracking_uri=_registry_with_reference(registry, home),
        database_url=url,
        auth="none",
        drift_refresh_seconds=0,
    )
    inbound = rows_of(registry.leads, "inbound").sample(2 * LEADS, random_state=3)
    with TestClient(create_app(config)) as client:
        post(client, inbound.iloc[:LEADS])
        client.get("/v1/insights/drift")  # flushes the history
        split_at = datetime.now(UTC).isoformat()
        post(client, shifted(inbound.iloc[LEADS:]))
        yield Watched(client, split_at)


def drift(client: TestClient, **params: Any) -> Any:
    response = client.get("/v1/insights/drift", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def model(answer: Any, name: str) -> Any:
    (found,) = [m for m in answer["models"] if m["model"] == name]
    return found


def test_leads_like_the_training_rows_are_stable_everywhere(watched: Watched) -> None:
    inbound = model(drift(watched.client, end=watched.split_at), INBOUND)
    assert inbound["leads"] == LEADS and inbound["message"] is None
    bands = {f["field"]: f["band"] for f in inbound["fields"]}
    assert set(bands.values()) == {"stable"}, bands
    assert inbound["score_band"] == "stable"
    assert "company_size" in bands and "source" in bands and "created_at" not in bands
    source = next(f for f in inbound["fields"] if f["field"] == "source")
    assert source["new_share"] == 0 and source["new_categories"] == []
    assert [b["key"] for b in inbound["score_bins"]][:2] == ["1-10", "11-20"]
    assert {g["key"] for g in inbound["grades"]} == {"A", "B", "C", "D"}


def test_a_planted_shift_is_named_worst_first_with_its_new_category(watched: Watched) -> None:
    answer = drift(watched.client, start=watched.split_at)
    inbound = model(answer, INBOUND)
    assert inbound["leads"] == LEADS
    worst = {f["field"]: f for f in inbound["fields"][:2]}
    assert set(worst) == {"company_size", "source"}
    assert all(f["band"] == "shifted" and f["psi"] > 0.25 for f in worst.values())
    assert worst["source"]["new_share"] == pytest.approx(0.4)
    assert worst["source"]["new_categories"] == [{"value": "tiktok", "share": 0.4}]
    sizes = {b["key"]: b for b in worst["company_size"]["bins"]}
    top = list(sizes)[-2]  # the bin above the training's 90th percentile
    assert sizes[top]["now"] > 0.5 > sizes[top]["then"]
    assert any("tiktok 40%" in w for w in answer["warnings"])
    assert any(w.startswith(f"{INBOUND} v1: company_size shifted") for w in answer["warnings"])
    others = inbound["fields"][2:]
    assert all(f["band"] != "shifted" for f in others), [(f["field"], f["psi"]) for f in others]


def test_a_model_without_a_reference_says_retrain(watched: Watched) -> None:
    outbound = model(drift(watched.client), OUTBOUND)
    assert outbound["message"] == (
        "no training reference (trained before drift monitoring); retrain"
    )
    assert outbound["fields"] == [] and outbound["score_psi"] is None


def test_the_gauges_carry_the_psi_for_an_alert_rule(watched: Watched) -> None:
    page = watched.client.get("/metrics").text
    line = re.search(
        r'^leadscore_feature_psi\{feature="company_size",model="lead-score-inbound",'
        r'version="1"\} (\S+)$',
        page,
        re.MULTILINE,
    )
    assert line is not None, page
    # half the week's leads are shifted: still far beyond 0.25
    assert float(line.group(1)) > 0.25
    assert re.search(
        r'^leadscore_score_psi\{model="lead-score-inbound",version="1"\} ', page, re.MULTILINE
    )
    assert 'leadscore_drift_leads{model="lead-score-inbound",version="1"} 600.0' in page
    assert 'leadscore_feature_psi{feature="company_size",model="lead-score-outbound"' not in page


def test_the_drift_period_is_checked_like_the_others(watched: Watched) -> None:
    response = watched.client.get(
        "/v1/insights/drift", params={"start": "2026-02-01", "end": "2026-01-01"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "start"]
