"""A model trained on an import with custom columns gives the same numbers everywhere.

A small CRM export with a custom column of every kind (categorical, numeric,
yes/no, timestamp), some cells blank, is imported and trained for real. Then
the same leads are scored through the API (custom fields in `custom_fields`),
`rescore` on both engines from Parquet and from CSV, and the registered MLflow
pyfunc; probability, score, grade, reasons and warnings must agree lead by lead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from data.contract import Lead, columns
from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import write_history
from data.importing.importer import import_export
from data.importing.mapping import load_mapping
from data.json_rows import to_records
from data.labels import lead_outcomes
from data.tables import read_table
from serving.app import create_app
from serving.batch.job import Engine, RescoreOptions, rescore
from serving.batch.summary import RescoreSummary
from serving.config import ServingConfig
from tests.conftest import tracking_in
from tests.serving.batch.conftest import read
from tests.serving.helpers import mlflow_tracking
from training.pipeline import train_lead_scores
from training.training_config import TrainingConfig

pytestmark = pytest.mark.slow

MAPPING = """\
columns:
  lead_id: Id
  source: Source
  company_size: Employees
  company_industry: Industry
  company_region: Region
  contact_title: Title
  web_visits: Visits
  demo_requested: Demo
  touches: Touches
  meeting_booked: Meeting
created_at: Created
channel: Channel
extra:
  Plan: {kind: categorical}
  Score: {kind: numeric}
  Trial: {kind: boolean}
  LastLogin: {kind: timestamp}
outcome:
  column: Won
  converted: ["yes"]
  not_converted: ["no"]
