"""The rep-fit pipeline against a real (embedded) MLflow store: registration,
the pyfunc round trip, and the champion gate shared with the lead scores."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.metrics import roc_auc_score

from data.contract import Role
from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import write_history
from features.rep_features import account_manager_spec, closer_spec
from models.rep_packaging import load_rep_model, rep_input_columns
from tests.conftest import tracking_in
from training.rep_pipeline import RepReport, role_data, train_rep_fits
from training.role_fit import REP_LGBM_PARAMS, rep_training_config
from training.tracking import TrackingTarget

pytestmark = pytest.mark.slow

NAMES = {"closer": "closer-fit", "account_manager": "account-manager-fit"}


@pytest.fixture(scope="module")
def rep_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~9.4k closed opportunities and ~1.6k customers with a known retention."""
    folder = tmp_path_factory.mktemp("rep-history")
    write_history(GeneratorConfig(leads=60_000, seed=4), folder)
    return folder


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> TrackingTarget:
    return tracking_in(tmp_path_factory.mktemp("rep-mlflow"))


@pytest.fixture(scope="module")
def first(rep_history: Path, store: TrackingTarget) -> dict[str, RepReport]:
    return {report.role: report for report in train_rep_fits(rep_history, store)}


def _validation_rows(folder: Path, role: str, report: RepReport) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows the run validated on (the newest ones), rebuilt from the files, and outcomes."""
    spec = closer_spec() if role == "closer" else account_manager_spec()
    data = role_data(folder, Role(role), spec)
    n = report.rows["validation"]
    return data.rows.iloc[-n:].reset_index(drop=True), data.y[-n:]


def test_both_fit_models_are_registered_and_become_champion(
    first: dict[str, RepReport], store: TrackingTarget
) -> None:
    client = MlflowClient(store.uri, store.uri)
    assert {r.model_name for r in first.values()} == set(NAMES.values())
    for report in first.values():
        assert report.gate.promote
        champion = client.get_model_version_by_alias(report.model_name, "champion")
        assert str(champion.version) == report.version
        assert champion.tags["gate"] == "promoted"
        assert report.metrics["roc_auc"] > report.baseline["roc_auc"]


def test_the_run_holds_model_and_baseline_metrics_and_the_plots(
    first: dict[str, RepReport], store: TrackingTarget
) -> None:
    client = MlflowClient(store.uri, store.uri)
    for report in first.values():
        run = client.get_run(report.run_id)
        for metric in ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_top_decile"):
            assert f"val_{metric}" in run.data.metrics
            assert f"baseline_val_{metric}" in run.data.metrics
        # The model's own mean of max P(win) over reps is no lift: it is not logged as one.
        assert not {"val_policy_best_rep", "val_policy_round_robin"} & set(run.data.metrics)
        # promoted: the gain over the placebo (owners shuffled within territory and segment)
        assert run.data.metrics["val_roc_auc_placebo_gain_ci_low"] > 0
        assert run.data.metrics["val_roc_auc"] > run.data.metrics["placebo_val_roc_auc"]
        assert report.gate.checks[2].startswith("beats the same model with ")
        assert run.data.params["role"] == report.role
        plots = {a.path for a in client.list_artifacts(report.run_id, "plots")}
        assert "plots/feature_importance.png" in plots and "plots/calibration.png" in plots
        assert "model_card.json" in {a.path for a in client.list_artifacts(report.run_id)}
    manager = client.get_run(first["account_manager"].run_id)
    assert (
        manager.data.metrics["expansion_val_mae"]
        < manager.data.metrics["expansion_val_mae_constant"]
    )


@pytest.mark.parametrize("role", ["closer", "account_manager"])
def test_the_registered_model_round_trips_with_identical_numbers(
    first: dict[str, RepReport], store: TrackingTarget, rep_history: Path, role: str
) -> None:
    mlflow.set_tracking_uri(store.uri)
    mlflow.set_registry_uri(store.uri)  # training no longer leaves both pointing at its store
    uri = f"models:/{NAMES[role]}@champion"
    rows, y = _validation_rows(rep_history, role, first[role])
    pyfunc = mlflow.pyfunc.load_model(uri)
    served = pyfunc.predict(rows[rep_input_columns(role)])
    model = load_rep_model(uri)
    direct = model.score_frame(rows)
    np.testing.assert_array_equal(served["probability"].to_numpy(), direct.probability)
    # The registered model is the validated one: same rows, same AUC as the run logged.
    assert roc_auc_score(y, direct.probability) == pytest.approx(first[role].metrics["roc_auc"])
    id_field = "closer_id" if role == "closer" else "account_manager_id"
    assert id_field in pyfunc.metadata.get_input_schema().input_names()
    if role == "account_manager":
        assert direct.expected_expansion is not None
        np.testing.assert_array_equal(served["expected_expansion"], direct.expected_expansion)
    else:
        assert list(served.columns) == ["probability"]


def test_a_worse_fit_model_does_not_become_champion(
    first: dict[str, RepReport], store: TrackingTarget, rep_history: Path
) -> None:
    weak = rep_training_config(
        max_rounds=2, lgbm_params={**REP_LGBM_PARAMS, "num_leaves": 2, "learning_rate": 0.01}
    )
    (report,) = train_rep_fits(rep_history, store, weak, roles=["closer"])
    client = MlflowClient(store.uri, store.uri)
    before = first["closer"]
    assert not report.gate.promote
    assert report.gate.champion == pytest.approx(before.metrics["roc_auc"])
    champion = client.get_model_version_by_alias("closer-fit", "champion")
    assert str(champion.version) == before.version
    assert client.get_model_version("closer-fit", report.version).tags["gate"] == "rejected"
    run = client.get_run(report.run_id)
    assert run.data.params["gate_decision"] == "kept champion"
    assert run.data.metrics["champion_val_roc_auc"] == pytest.approx(before.metrics["roc_auc"])
