"""Real models in a real (temporary) MLflow registry, built once per session.

~30,000 generated leads, both channels fitted with the production training
code, logged and registered exactly as training does, with alias `champion`.
Each test module builds its own app from a `ServingConfig` pointing at this store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from sklearn.metrics import brier_score_loss, roc_auc_score

from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import generate, write_history
from features.lead_features import default_spec
from models.lead_score import LeadScoreModel
from models.packaging import log_lead_model, registered_name
from serving.app import create_app
from serving.config import ServingConfig
from tests.serving.helpers import mlflow_tracking
from training.channel_data import channel_data
from training.channel_fit import fit_channel
from training.rep_pipeline import train_rep_fits
from training.tracking import TrackingTarget
from training.training_config import TrainingConfig

CHANNELS = ("inbound", "outbound")
CHAMPION = "champion"


@dataclass
class Registry:
    """The session's MLflow store and what was registered in it."""

    tracking_uri: str
    home: Path
    client: MlflowClient
    experiment_id: str
    leads: pd.DataFrame
    models: dict[str, LeadScoreModel]
    examples: dict[str, pd.DataFrame]
    metrics: dict[str, dict[str, float]]

    def settings(self, **options: object) -> ServingConfig:
        # API keys are tested on their own (test_auth.py); elsewhere they would only add noise.
        # So is alias polling (test_alias_polling.py): a module's app would otherwise pick up
        # versions another test registers while it runs.
        base = {"tracking_uri": self.tracking_uri, "auth": "none", "model_poll_seconds": 0}
        return ServingConfig.model_validate(base | options)

    def register(self, channel: str, *alias: str) -> str:
        """Log and register the channel's model again (a new version); returns the version."""
        with mlflow_tracking(self.tracking_uri), mlflow.start_run(experiment_id=self.experiment_id):
            mlflow.log_metrics(self.metrics[channel])
            info = log_lead_model(
                self.models[channel],
                self.examples[channel],
                registered_model_name=registered_name(channel),
            )
        version = str(info.registered_model_version)
        for name in alias:
            self.client.set_registered_model_alias(registered_name(channel), name, version)
        return version


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    home = tmp_path_factory.mktemp("leadscore")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment(
        "serving-tests", artifact_location=(home / "artifacts").as_uri()
    )
    tables = generate(GeneratorConfig(leads=30_000, seed=5))
    # One thread: LightGBM's OpenMP threads crawl when another process holds a core.
    config = TrainingConfig(threads=1)
    models, examples, metrics = {}, {}, {}
    for channel in CHANNELS:
        spec = default_spec(channel)
        data = channel_data(tables["leads"], tables["opportunities"], channel, "won", spec)
        fitted = fit_channel(data, spec, config)
        validation = fitted.split.validation
        columns = {k: v[validation] for k, v in data.columns.items()}
        # The validation figures are the evaluated model's: the registered one learnt those rows.
        p = fitted.evaluated.score(columns).probability
        y = data.y[validation]
        models[channel] = fitted.model
        examples[channel] = data.leads.head(3)
        metrics[channel] = {
            "val_roc_auc": float(roc_auc_score(y, p)),
            "val_brier": float(brier_score_loss(y, p)),
        }
    found = Registry(uri, home, client, experiment_id, tables["leads"], models, examples, metrics)
    for channel in CHANNELS:
        found.register(channel, CHAMPION)
    return found


@pytest.fixture(scope="module")
def client(registry: Registry) -> Iterator[TestClient]:
    """A fresh app per test module, serving the champions; lifespan run."""
    with TestClient(create_app(registry.settings())) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def sample(registry: Registry) -> pd.DataFrame:
    """200 leads of both channels, in generated (time) order, from the newest period."""
    leads = registry.leads
    return leads.iloc[-400:].sample(200, random_state=1).sort_index()


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("routing-history")
    write_history(GeneratorConfig(leads=60_000, seed=9), folder)
    return folder


@pytest.fixture(scope="session")
def fit_registry(registry: Registry, history: Path) -> Registry:
    """The serving registry, now also holding closer-fit and account-manager-fit champions."""
    target = TrackingTarget(
        registry.tracking_uri, "serving-fit-tests", (registry.home / "fit-artifacts").as_uri()
    )
    for report in train_rep_fits(history, target):
        if not report.gate.promote:
            # On 60,000 leads the account-manager gain is not significant, so the gate
            # rightly keeps it back; these tests are about serving both fits.
            registry.client.set_registered_model_alias(report.model_name, CHAMPION, report.version)
    return registry
