"""The routing evaluation: the policy replayed on the validation period, judged by the
generator's truth, and off-policy estimates judged against that truth.

Trained for real through `train_rep_fits` on the shared 30k-lead history
(seed 5, ~940 validation leads). Thresholds leave margin below what that
history gives (in the comments); larger histories do better (README).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from data.contract import Role
from features.rep_features import closer_spec
from leadscore.cli import app
from leadscore.console_tables import measured_lift_lines
from leadscore.settings import get_settings
from models.assignment.types import PolicyConfig
from tests.conftest import tracking_in
from training.rep_pipeline import RepReport, role_data, train_rep_fits
from training.role_fit import fit_rep, rep_training_config
from training.routing_evaluation.replay import ReplaySettings, replay_roster
from training.routing_evaluation.simulated import RoutingEvaluation, load_truth, simulate_routing
from training.routing_evaluation.simulated_summary import (
    ARTIFACT,
    evaluation_dict,
    policy_metrics,
    summary_rows,
)
from training.tracking import TrackingTarget

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> TrackingTarget:
    return tracking_in(tmp_path_factory.mktemp("policy-mlflow"))


@pytest.fixture(scope="module")
def closer_report(history_dir: Path, store: TrackingTarget) -> RepReport:
    (report,) = train_rep_fits(history_dir, store, roles=["closer"])
    return report


@pytest.fixture(scope="module")
def evaluation(closer_report: RepReport) -> RoutingEvaluation:
    assert closer_report.policy_evaluation is not None
    return closer_report.policy_evaluation


def test_the_policy_beats_round_robin_and_the_historical_assignment(
    evaluation: RoutingEvaluation,
) -> None:
    win = {name: result.win_rate for name, result in evaluation.policies.items()}
    # Measured: policy 0.554, round-robin 0.432, historical 0.471, oracle 0.586;
    # lift over round-robin +0.122 (0.112 to 0.133), over historical +0.083 (0.075 to 0.092).
    assert evaluation.lift_over_round_robin.low > 0.03
    assert evaluation.lift_over_historical.low > 0
    assert win["historical"].value < win["leadscore"].value < win["oracle"].value
    for name, interval in win.items():
        assert interval.low <= interval.value <= interval.high, name
    lift = evaluation.lift_over_round_robin
    assert lift.value == pytest.approx(win["leadscore"].value - win["round_robin"].value)


def test_the_policy_often_picks_the_truly_best_closer_with_room(
    evaluation: RoutingEvaluation,
) -> None:
    share = evaluation.policies["leadscore"].best_rep_share
    assert share > 3 * evaluation.best_rep_chance
    assert share > evaluation.policies["round_robin"].best_rep_share
    assert evaluation.policies["oracle"].best_rep_share == 1.0


def test_capacity_holds_during_the_replay_and_binds_sometimes(
    evaluation: RoutingEvaluation,
) -> None:
    hold = evaluation.settings.hold_leads
    capacity = np.array(evaluation.capacity)
    assert capacity.sum() >= evaluation.settings.headroom * hold
    for name in ("leadscore", "round_robin", "oracle"):
        trace = evaluation.traces[name]
        assert (trace.peak_load <= capacity).all(), name
        assert trace.over_capacity == 0
        # A deal is released when the `hold`-th lead after it comes, before that lead is placed.
        open_work = trace.loads.sum(axis=1)
        assert (open_work == np.minimum(np.arange(evaluation.leads), hold - 1)).all()
    assert evaluation.policies["leadscore"].peak_utilisation == 1.0
    assert 0.05 < evaluation.capacity_bound_share < 0.95  # measured 0.29
    # The record is what it is: the historical routing ignored capacity.
    assert evaluation.policies["historical"].over_capacity > 0


def test_work_is_spread_within_bounds(evaluation: RoutingEvaluation) -> None:
    policies = evaluation.policies
    assert policies["round_robin"].load_gini < 0.01
    assert policies["round_robin"].load_max_min < 1.05
    assert policies["leadscore"].load_gini < 0.4  # measured 0.245 at fairness 0.1
    assert sum(policies["leadscore"].assignments) == evaluation.leads
    curve = {point.fairness: point for point in evaluation.fairness_curve}
    assert curve[3.0].load_gini < curve[1.0].load_gini < curve[0.0].load_gini


def test_exploration_propensities_are_recorded_and_sum_to_one(
    evaluation: RoutingEvaluation,
) -> None:
    trace = evaluation.traces["leadscore"]
    rows = np.arange(evaluation.leads)
    np.testing.assert_allclose(trace.propensities.sum(axis=1), 1.0)
    assert (trace.propensities[rows, trace.chosen] > 0).all()
    assert not (trace.propensities[trace.full] > 0).any()  # a full closer is never an option
    epsilon = evaluation.config.exploration
    assert 0 < trace.explored.mean() < 2 * epsilon
    # Epsilon-greedy: every eligible option gets at least epsilon / (number eligible).
    eligible = (~trace.full).sum(axis=1)
    assert (trace.propensities[rows, trace.chosen] >= epsilon / eligible - 1e-12).all()


def test_off_policy_estimates_of_the_greedy_policy_match_the_truth(
    evaluation: RoutingEvaluation,
) -> None:
    estimates = {(e.logging, e.target): e for e in evaluation.off_policy}
    own = estimates["leadscore", "greedy"]
    assert own.truth is not None
    for interval in (own.ips, own.snips, own.dr):
        assert abs(interval.value - own.truth) < 0.03 or interval.contains(own.truth)
    assert own.dr.contains(own.truth)
    # From the historical record, with its real outcomes: wider, yet it should hold the truth.
    past = estimates["historical", "greedy"]
    assert past.truth is not None and past.dr.contains(past.truth)
    assert past.effective_sample_size < own.effective_sample_size
    # Measured: every DR interval, round-robin's too, holds its truth.
    for key, estimate in estimates.items():
        assert estimate.truth is not None
        assert estimate.dr.contains(estimate.truth), key


def test_the_closer_run_holds_the_policy_metrics_and_the_artifact(
    closer_report: RepReport, store: TrackingTarget, evaluation: RoutingEvaluation
) -> None:
    client = MlflowClient(store.uri, store.uri)
    run = client.get_run(closer_report.run_id)
    metrics = run.data.metrics
    for name in (
        "policy_win_rate",
        "policy_win_rate_ci_low",
        "policy_win_rate_ci_high",
        "round_robin_win_rate",
        "historical_win_rate",
        "oracle_win_rate",
        "policy_lift_over_round_robin",
        "policy_lift_over_round_robin_ci_low",
        "policy_best_rep_share",
        "policy_load_gini",
        "policy_load_max_min",
        "ope_ips_greedy",
        "ope_dr_greedy",
        "ope_snips_greedy",
        "truth_greedy",
        "ope_dr_greedy_from_historical",
        "truth_greedy_from_historical",
    ):
        assert name in metrics, name
    # The estimate from the history alone and its check against the truth, side by side.
    estimate = closer_report.routing_estimate
    assert estimate is not None
    lift = estimate.lifts["round_robin"]
    assert metrics["routing_dr_lift_over_round_robin"] == pytest.approx(lift.interval.value)
    assert metrics["routing_truth_lift_over_round_robin"] == pytest.approx(lift.truth)
    assert run.data.params["policy_lift_verdict_over_round_robin"] == "better"
    assert "val_policy_best_rep" not in metrics  # the model's own argmax is not a lift
    assert "routing_ope.json" in {a.path for a in client.list_artifacts(closer_report.run_id)}
    assert metrics["policy_win_rate"] == pytest.approx(
        evaluation.policies["leadscore"].win_rate.value
    )
    assert run.data.params["policy_eval_hold_leads"] == str(evaluation.settings.hold_leads)
    local = Path(client.download_artifacts(closer_report.run_id, ARTIFACT))
    saved = json.loads(local.read_text())
    assert saved["leads"] == evaluation.leads
    assert saved["metrics"]["policy_win_rate"] == pytest.approx(metrics["policy_win_rate"])


def test_the_summary_names_every_figure(evaluation: RoutingEvaluation) -> None:
    rows = summary_rows(evaluation)
    labels = [label for label, _ in rows]
    assert "lift over round-robin (truth)" in labels
    lift = dict(rows)["lift over round-robin (truth)"]
    assert "95% CI" in lift and lift.startswith(("better: ", "no evidence that", "worse: "))
    assert any(label.startswith("off-policy") for label in labels)
    assert all(isinstance(value, str) and value for _, value in rows)
    json.dumps(evaluation_dict(evaluation))  # plain data, no numpy, no infinity
    assert all(np.isfinite(v) for v in policy_metrics(evaluation).values())


def test_without_truth_training_works_and_says_the_evaluation_was_skipped(
    history_dir: Path, tmp_path: Path, store: TrackingTarget
) -> None:
    real = tmp_path / "export"
    real.mkdir()
    for table in history_dir.glob("*.parquet"):
        shutil.copy(table, real / table.name)
    assert load_truth(real) is None
    (report,) = train_rep_fits(real, store, roles=["closer"])
    assert report.policy_evaluation is None
    run = MlflowClient(store.uri, store.uri).get_run(report.run_id)
    assert run.data.params["policy_eval"].startswith("skipped: no truth/ folder")
    assert "policy_win_rate" not in run.data.metrics
    # Without the truth, the routing is still evaluated: from the history alone.
    estimate = report.routing_estimate
    assert estimate is not None and estimate.policies["leadscore"].truth is None
    metrics = run.data.metrics
    for name in (
        "routing_dr_leadscore",
        "routing_dr_lift_over_round_robin",
        "routing_dr_lift_over_historical",
        "routing_dr_placebo_lift_over_round_robin",
    ):
        assert {name, f"{name}_ci_low", f"{name}_ci_high"} <= set(metrics), name
    assert metrics["routing_ess_leadscore"] < metrics["routing_ess_historical"] == estimate.deals
    assert not any(name.startswith("routing_truth_") for name in metrics)
    verdict = run.data.params["routing_verdict_over_round_robin"]
    assert verdict == estimate.lifts["round_robin"].verdict
    assert run.data.params["routing_lift_sentence_over_round_robin"].startswith(
        ("better: ", "no evidence that", "worse: ")
    )


def test_same_seed_same_figures(history_dir: Path) -> None:
    spec = closer_spec()
    fitted = fit_rep(role_data(history_dir, Role.closer, spec), spec, rep_training_config())
    truth = load_truth(history_dir)
    assert truth is not None
    settings = ReplaySettings(resamples=50, fairness_levels=())
    rows = fitted.data.rows.iloc[fitted.split.validation[:300]]
    roster = replay_roster(truth.reps, settings)
    runs = [
        simulate_routing(rows, roster, fitted.model, truth, seed=3, settings=settings)
        for _ in range(2)
    ]
    assert policy_metrics(runs[0]) == policy_metrics(runs[1])
    greedy = simulate_routing(
        rows, roster, fitted.model, truth, PolicyConfig(exploration=0.0), 3, settings
    )
    assert not greedy.traces["leadscore"].explored.any()
    assert set(np.unique(greedy.traces["leadscore"].propensities)) <= {0.0, 1.0}


def test_route_prints_the_measured_lift_with_interval_and_verdict(
    closer_report: RepReport,
    store: TrackingTarget,
    history_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    estimate = closer_report.routing_estimate
    assert estimate is not None
    monkeypatch.setenv("LEADSCORE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", store.uri)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            [
                "route",
                "--data",
                str(history_dir),
                "--limit",
                "200",
                "--out",
                str(tmp_path / "assignments.parquet"),
            ],
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "The model's own expectation, not a measured lift" in output
    assert "P(win) of the chosen closers" not in output  # the old bare comparison
    client = MlflowClient(store.uri, store.uri)
    champion = client.get_model_version_by_alias("closer-fit", "champion")
    assert champion.run_id is not None
    params = client.get_run(champion.run_id).data.params
    assert f"Measured on closer-fit v{champion.version}'s validation period" in output
    for key in ("over_round_robin", "over_historical", "placebo_over_round_robin"):
        assert params[f"routing_lift_sentence_{key}"] in output
    # Measured on this history: +0.077 (+0.025 to +0.125) over round-robin.
    assert params["routing_lift_sentence_over_round_robin"].startswith(
        "better: routing by fit beats round-robin on this history (lift +"
    )


def test_route_says_when_there_is_no_measured_lift() -> None:
    lines = measured_lift_lines("3", [])
    assert lines == [
        "No measured lift: the run of closer-fit v3 has no routing evaluation (retrain to get "
        "one); the mean fits above are the model's own expectation."
    ]
