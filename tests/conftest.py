"""Shared fixtures: a generated CRM history and models trained on it for real.

Generating and training are the expensive parts of the suite, so each is done
once per session and shared; tests that change state get their own stores.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from data.contract import Role
from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import generate, write_history
from features.lead_features import default_spec
from features.rep_features import account_manager_spec, closer_spec
from tests.postgres import PostgresNotInstalledError, not_installed, start_postgres
from training.channel_data import ChannelData, channel_data
from training.channel_fit import FittedChannel, fit_channel
from training.rep_data import account_manager_data, closer_data
from training.role_fit import FittedRep, fit_rep, rep_training_config
from training.tracking import TrackingTarget
from training.training_config import TrainingConfig

QUALITY_LEADS = 100_000
HISTORY_LEADS = 30_000
REP_LEADS = 200_000
"""~31k closed opportunities and ~5.7k customers with a known 12-month retention: the
account-manager model needs this many customers for a validation period of ~1.1k."""


@pytest.fixture(scope="session")
def quality_tables() -> dict[str, pd.DataFrame]:
    """A history large enough to judge model quality against the hidden truth."""
    return generate(GeneratorConfig(leads=QUALITY_LEADS, seed=1))


@pytest.fixture(scope="session")
def fitted(quality_tables: dict[str, pd.DataFrame]) -> dict[str, FittedChannel]:
    """Both channels' models fitted (without MLflow) on the quality history."""
    out = {}
    for channel in ("inbound", "outbound"):
        spec = default_spec(channel)
        data: ChannelData = channel_data(
            quality_tables["leads"], quality_tables["opportunities"], channel, "won", spec
        )
        # One thread: OpenMP threads crawl when another process holds a core.
        out[channel] = fit_channel(data, spec, TrainingConfig(threads=1))
    return out


@pytest.fixture(scope="session")
def rep_tables() -> dict[str, pd.DataFrame]:
    """A history large enough to judge the closer and account-manager fit models."""
    return generate(GeneratorConfig(leads=REP_LEADS, seed=1))


@pytest.fixture(scope="session")
def fitted_reps(rep_tables: dict[str, pd.DataFrame]) -> dict[Role, FittedRep]:
    """Both fit models and their lead-only baselines, fitted (without MLflow)."""
    config = rep_training_config()
    closers = closer_spec()
    managers = account_manager_spec()
    closer_rows = closer_data(
        rep_tables["leads"], rep_tables["opportunities"], rep_tables["reps"], closers
    )
    manager_rows = account_manager_data(rep_tables["customers"], rep_tables["reps"], managers)
    return {
        Role.closer: fit_rep(closer_rows, closers, config),
        Role.account_manager: fit_rep(manager_rows, managers, config),
    }


@pytest.fixture(scope="session")
def history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small history written as Parquet, as `leadscore generate` writes it."""
    folder = tmp_path_factory.mktemp("history")
    write_history(GeneratorConfig(leads=HISTORY_LEADS, seed=5), folder)
    return folder


def tracking_in(folder: Path) -> TrackingTarget:
    """An embedded MLflow store (SQLite + local artifacts) inside `folder`."""
    return TrackingTarget(
        uri=f"sqlite:///{folder / 'mlflow.db'}",
        experiment="leadscore-test",
        artifact_location=(folder / "artifacts").as_uri(),
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL for this session (`LEADSCORE_TEST_POSTGRES_URL`, or a cluster
    started on loopback and removed afterwards); fails in CI if there is none."""
    if url := os.environ.get("LEADSCORE_TEST_POSTGRES_URL"):
        yield url
        return
    try:
        url, stop = start_postgres()
    except PostgresNotInstalledError as error:
        not_installed(error)
    try:
        yield url
    finally:
        stop()
