"""`leadscore report`: the store of a demo run (or the configured one) printed as tables."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from data.store import Store, upgrade
from leadscore.cli import app
from leadscore.settings import get_settings
from serving.insights.report_data import gather_report
from tests.serving.insights.history import PERIOD, build

runner = CliRunner()
WIDE = {"COLUMNS": "200"}
JANUARY = ["--start", "2026-01-01", "--end", "2026-02-01"]
KEYS = {
    "period",
    "funnel_by_channel",
    "funnel_by_role",
    "speed",
    "workload",
    "backtest",
    "backtest_period",
    "routed",
    "models",
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A LEADSCORE_HOME with a demo store holding the hand-built history."""
    monkeypatch.setenv("LEADSCORE_HOME", str(tmp_path))
    monkeypatch.delenv("LEADSCORE_DATABASE_URL", raising=False)
    # Its own empty registry: an earlier test may have left MLFLOW_TRACKING_URI set.
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    with Store(url) as store:
        build(store)
    yield tmp_path
    get_settings.cache_clear()


def test_the_report_of_a_demo_home_prints_every_table(home: Path) -> None:
    result = runner.invoke(app, ["report", "--data", str(home), *JANUARY], env=WIDE)
    assert result.exit_code == 0, result.output
    titles = (
        "Funnel by channel",
        "Funnel by role",
        "Speed-to-lead",
        "Workload now",
        "Score backtest by grade",
        "Score backtest by decile",
    )
    for title in titles:
        assert title in result.output
    assert "inbound" in result.output and "inbound_specialist" in result.output
    assert "80% (38%-96%)" in result.output  # created -> contacted overall, 4 of 5
    assert "67% (21%-94%) ~78%" in result.output  # inbound: 2 of 3, shrunk 18/23


def test_json_gives_the_report_data(home: Path) -> None:
    result = runner.invoke(app, ["report", "--data", str(home / "demo.db"), "--json", *JANUARY])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == KEYS | {"drift"}
    assert data["drift"]["models"] == []  # no registry in this home: no live model
    assert data["funnel_by_channel"]["overall"]["counts"]["created"] == 5
    # scores given in January: L1 twice, L2, L3; L4
    assert data["models"] == {"lead-score-inbound": {"3": 4}, "lead-score-outbound": {"3": 1}}


def test_gather_report_is_plain_dicts_shaped_like_the_api(home: Path) -> None:
    with Store(f"sqlite:///{home / 'demo.db'}") as store:
        report = gather_report(store, PERIOD.start, PERIOD.end)
    assert set(report) == KEYS
    conversion = report["funnel_by_role"]["groups"][0]["conversions"][0]
    assert set(conversion) == {"from", "to", "rate", "low", "high", "shrunk_rate", "small"}
    json.dumps(report)  # nothing but JSON types


def test_the_configured_store_by_default_and_an_empty_store_gives_empty_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    upgrade(url)
    monkeypatch.setenv("LEADSCORE_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["report"], env=WIDE)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "Funnel by channel" in result.output
    assert "No scores old enough" in result.output


def test_no_store_is_an_error_naming_the_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "--data" in result.output and "demo.db" in result.output


def test_an_inverted_period_is_an_error_naming_start(home: Path) -> None:
    result = runner.invoke(
        app, ["report", "--data", str(home), "--start", "2026-03-01", "--end", "2026-02-01"]
    )
    assert result.exit_code == 1
    assert "--start" in result.output


def test_html_writes_one_self_contained_file_with_the_data(home: Path) -> None:
    page = home / "out" / "report.html"
    env = {**WIDE, "LEADSCORE_MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}"}
    result = runner.invoke(
        app, ["report", "--data", str(home), *JANUARY, "--html", str(page)], env=env
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {page}" in " ".join(result.output.split())
    text = page.read_text()
    start = text.index('<script type="application/json" id="report-data">') + 49
    data = json.loads(text[start : text.index("</script>", start)])
    assert data["funnel_by_channel"]["overall"]["counts"]["created"] == 5
    assert {m["channel"] for m in data["models"]["missing"]} == {"inbound", "outbound"}
    assert "no version of lead-score-inbound carries the alias 'champion'" in text
    assert "<script src=" not in text and "stylesheet" not in text  # nothing left to fetch
    assert not list(page.parent.glob(".*partial"))


def test_the_report_prints_the_drift_of_the_models_in_the_registry(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry's champions: inbound v3 logged with its training reference, outbound
    v3 without one (trained before drift monitoring)."""
    from mlflow import MlflowClient

    from tests.serving.insights.test_drift import REFERENCE

    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("t", artifact_location=(home / "art").as_uri())
    for name, reference in (("lead-score-inbound", REFERENCE), ("lead-score-outbound", None)):
        client.create_registered_model(name)
        for _ in range(3):  # the history's scores come from version 3
            run = client.create_run(experiment)
            if reference is not None:
                client.log_dict(run.info.run_id, reference, "drift_reference.json")
            client.create_model_version(
                name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id
            )
        client.set_registered_model_alias(name, "champion", "3")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    get_settings.cache_clear()
    result = runner.invoke(app, ["report", "--data", str(home), *JANUARY], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "Drift against the training rows: leads scored 2026-01-25 to 2026-02-01" in result.output
    assert "a PSI needs at least 100" in result.output  # a week of the hand-made history
    assert "no training reference (trained before drift monitoring); retrain" in result.output
