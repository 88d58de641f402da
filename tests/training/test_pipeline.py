"""The training pipeline against a real (embedded) MLflow store: what a data
scientist finds in the UI, and the champion gate."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import write_history
from data.tables import MissingTableError
from features.columns import from_frame
from models.packaging import load_lead_model
from tests.conftest import tracking_in
from tests.serving.helpers import mlflow_tracking
from training.pipeline import ChannelReport, train_lead_scores
from training.tracking import TrackingTarget
from training.training_config import DEFAULT_LGBM_PARAMS, NotEnoughDataError, TrainingConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> TrackingTarget:
    return tracking_in(tmp_path_factory.mktemp("mlflow"))


@pytest.fixture(scope="module")
def first(history_dir: Path, store: TrackingTarget) -> list[ChannelReport]:
    return train_lead_scores(history_dir, store)


def test_both_channels_are_registered_and_become_champion(
    first: list[ChannelReport], store: TrackingTarget
) -> None:
    client = MlflowClient(store.uri, store.uri)
    for report in first:
        assert report.gate.promote
        champion = client.get_model_version_by_alias(report.model_name, "champion")
        assert str(champion.version) == report.version
        assert champion.tags["gate"] == "promoted"
    assert {r.model_name for r in first} == {"lead-score-inbound", "lead-score-outbound"}


def test_the_run_holds_metrics_for_model_and_baseline_and_the_plots(
    first: list[ChannelReport], store: TrackingTarget
) -> None:
    client = MlflowClient(store.uri, store.uri)
    for report in first:
        run = client.get_run(report.run_id)
        for metric in ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_top_decile"):
            assert f"val_{metric}" in run.data.metrics
            assert f"baseline_val_{metric}" in run.data.metrics
        assert run.data.metrics["val_roc_auc_ci_low"] < run.data.metrics["val_roc_auc"]
        assert run.data.params["channel"] == report.channel
        artifacts = {a.path for a in client.list_artifacts(report.run_id, "plots")}
        assert artifacts == {
            "plots/calibration.png",
            "plots/cumulative_gains.png",
            "plots/feature_importance.png",
        }
        assert "model_card.json" in {a.path for a in client.list_artifacts(report.run_id)}


def test_the_registered_model_round_trips_with_identical_numbers(
    first: list[ChannelReport], store: TrackingTarget, history_dir: Path
) -> None:
    mlflow.set_tracking_uri(store.uri)
    mlflow.set_registry_uri(store.uri)  # training no longer leaves both pointing at its store
    leads = pd.read_parquet(history_dir / "leads.parquet")
    inbound = leads[leads["channel"] == "inbound"].head(200)
    pyfunc = mlflow.pyfunc.load_model("models:/lead-score-inbound@champion")
    served = pyfunc.predict(inbound)
    model = load_lead_model("models:/lead-score-inbound@champion")
    direct = model.score(from_frame(inbound, model.spec.input_fields))
    np.testing.assert_allclose(served["probability"], direct.probability, rtol=1e-12)
    assert served["score"].between(1, 99).all()
    assert set(served["grade"]) <= set("ABCD")
    signature = pyfunc.metadata.get_input_schema()
    assert "lead_id" in signature.input_names()


def test_a_worse_model_does_not_become_champion(
    first: list[ChannelReport], store: TrackingTarget, history_dir: Path
) -> None:
    weak = TrainingConfig(
        max_rounds=2, lgbm_params={**DEFAULT_LGBM_PARAMS, "num_leaves": 2, "learning_rate": 0.01}
    )
    (report,) = train_lead_scores(history_dir, store, weak, channels=["inbound"])
    client = MlflowClient(store.uri, store.uri)
    before = next(r for r in first if r.channel == "inbound")
    assert not report.gate.promote
    # The champion was refit on all history, these validation rows too, and no newer rows
    # exist: it is compared on them all, and the gate says its figure is optimistic.
    assert report.gate.champion is not None
    assert report.gate.champion > before.metrics["roc_auc"]
    assert "optimistic" in " ".join(report.gate.checks)
    champion = client.get_model_version_by_alias("lead-score-inbound", "champion")
    assert str(champion.version) == before.version
    assert client.get_model_version("lead-score-inbound", report.version).tags["gate"] == "rejected"
    run = client.get_run(report.run_id)
    assert run.data.params["gate_decision"] == "kept champion"
    assert run.data.metrics["champion_val_roc_auc"] == pytest.approx(report.gate.champion)


def test_missing_tables_and_too_little_data_are_clear_errors(
    tmp_path: Path, store: TrackingTarget
) -> None:
    with pytest.raises(MissingTableError, match=r"leads\.parquet"):
        train_lead_scores(tmp_path, store)
    write_history(GeneratorConfig(leads=600, seed=2), tmp_path)
    with pytest.raises(NotEnoughDataError, match="at least 40 of each"):
        train_lead_scores(tmp_path, store)


def test_the_leakage_guard_passes_honest_data(first: list[ChannelReport]) -> None:
    """Generated leads hold only what is known at first contact: nothing may be dropped."""
    for report in first:
        assert report.leakage is not None and report.leakage.checks
        assert report.leakage.dropped == [], report.leakage.suspicious
        assert all((c.single_column_auc or 0) < 0.8 for c in report.leakage.checks)


def _with_shuffled_fields(history_dir: Path, folder: Path) -> Path:
    """The history with every lead field shuffled among the channel's leads: the outcomes
    no longer depend on anything a model can read (ids, channels and dates stay)."""
    shutil.copytree(history_dir, folder)
    leads = pd.read_parquet(folder / "leads.parquet")
    fields = [c for c in leads.columns if c not in ("lead_id", "channel", "created_at")]
    rng = np.random.default_rng(3)
    for channel in leads["channel"].unique():
        rows = np.flatnonzero(leads["channel"] == channel)
        shuffled = leads.iloc[rng.permutation(rows)][fields].to_numpy()
        leads.loc[leads.index[rows], fields] = shuffled
    leads.to_parquet(folder / "leads.parquet")
    return folder


def test_a_model_no_better_than_chance_is_registered_but_never_served(
    history_dir: Path, tmp_path: Path
) -> None:
    noise = _with_shuffled_fields(history_dir, tmp_path / "noise")
    store = tracking_in(tmp_path)
    config = TrainingConfig(time_features=False)
    (report,) = train_lead_scores(noise, store, config, channels=["inbound"])
    low, high = report.roc_auc_interval
    assert low <= 0.5 <= high
    assert not report.gate.promote
    assert report.gate.reason.startswith("no evidence that it ranks better than chance")
    client = MlflowClient(store.uri, store.uri)
    version = client.get_model_version("lead-score-inbound", report.version)
    assert version.tags["gate"] == "rejected"
    assert version.aliases == []


def test_a_significantly_better_baseline_is_what_gets_served(
    history_dir: Path, tmp_path: Path
) -> None:
    store = tracking_in(tmp_path)
    stumps = TrainingConfig(
        max_rounds=2, lgbm_params={**DEFAULT_LGBM_PARAMS, "num_leaves": 2, "learning_rate": 0.01}
    )
    (report,) = train_lead_scores(history_dir, store, stumps, channels=["inbound"])
    assert report.intervals is not None and report.intervals.roc_auc_difference is not None
    assert report.intervals.roc_auc_difference[1] < 0  # LightGBM significantly worse
    assert report.served == "baseline"
    assert report.gate.promote
    assert report.gate.candidate == pytest.approx(report.baseline["roc_auc"])
    with mlflow_tracking(store.uri):
        served = load_lead_model("models:/lead-score-inbound@champion")
    assert served.metadata["algorithm"] == "logistic regression"
    leads = pd.read_parquet(history_dir / "leads.parquet")
    inbound = leads[leads["channel"] == "inbound"].tail(300)
    scored = served.score(from_frame(inbound, served.spec.input_fields), reasons=3)
    assert 0 < scored.probability.min() < scored.probability.max() < 1
    assert scored.reasons is not None and all(scored.reasons)


def test_the_training_reference_travels_with_the_model_and_as_an_artifact(
    first: list[ChannelReport], store: TrackingTarget
) -> None:
    client = MlflowClient(store.uri, store.uri)
    mlflow.set_tracking_uri(store.uri)
    mlflow.set_registry_uri(store.uri)  # training no longer leaves both pointing at its store
    report = next(r for r in first if r.channel == "inbound")
    model = load_lead_model(f"models:/{report.model_name}/{report.version}")
    reference = model.metadata["reference"]
    assert reference["rows"] == report.rows["refit"]
    assert "created_at" not in reference["fields"]  # the calendar moves by itself
    size = reference["fields"]["company_size"]
    assert len(size["edges"]) == 9 and sum(size["shares"]) + size["missing"] == pytest.approx(
        1, abs=1e-4
    )
    source = reference["fields"]["source"]
    assert "organic_search" in source["categories"] and source["known_complete"]
    assert sum(reference["score"]["shares"]) == pytest.approx(1, abs=1e-4)
    # the score scale spreads the learnt rows' scores evenly: a tenth per decile
    assert all(abs(s - 0.1) < 0.03 for s in reference["score"]["shares"])
    assert reference["grades"]["A"] == pytest.approx(0.1, abs=0.02)
    logged = client.download_artifacts(report.run_id, "drift_reference.json")
    assert Path(logged).read_text().startswith("{")
    assert reference["window"]["first"] < reference["window"]["last"]
