"""A lead scores the same in a batch as through POST /v1/leads/score, and is refused alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.serving.batch.conftest import read, run
from tests.serving.conftest import Registry
from tests.serving.helpers import lead_json, leads_json, score

pytestmark = pytest.mark.slow


def api_frame(body: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": [s["lead_id"] for s in body],
            "probability": [s["probability"] for s in body],
            "score": [s["score"] for s in body],
            "grade": [s["grade"] for s in body],
            "model_name": [s["model"]["name"] for s in body],
            "model_version": [s["model"]["version"] for s in body],
            "reasons": [s["reasons"] for s in body],
        }
    )


@pytest.mark.parametrize("reasons", [3, 0])
def test_the_batch_gives_the_api_numbers(
    client: TestClient,
    registry: Registry,
    leads: pd.DataFrame,
    leads_file: Path,
    tmp_path: Path,
    reasons: int,
) -> None:
    run(registry, leads_file, tmp_path / "scores.parquet", reasons=reasons)
    batch = read(tmp_path / "scores.parquet")
    api = api_frame(score(client, leads_json(leads), reasons=reasons))
    api = api.sort_values("lead_id").reset_index(drop=True)
    assert set(batch["channel"]) == {"inbound", "outbound"}
    assert batch["lead_id"].tolist() == api["lead_id"].tolist()
    assert batch["probability"].tolist() == api["probability"].tolist()  # exactly, not nearly
    for column in ("score", "grade", "model_name", "model_version"):
        assert batch[column].tolist() == api[column].tolist(), column
    if reasons:
        assert [json.loads(r) for r in batch["reasons"]] == api["reasons"].tolist()
        assert any(api["reasons"])
    else:
        assert "reasons" not in batch


def test_single_requests_take_the_row_path_and_still_agree(
    client: TestClient, registry: Registry, leads: pd.DataFrame, tmp_path: Path
) -> None:
    """One lead per request: the API's plain-Python fast path against the batch's vectors."""
    some = leads.iloc[::60].reset_index(drop=True)
    path = tmp_path / "some.parquet"
    some.to_parquet(path, index=False)
    run(registry, path, tmp_path / "scores.parquet")
    batch = read(tmp_path / "scores.parquet").set_index("lead_id")
    for _, row in some.iterrows():
        one = score(client, lead_json(row), reasons=0)
        got = batch.loc[one["lead_id"]]
        assert (got["probability"], got["score"], got["grade"]) == (
            one["probability"],
            one["score"],
            one["grade"],
        )


# (field, value as a CSV cell) pairs the API refuses; None: the cell is left empty.
REFUSED = [
    ("lead_id", None),
    ("lead_id", "x" * 129),
    ("channel", "partner"),
    ("channel", None),
    ("created_at", "yesterday"),
    ("created_at", None),
    ("company_size", "-3"),
    ("company_revenue", "-1.5"),
    ("web_visits", "2.5"),
    ("touches", "plenty"),
    ("company_region", "mars"),
    ("contact_seniority", "intern"),
    ("demo_requested", "maybe"),
    ("company_name", "y" * 257),
]


def test_a_row_the_api_refuses_is_rejected_with_its_field_and_the_rest_are_scored(
    client: TestClient, registry: Registry, leads: pd.DataFrame, tmp_path: Path
) -> None:
    good = leads.head(20).reset_index(drop=True)
    bad = pd.concat([good.head(1)] * len(REFUSED), ignore_index=True).astype(object)
    for row, (field, value) in enumerate(REFUSED):
        bad.loc[row, "lead_id"] = f"refused-{row}"
        bad.loc[row, field] = value
    for row, body in enumerate(leads_json(bad)):
        if REFUSED[row][1] is None:
            body.pop(REFUSED[row][0])  # an empty CSV cell: the client leaves the field out
        response = client.post("/v1/leads/score", json=body)
        assert response.status_code == 422, (REFUSED[row], response.text)
        assert [e["loc"][-1] for e in response.json()["detail"]] == [REFUSED[row][0]]
    path = tmp_path / "leads.csv"
    pd.concat([good.astype(object), bad], ignore_index=True).to_csv(path, index=False)

    summary = run(registry, path, tmp_path / "scores.parquet")

    assert (summary.rows_read, summary.rows_scored, summary.rows_rejected) == (34, 20, 14)
    rejects = pd.read_parquet(tmp_path / "scores.rejects.parquet")
    fields = sorted(reason.split(":")[0] for reason in rejects["reason"])
    assert fields == sorted(field for field, _ in REFUSED)
    named = rejects.dropna(subset=["lead_id"]).set_index("lead_id")["reason"]
    assert named["refused-2"] == "channel: 'partner' is not one of inbound, outbound"
    assert named["refused-6"] == "company_size: -3 is below 0"
    assert named["refused-8"] == "web_visits: 2.5 is not a whole number"
    scores = read(tmp_path / "scores.parquet")
    api = api_frame(score(client, leads_json(good), reasons=0)).sort_values("lead_id")
    assert scores["probability"].tolist() == api["probability"].tolist()