"""
CUSTOM = {"Plan": "text", "Score": "number", "Trial": "boolean", "LastLogin": "time"}
SCORED = 400
"""The newest leads of the import, scored every way."""


def crm_export(history: Path, path: Path) -> None:
    """The generated history as a CRM exports it, with four telling custom columns of
    every kind (some cells blank) known when the lead came in."""
    leads = read_table(history, "leads")
    won = lead_outcomes(leads, read_table(history, "opportunities"))
    leads = leads[won["resolved"].to_numpy()].reset_index(drop=True)
    y = won.loc[won["resolved"], "won"].to_numpy().astype(bool)
    rng = np.random.default_rng(3)
    n = len(y)
    plan = np.where(rng.random(n) < np.where(y, 0.5, 0.25), "pro", "basic")
    plan = np.where(rng.random(n) < 0.2, "team", plan)
    score = np.round(np.where(y, 60, 40) + rng.normal(0, 20, n), 1)
    trial = rng.random(n) < np.where(y, 0.6, 0.4)
    created = pd.to_datetime(leads["created_at"])
    minutes = rng.integers(60, 60 * 24 * 90, n) * np.where(y, 0.5, 1.0)
    login = created - pd.to_timedelta(minutes.round(), unit="min")

    def blank(values: Any, share: float) -> pd.Series:
        out = pd.Series(values, dtype=object)
        out[rng.random(n) < share] = ""
        return out

    yes_no = {True: "Yes", False: "No"}
    pd.DataFrame(
        {
            "Id": leads["lead_id"],
            "Created": created.dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "Channel": leads["channel"],
            "Source": leads["source"],
            "Employees": leads["company_size"],
            "Industry": leads["company_industry"],
            "Region": leads["company_region"],
            "Title": leads["contact_title"],
            "Visits": leads["web_visits"],
            "Demo": leads["demo_requested"].map(yes_no),
            "Touches": leads["touches"],
            "Meeting": leads["meeting_booked"].map(yes_no),
            "Plan": blank(plan, 0.1),
            "Score": blank(score, 0.15),
            "Trial": blank(pd.Series(trial).map(yes_no), 0.1),
            "LastLogin": blank(login.dt.strftime("%Y-%m-%dT%H:%M:%S"), 0.2),
            "Won": np.where(y, "Yes", "No"),
        }
    ).to_csv(path, index=False)


@dataclass(frozen=True)
class Trained:
    uri: str
    leads: pd.DataFrame
    """The leads to score: contract and custom columns as the import typed them."""
    folder: Path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    folder = tmp_path_factory.mktemp("custom-parity")
    write_history(GeneratorConfig(leads=8_000, seed=11), folder / "history")
    crm_export(folder / "history", folder / "export.csv")
    (folder / "mapping.yaml").write_text(MAPPING)
    import_export(folder / "export.csv", load_mapping(folder / "mapping.yaml"), folder / "data")
    store = tracking_in(folder)
    config = TrainingConfig(threads=1, max_rounds=60, min_positives=10)
    reports = train_lead_scores(folder / "data", store, config)
    assert [r.channel for r in reports] == ["inbound", "outbound"]
    leads = pd.read_parquet(folder / "data" / "leads.parquet").tail(SCORED)
    leads = leads.reset_index(drop=True)
    leads.loc[3, "Plan"] = "platinum"  # never seen in training
    leads.loc[4, list(CUSTOM)] = None  # lacks every custom field
    return Trained(store.uri, leads, folder)


@pytest.fixture(scope="module")
def api(trained: Trained) -> Iterator[TestClient]:
    config = ServingConfig.model_validate({"tracking_uri": trained.uri, "auth": "none"})
    with TestClient(create_app(config)) as client:
        yield client


def bodies(leads: pd.DataFrame) -> list[dict[str, Any]]:
    """The leads as a CRM posts them: contract fields at the top, the rest in custom_fields
    (a missing one left out, or sent as null every other lead)."""
    out = to_records(leads[[c for c in columns(Lead) if c in leads.columns]])
    for row, (body, custom) in enumerate(zip(out, to_records(leads[list(CUSTOM)]), strict=True)):
        body["custom_fields"] = {
            name: value for name, value in custom.items() if value is not None or row % 2
        }
    return out


def api_scores(client: TestClient, leads: pd.DataFrame, reasons: int = 3) -> pd.DataFrame:
    answered: list[dict[str, Any]] = []
    body = bodies(leads)
    for start in range(0, len(body), 200):
        response = client.post(
            "/v1/leads/score", params={"reasons": reasons}, json=body[start : start + 200]
        )
        assert response.status_code == 200, response.text
        answered += response.json()
    return pd.DataFrame(answered).set_index("lead_id")


def agree(got: pd.DataFrame, api: pd.DataFrame, warnings: bool = True) -> None:
    """`got` (a result file or the pyfunc's frame, with lead ids) gives the API's answers."""
    got = got.set_index("lead_id").loc[api.index]
    np.testing.assert_allclose(got["probability"], api["probability"], rtol=1e-12, atol=0)
    assert got["score"].tolist() == api["score"].tolist()
    assert got["grade"].tolist() == api["grade"].tolist()
    assert [json.loads(r) for r in got["reasons"]] == api["reasons"].tolist()
    if warnings:
        assert [json.loads(w) for w in got["warnings"]] == api["warnings"].tolist()


def lacking(leads: pd.DataFrame) -> dict[str, int]:
    return {name: int(leads[name].isna().sum()) for name in CUSTOM}


def as_csv(leads: pd.DataFrame, path: Path) -> Path:
    """The leads as a CSV export: numbers as text, yes/no flags, times with an offset."""
    text = leads.astype(object).copy()
    text["Trial"] = leads["Trial"].map({True: "yes", False: "no"}, na_action="ignore")
    text["LastLogin"] = leads["LastLogin"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    text.to_csv(path, index=False)
    return path


def run(trained: Trained, source: Path, output: Path, **options: Any) -> RescoreSummary:
    return rescore(RescoreOptions(source, output, trained.uri, reasons=3, **options))


def test_the_models_read_every_custom_column(trained: Trained, api: TestClient) -> None:
    models = api.get("/v1/models").json()["models"]
    assert [m["custom_fields"] for m in models if m["name"].startswith("lead-score")] == [
        CUSTOM,
        CUSTOM,
    ]


def test_rescore_from_parquet_and_csv_gives_the_api_numbers_and_warnings(
    trained: Trained, api: TestClient, tmp_path: Path
) -> None:
    expected = api_scores(api, trained.leads)
    trained.leads.to_parquet(tmp_path / "leads.parquet", index=False)
    from_parquet = run(trained, tmp_path / "leads.parquet", tmp_path / "parquet.parquet")
    from_csv = run(trained, as_csv(trained.leads, tmp_path / "leads.csv"), tmp_path / "csv.csv")

    assert from_parquet.rows_scored == from_csv.rows_scored == SCORED
    agree(read(tmp_path / "parquet.parquet"), expected)
    agree(read(tmp_path / "csv.csv"), expected)
    assert from_parquet.lacking == from_csv.lacking == lacking(trained.leads)
    assert "Plan 'platinum' was not seen in training" in expected["warnings"].iloc[3][-1]
    model = f"{expected['model'].iloc[4]['name']} v{expected['model'].iloc[4]['version']}"
    assert expected["warnings"].iloc[4] == [
        f"custom fields Plan, Score, Trial, LastLogin are missing; {model} reads them, "
        "so the lead was scored as if they were unknown"
    ]
    assert sum(bool(w) for w in expected["warnings"]) > SCORED // 4  # blanks are common
    named = {r["field"] for reasons in expected["reasons"] for r in reasons}
    assert set(CUSTOM) <= named  # the reasons compared name custom fields and their values


def test_the_pyfunc_gives_the_api_numbers(trained: Trained, api: TestClient) -> None:
    expected = api_scores(api, trained.leads)
    for channel in ("inbound", "outbound"):
        leads = trained.leads[trained.leads["channel"] == channel].reset_index(drop=True)
        with mlflow_tracking(trained.uri):
            pyfunc = mlflow.pyfunc.load_model(f"models:/lead-score-{channel}@champion")
        scored = pyfunc.predict(leads, params={"reasons": 3})
        agree(scored.assign(lead_id=leads["lead_id"]), expected.loc[leads["lead_id"]], False)
        # Times as MLflow's JSON sends them (`mlflow models serve`): text, "NaT" if missing.
        as_text = leads.assign(LastLogin=leads["LastLogin"].astype(str))
        assert (as_text["LastLogin"] == "NaT").any()
        pd.testing.assert_frame_equal(pyfunc.predict(as_text, params={"reasons": 3}), scored)
        broken = leads.head(3).astype({"Score": object})
        broken.loc[1, "Score"] = "abc"
        with pytest.raises(Exception, match=r"row 1: Score: 'abc' is not a number"):
            pyfunc.predict(broken)


def test_single_leads_on_the_api_row_path_agree_with_rescore(
    trained: Trained, api: TestClient, tmp_path: Path
) -> None:
    """One lead per request without reasons: the API's plain-Python path."""
    some = trained.leads.iloc[::40].reset_index(drop=True)
    some.to_parquet(tmp_path / "some.parquet", index=False)
    rescore(RescoreOptions(tmp_path / "some.parquet", tmp_path / "out.parquet", trained.uri))
    batch = read(tmp_path / "out.parquet").set_index("lead_id")
    for body in bodies(some):
        one = api.post("/v1/leads/score", params={"reasons": 0}, json=body).json()
        got = batch.loc[one["lead_id"]]
        assert (got["probability"], got["score"], got["grade"]) == (
            one["probability"],
            one["score"],
            one["grade"],
        )
        assert json.loads(got["warnings"]) == one["warnings"]


BAD = [
    ("Score", "abc", "'abc' is not a number"),
    ("Trial", "maybe", "'maybe' is not true or false"),
    ("LastLogin", "yesterday", "'yesterday' is not a date and time"),
    ("Plan", "p" * 257, "longer than 256 characters"),
]
"""(column, CSV cell, why it is refused): one bad custom value per row."""


def test_a_bad_custom_value_is_a_reject_naming_its_column_and_the_rest_are_scored(
    trained: Trained, api: TestClient, tmp_path: Path
) -> None:
    leads = trained.leads.head(30).reset_index(drop=True)
    csv = as_csv(leads, tmp_path / "leads.csv")
    text = pd.read_csv(csv, dtype=str, keep_default_na=False)
    for row, (name, value, _) in enumerate(BAD):
        text.loc[row, name] = value
    text.to_csv(csv, index=False)

    summary = run(trained, csv, tmp_path / "scores.parquet")

    assert (summary.rows_scored, summary.rows_rejected) == (len(leads) - len(BAD), len(BAD))
    rejects = pd.read_parquet(tmp_path / "scores.rejects.parquet").set_index("lead_id")
    for row, (name, _, why) in enumerate(BAD):
        assert rejects.loc[leads["lead_id"][row], "reason"].startswith(f"{name}: {why}")
    agree(read(tmp_path / "scores.parquet"), api_scores(api, leads.iloc[len(BAD) :]))
    body = bodies(leads.head(2))
    body[1]["custom_fields"]["Score"] = "abc"
    response = api.post("/v1/leads/score", json=body)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", 1, "custom_fields", "Score"]]


@pytest.mark.spark
def test_the_spark_engine_gives_the_api_numbers_and_warnings(
    trained: Trained, api: TestClient, tmp_path: Path
) -> None:
    pytest.importorskip("pyspark")
    from serving.batch.spark import start_session

    expected = api_scores(api, trained.leads)
    trained.leads.to_parquet(tmp_path / "leads.parquet", index=False)
    csv = as_csv(trained.leads, tmp_path / "leads.csv")
    session = start_session("local[2]")
    try:
        on_parquet = run(
            trained, tmp_path / "leads.parquet", tmp_path / "p.parquet", engine=Engine.spark
        )
        on_csv = run(trained, csv, tmp_path / "c.parquet", engine=Engine.spark)
    finally:
        session.stop()
    agree(read(tmp_path / "p.parquet"), expected)
    agree(read(tmp_path / "c.parquet"), expected)
    assert on_parquet.lacking == on_csv.lacking == lacking(trained.leads)
