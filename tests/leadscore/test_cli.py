"""The CLI as a user runs it: options in, files and a summary out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from typer.testing import CliRunner

from data.contract import TABLES
from leadscore.cli import app
from leadscore.settings import get_settings
from tests.training.test_tracking import mlflow_environment

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh LEADSCORE_HOME; the settings cache is cleared on both sides."""
    monkeypatch.setenv("LEADSCORE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def test_generate_writes_the_four_tables(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--leads", "500"])
    assert result.exit_code == 0, result.output
    for name in TABLES:
        assert (tmp_path / f"{name}.parquet").is_file()
    assert (tmp_path / "truth").is_dir()
    assert "inbound leads" in result.output
    assert "500" in result.output


def test_generate_defaults_to_the_home_folder(home: Path) -> None:
    result = runner.invoke(app, ["generate", "--leads", "200", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert (home / "data" / "leads.parquet").is_file()


def test_too_few_leads_is_refused_naming_the_option(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--leads", "5"])
    assert result.exit_code != 0
    assert "--leads" in result.output
    assert not (tmp_path / "leads.parquet").exists()


def test_no_arguments_shows_the_commands() -> None:
    result = runner.invoke(app, [])
    assert "generate" in result.output


def test_db_upgrade_creates_the_schema_and_is_repeatable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSCORE_HOME", str(tmp_path))
    get_settings.cache_clear()
    first = runner.invoke(app, ["db", "upgrade"])
    again = runner.invoke(app, ["db", "upgrade"])
    get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert "schema empty ->" in first.output
    assert again.exit_code == 0
    assert (tmp_path / "leadscore.db").exists()


def test_training_leaves_mlflow_pointing_where_it_was(home: Path, tmp_path: Path) -> None:
    """`leadscore train` in a process (a test, the demo) does not redirect later MLflow
    calls: the tracking and registry URIs and their environment variables are restored."""
    data = tmp_path / "small"
    assert runner.invoke(app, ["generate", "--out", str(data), "--leads", "300"]).exit_code == 0
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri(), mlflow_environment())
    result = runner.invoke(app, ["train", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output  # too few leads: it reached MLflow and stopped there
    assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri(), mlflow_environment()) == before
