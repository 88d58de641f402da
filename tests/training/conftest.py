"""Fixtures of the training tests that run the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadscore.settings import get_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh LEADSCORE_HOME with its own registry (another test may have set
    MLFLOW_TRACKING_URI in this process); the settings cache is cleared on both sides."""
    monkeypatch.setenv("LEADSCORE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()
