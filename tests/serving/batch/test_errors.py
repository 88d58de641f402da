"""`leadscore rescore` with bad input: one clear line, exit code 1, nothing written."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.settings import get_settings
from serving.batch.output import TableSink
from tests.serving.conftest import CHAMPION, Registry

pytestmark = pytest.mark.slow

runner = CliRunner()


@pytest.fixture
def cli(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI pointed at the session's registry."""
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", registry.tracking_uri)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def rescore(source: Path, output: Path, *extra: str) -> str:
    """Run the command expecting failure; its one-line message."""
    result = runner.invoke(
        app, ["rescore", "--input", str(source), "--output", str(output), *extra]
    )
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert not output.exists() and not output.with_name("scores.rejects.parquet").exists()
    return lines[0]


@pytest.mark.usefixtures("cli")
def test_a_missing_input_is_named(tmp_path: Path) -> None:
    message = rescore(tmp_path / "nowhere.parquet", tmp_path / "scores.parquet")
    assert f"input not found: {tmp_path / 'nowhere.parquet'}" in message


@pytest.mark.usefixtures("cli")
def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "leads.parquet").write_bytes(b"this is not parquet at all")
    message = rescore(tmp_path / "leads.parquet", tmp_path / "scores.parquet")
    assert "leads.parquet is not a readable Parquet file" in message


@pytest.mark.usefixtures("cli")
def test_missing_columns_are_named(leads: pd.DataFrame, tmp_path: Path) -> None:
    leads[["lead_id", "source", "web_visits"]].to_parquet(tmp_path / "leads.parquet")
    message = rescore(tmp_path / "leads.parquet", tmp_path / "scores.parquet")
    assert "lacks the required column(s) channel, created_at" in message
    assert "found: lead_id, source, web_visits" in message


@pytest.mark.usefixtures("cli")
def test_empty_inputs_are_refused(leads: pd.DataFrame, tmp_path: Path) -> None:
    leads.head(0).to_parquet(tmp_path / "none.parquet")
    assert "has no rows" in rescore(tmp_path / "none.parquet", tmp_path / "scores.parquet")
    (tmp_path / "zero.csv").write_text("")
    assert "zero.csv is empty" in rescore(tmp_path / "zero.csv", tmp_path / "scores.parquet")
    leads.head(0).to_csv(tmp_path / "header.csv", index=False)
    assert "has no rows" in rescore(tmp_path / "header.csv", tmp_path / "scores.parquet")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "notes.txt").write_text("hello")
    assert "no Parquet or CSV files in" in rescore(tmp_path / "folder", tmp_path / "scores.parquet")


@pytest.fixture(scope="module")
def inbound_only(registry: Registry) -> str:
    """An alias only the inbound model carries: outbound is 'not trained yet'."""
    alias = "batch_inbound_only"
    version = registry.client.get_model_version_by_alias("lead-score-inbound", CHAMPION)
    registry.client.set_registered_model_alias("lead-score-inbound", alias, version.version)
    return alias


@pytest.mark.usefixtures("cli")
def test_leads_of_a_channel_without_a_model_stop_the_job_naming_the_model(
    leads: pd.DataFrame, leads_file: Path, inbound_only: str, tmp_path: Path
) -> None:
    message = rescore(leads_file, tmp_path / "scores.parquet", "--alias", inbound_only)
    outbound = int((leads["channel"] == "outbound").sum())
    assert f"{outbound:,} outbound leads in {leads_file} but no model to score them" in message
    assert f"lead-score-outbound carries the alias '{inbound_only}'" in message
    assert "leadscore train" in message


@pytest.mark.usefixtures("cli")
def test_a_file_of_the_other_channel_needs_no_second_model(
    leads: pd.DataFrame, inbound_only: str, tmp_path: Path
) -> None:
    leads[leads["channel"] == "inbound"].to_parquet(tmp_path / "inbound.parquet")
    args = ["--input", str(tmp_path / "inbound.parquet"), "--output", str(tmp_path / "s.csv")]
    result = runner.invoke(app, ["rescore", *args, "--alias", inbound_only])
    assert result.exit_code == 0, result.output
    assert "lead-score-inbound v" in result.output
    assert len(pd.read_csv(tmp_path / "s.csv")) == (leads["channel"] == "inbound").sum()


@pytest.mark.usefixtures("cli")
def test_a_full_disk_is_one_line_and_leaves_nothing(
    leads_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(self: object, frame: pd.DataFrame) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "scores.parquet"))

    monkeypatch.setattr(TableSink, "write", no_space)  # a full disk, as the OS reports it
    message = rescore(leads_file, tmp_path / "scores.parquet")
    assert message.startswith(f"error: disk full while writing {tmp_path / 'scores.parquet'}")
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_terminated_job_removes_its_temporary_files(registry: Registry, tmp_path: Path) -> None:
    big = pd.concat([registry.leads] * 10, ignore_index=True)
    big["lead_id"] = [f"L{i}" for i in range(len(big))]
    source, out = tmp_path / "big.parquet", tmp_path / "out"
    big.to_parquet(source)
    out.mkdir()
    env = {
        **os.environ,
        "LEADSCORE_MLFLOW_TRACKING_URI": registry.tracking_uri,
        "LEADSCORE_HOME": str(tmp_path / "home"),
    }
    job = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leadscore",
            "rescore",
            "--input",
            str(source),
            "--output",
            str(out / "scores.parquet"),
            "--batch-size",
            "5000",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while not list(out.iterdir()) and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.poll() is None, "the job ended before it could be stopped"
    job.send_signal(signal.SIGTERM)
    output = job.communicate(timeout=60)[0].decode()
    assert job.returncode == 130, output
    assert "stopped: nothing was written" in output
    assert list(out.iterdir()) == []
