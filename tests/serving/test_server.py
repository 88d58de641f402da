"""`serving.server.run`: the real uvicorn server, as `leadscore serve` starts it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest

from serving.server import CONFIG_VARIABLE, app_from_environment
from tests.serving.conftest import Registry
from tests.serving.helpers import free_port, lead_json, start_server, wait_ready

pytestmark = pytest.mark.slow


def test_run_serves_the_app_over_http(
    registry: Registry, sample: pd.DataFrame, tmp_path: Path
) -> None:
    config = registry.settings(port=free_port())
    server = start_server(config, tmp_path)
    base = f"http://127.0.0.1:{config.port}"
    try:
        wait_ready(server, base, 60)
        lead = lead_json(sample.iloc[0])
        response = httpx.post(f"{base}/v1/leads/score", json=lead)
        assert response.status_code == 200, response.text
        assert response.json()["lead_id"] == lead["lead_id"]
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_worker_processes_build_the_app_from_the_config_run_was_given(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = registry.settings(max_batch=7, model_alias="somewhere")
    monkeypatch.setenv(CONFIG_VARIABLE, config.model_dump_json())
    app = app_from_environment()
    assert app.state.config == config


def test_a_worker_without_its_config_says_how_to_start_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFIG_VARIABLE, raising=False)
    with pytest.raises(RuntimeError, match=CONFIG_VARIABLE):
        app_from_environment()
