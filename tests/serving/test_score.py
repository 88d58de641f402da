"""POST /v1/leads/score with good input: shapes, parity with MLflow, model behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from data.contract import Lead, table_fields
from tests.serving.conftest import CHANNELS, Registry
from tests.serving.helpers import lead_json, leads_json, mlflow_tracking, rows_of, score

pytestmark = pytest.mark.slow

LEAD_FIELDS = set(table_fields(Lead))


def check_score(body: dict[str, object], lead: dict[str, object]) -> None:
    assert set(body) == {
        "lead_id",
        "channel",
        "probability",
        "score",
        "grade",
        "reasons",
        "model",
        "warnings",
    }
    assert body["lead_id"] == lead["lead_id"]
    assert body["channel"] == lead["channel"]
    assert isinstance(body["probability"], float) and 0.0 < body["probability"] < 1.0
    assert isinstance(body["score"], int) and 1 <= body["score"] <= 99
    assert body["grade"] in {"A", "B", "C", "D"}
    assert body["model"] == {"name": f"lead-score-{lead['channel']}", "version": "1"}
    assert body["warnings"] == []


def test_one_lead_in_one_score_out(client: TestClient, sample: pd.DataFrame) -> None:
    lead = lead_json(sample.iloc[0])
    body = score(client, lead)
    assert isinstance(body, dict)
    check_score(body, lead)


def test_a_list_keeps_its_order_and_mixes_channels(
    client: TestClient, sample: pd.DataFrame
) -> None:
    leads = leads_json(sample.head(40))
    assert {lead["channel"] for lead in leads} == set(CHANNELS)
    body = score(client, leads)
    assert isinstance(body, list) and len(body) == len(leads)
    for scored, lead in zip(body, leads, strict=True):
        check_score(scored, lead)


def test_a_list_of_one_gives_a_list(client: TestClient, sample: pd.DataFrame) -> None:
    body = score(client, [lead_json(sample.iloc[0])])
    assert isinstance(body, list) and len(body) == 1


def test_a_parquet_row_posts_as_it_is(
    client: TestClient, registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "leads.parquet"
    registry.leads.head(20).to_parquet(path)
    leads = leads_json(pd.read_parquet(path))
    assert set(leads[0]) == LEAD_FIELDS
    assert len(score(client, leads)) == 20


def test_reasons_name_lead_fields_ups_first_then_downs(
    client: TestClient, sample: pd.DataFrame
) -> None:
    leads = leads_json(sample.head(30))
    for scored, lead in zip(score(client, leads, reasons=3), leads, strict=True):
        reasons = scored["reasons"]
        assert 1 <= len(reasons) <= 6
        effects = [r["effect"] for r in reasons]
        ups = [e for e in effects if e > 0]
        downs = [e for e in effects if e < 0]
        assert len(ups) <= 3 and len(downs) <= 3 and len(ups) + len(downs) == len(effects)
        assert effects == sorted(ups, reverse=True) + sorted(downs)
        for reason in reasons:
            assert set(reason) == {"field", "value", "effect"}
            assert reason["field"] in LEAD_FIELDS
            assert reason["field"] not in {"lead_id", "company_name", "channel"}
            expected = lead[reason["field"]]
            if isinstance(expected, float) and expected.is_integer():
                expected = int(expected)
            if reason["field"] != "created_at":
                assert reason["value"] == expected


def test_reasons_zero_skips_them_with_the_same_numbers(
    client: TestClient, sample: pd.DataFrame
) -> None:
    leads = leads_json(sample.head(50))
    fast = score(client, leads, reasons=0)
    full = score(client, leads, reasons=3)
    assert all(s["reasons"] == [] for s in fast)
    np.testing.assert_allclose(
        [s["probability"] for s in fast], [s["probability"] for s in full], rtol=1e-9
    )
    assert [s["score"] for s in fast] == [s["score"] for s in full]
    assert [s["grade"] for s in fast] == [s["grade"] for s in full]


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_api_scores_like_the_registered_mlflow_model(
    client: TestClient, registry: Registry, sample: pd.DataFrame, channel: str
) -> None:
    """The online path (JSON -> Lead -> from_records) equals MLflow's pyfunc on a frame."""
    frame = rows_of(sample, channel).head(60).reset_index(drop=True)
    with mlflow_tracking(registry.tracking_uri):
        pyfunc = mlflow.pyfunc.load_model(f"models:/lead-score-{channel}@champion")
    expected = pyfunc.predict(frame, params={"reasons": 3})
    body = score(client, leads_json(frame), reasons=3)
    np.testing.assert_allclose(
        [s["probability"] for s in body], expected["probability"].to_numpy(), rtol=1e-9
    )
    assert [s["score"] for s in body] == expected["score"].tolist()
    assert [s["grade"] for s in body] == expected["grade"].tolist()
    assert [s["reasons"] for s in body] == [json.loads(r) for r in expected["reasons"]]
    fast = pyfunc.predict(frame)
    np.testing.assert_allclose(
        [s["probability"] for s in score(client, leads_json(frame), reasons=0)],
        fast["probability"].to_numpy(),
        rtol=1e-9,
    )


def test_the_name_and_id_of_a_lead_do_not_change_its_score(
    client: TestClient, sample: pd.DataFrame
) -> None:
    leads = leads_json(sample.head(50))
    renamed = [
        {**lead, "lead_id": f"other-{i}", "company_name": "Completely Different GmbH"}
        for i, lead in enumerate(leads)
    ]
    before, after = score(client, leads), score(client, renamed)
    for a, b in zip(before, after, strict=True):
        assert (a["probability"], a["score"], a["grade"], a["reasons"]) == (
            b["probability"],
            b["score"],
            b["grade"],
            b["reasons"],
        )


def test_a_demo_request_never_lowers_an_inbound_score(
    client: TestClient, registry: Registry
) -> None:
    inbound = rows_of(registry.leads, "inbound")
    without = inbound[inbound["demo_requested"].fillna(False).to_numpy() == False]  # noqa: E712
    leads = leads_json(without.sample(50, random_state=3))
    asked = [{**lead, "demo_requested": True} for lead in leads]
    before = np.array([s["probability"] for s in score(client, leads, reasons=0)])
    after = np.array([s["probability"] for s in score(client, asked, reasons=0)])
    lowered = np.flatnonzero(after < before)
    assert lowered.size == 0, [(leads[i]["lead_id"], before[i], after[i]) for i in lowered]
