"""`leadscore retrain` as a scheduler runs it: the JSON summary, the exit code, and the
lineage a reader finds on the MLflow run and version afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.settings import get_settings
from tests.training.test_pipeline import _with_shuffled_fields

pytestmark = pytest.mark.slow

runner = CliRunner()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One LEADSCORE_HOME for the module: the retrains below follow each other."""
    folder = tmp_path_factory.mktemp("retrain-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEADSCORE_HOME", str(folder))
        # Its own registry: an earlier test may have left MLFLOW_TRACKING_URI set.
        patch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
        get_settings.cache_clear()
        yield folder
    get_settings.cache_clear()


def retrain(home: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """Run `leadscore retrain ... --json FILE`; the exit code and the summary by model."""
    out = home / "summary.json"
    result = runner.invoke(app, ["retrain", "--models", "lead-score", *args, "--json", str(out)])
    assert "Traceback" not in result.output, result.output
    summary = json.loads(out.read_text())
    assert summary["exit_code"] == result.exit_code
    return result.exit_code, summary


@pytest.fixture(scope="module")
def first(
    home: Path, history_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    drift = tmp_path_factory.mktemp("drift") / "drift-2026-12.json"
    drift.write_text(json.dumps({"psi": {"lead_source": 0.31}}))
    code, summary = retrain(home, "--data", str(history_dir), "--drift-report", str(drift))
    assert code == 0
    return summary


def by_model(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["model"]: m for m in summary["models"]}


def test_a_first_retrain_promotes_both_models_and_says_why(first: dict[str, Any]) -> None:
    models = by_model(first)
    assert set(models) == {"lead-score-inbound", "lead-score-outbound"}
    for entry in models.values():
        assert entry["status"] == "promoted"
        assert entry["reason"] == "no current champion"
        assert entry["champion_before"] is None
        assert entry["champion_after"] == entry["new_version"] == "1"
        low, high = entry["validation_roc_auc_ci"]
        assert 0.5 < low < entry["validation_roc_auc"] < high
        assert entry["checks"][0].startswith("better than chance")
        assert entry["data"]["rows"] > 1000
        assert entry["data"]["first_created"] < entry["data"]["last_created"]
        assert entry["run_id"]
    assert first["alias"] == "champion"
    assert first["drift_report"].endswith("drift-2026-12.json")


def test_the_run_and_version_carry_the_lineage(first: dict[str, Any], home: Path) -> None:
    uri = get_settings().tracking_uri
    client = MlflowClient(uri, uri)
    entry = by_model(first)["lead-score-inbound"]
    run = client.get_run(entry["run_id"])
    assert run.data.tags["parent_champion_version"] == "none"
    assert run.data.tags["gate_decision"] == "promoted"
    assert run.data.tags["data_first_created"] == entry["data"]["first_created"]
    assert run.data.tags["data_last_created"] == entry["data"]["last_created"]
    assert run.data.tags["drift_report"] == "drift/drift-2026-12.json"
    attached = client.download_artifacts(entry["run_id"], "drift/drift-2026-12.json")
    assert json.loads(Path(attached).read_text()) == {"psi": {"lead_source": 0.31}}
    version = client.get_model_version("lead-score-inbound", "1")
    assert version.tags["replaced_version"] == "none"
    assert version.tags["promoted_at"].startswith(first["started_at"][:10])


def test_a_model_no_better_than_chance_keeps_the_champion_with_the_reason(
    first: dict[str, Any], home: Path, history_dir: Path, tmp_path: Path
) -> None:
    noise = _with_shuffled_fields(history_dir, tmp_path / "noise")
    code, summary = retrain(home, "--data", str(noise), "--no-time-features")
    assert code == 0  # keeping the champion is the gate working, not a failure
    inbound = by_model(summary)["lead-score-inbound"]
    assert inbound["status"] == "kept champion"
    assert inbound["reason"].startswith("no evidence that it ranks better than chance")
    assert inbound["new_version"] == "2"
    assert inbound["champion_before"] == inbound["champion_after"] == "1"
    uri = get_settings().tracking_uri
    client = MlflowClient(uri, uri)
    assert client.get_run(inbound["run_id"]).data.tags["parent_champion_version"] == "1"
    assert client.get_run(inbound["run_id"]).data.tags["gate_decision"] == "kept champion"
    assert "promoted_at" not in client.get_model_version("lead-score-inbound", "2").tags


def test_too_little_data_is_skipped_with_exit_0_and_the_champion_stays(
    first: dict[str, Any], home: Path, history_dir: Path
) -> None:
    code, summary = retrain(home, "--data", str(history_dir), "--min-outcomes", "100000")
    assert code == 0
    for entry in summary["models"]:
        assert entry["status"] == "skipped"
        assert "at least 100000" in entry["reason"] or "100,000" in entry["reason"]
        assert entry["new_version"] is None
        assert entry["champion_before"] == entry["champion_after"] == "1"


def test_a_missing_folder_is_a_failure_with_exit_1(home: Path, tmp_path: Path) -> None:
    code, summary = retrain(home, "--data", str(tmp_path / "nothing"))
    assert code == 1
    assert {m["status"] for m in summary["models"]} == {"failed"}
    assert "leads.parquet" in summary["models"][0]["reason"]
