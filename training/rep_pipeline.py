"""Train, evaluate, log and register the rep-fit models: one MLflow run per role.

The edge where files and MLflow meet `training.role_fit`; the lead-score
twin is `training.pipeline`, and both share the champion gate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from data.contract import Role
from data.importing.fit_tables import closer_inputs, read_fit_table
from data.tables import MissingTableError
from features.rep_features import RepFeatureSpec, account_manager_spec, closer_spec
from models.rep_packaging import load_rep_model, log_rep_model, rep_registered_name
from training.flow import (
    DataWindow,
    GatePolicy,
    Judged,
    Registration,
    log_judged,
    register_and_gate,
)
from training.placebo import STRATA, with_placebo
from training.rep_data import RepData, account_manager_data, closer_data
from training.rep_evidence import judge_fit, log_placebo
from training.reports import Skipped, TrainedReport
from training.role_fit import FittedRep, check_rep_data, fit_rep, rep_training_config
from training.routing_evaluation.doubly_robust import RoutingEstimate, estimate_routing
from training.routing_evaluation.doubly_robust_summary import (
    log_routing_ope,
    log_routing_ope_skipped,
)
from training.routing_evaluation.replay import ReplaySettings, replay_roster
from training.routing_evaluation.simulated import (
    RoutingEvaluation,
    Truth,
    load_truth,
    simulate_routing,
)
from training.routing_evaluation.simulated_summary import (
    log_policy_evaluation,
    log_policy_evaluation_skipped,
)
from training.run_logging import log_validation
from training.tracking import TrackingTarget, use_tracking
from training.training_config import NotEnoughDataError, TrainingConfig

DECISIONS_FILE = "decisions.parquet"
"""The service's decision log in a store export (`data.store.export`), with logged propensities."""


@dataclass(frozen=True, kw_only=True)
class RepReport(TrainedReport):
    """What one role's training produced, for the console and the tests."""

    role: str
    expansion: dict[str, float]
    placebo: dict[str, float] = field(default_factory=dict)
    """Metrics of the same model trained with owners shuffled within territory and segment."""
    placebo_gain: tuple[float, float] | None = None
    """Paired 95% interval of the model's ROC AUC minus the placebo's."""
    policy_evaluation: RoutingEvaluation | None = None
    """Closers only, and only where the generator's truth exists
    (`training.routing_evaluation.simulated`)."""
    routing_estimate: RoutingEstimate | None = None
    """Closers only: the doubly robust estimate from the history alone
    (`training.routing_evaluation.doubly_robust`)."""


def role_data(
    data_dir: Path, role: Role, spec: RepFeatureSpec, say: Callable[[str], None] = lambda _: None
) -> RepData:
    """A role's training rows from the contract tables in `data_dir` (generated or
    imported: `data.importing.fit_tables` builds the rows of deals without a lead)."""
    if role is Role.closer:
        inputs = closer_inputs(data_dir)
        reps = read_fit_table(data_dir, "reps")
        if inputs.built:
            say(inputs.note())
        return closer_data(inputs.leads, inputs.opportunities, reps, spec)
    customers = read_fit_table(data_dir, "customers")
    return account_manager_data(customers, read_fit_table(data_dir, "reps"), spec)


def train_rep_fits(
    data_dir: Path,
    tracking: TrackingTarget,
    config: TrainingConfig | None = None,
    roles: Sequence[Role | str] = (Role.closer, Role.account_manager),
    alias: str = "champion",
    say: Callable[[str], None] = lambda _: None,
    *,
    skipped: list[Skipped] | None = None,
    drift_report: Path | None = None,
) -> list[RepReport]:
    """Train each role's fit model on `data_dir`, log everything, register, and gate `alias`.

    With `skipped`, a role whose table is missing or too small is recorded
    there and the others go on; without it, the error stops the run.
    """
    config = config or rep_training_config()
    with use_tracking(tracking) as client:
        # Routing has a fallback (weighted round-robin): a fit that does not beat the
        # same model without rep features must not drive it.
        policy = GatePolicy(alias=alias, baseline_rule="must_beat")
        registration = Registration(client, policy, say, drift_report)
        reports = []
        for role in (Role(r) for r in roles):
            spec = closer_spec() if role is Role.closer else account_manager_spec()
            try:
                data = role_data(data_dir, role, spec, say)
                check_rep_data(data, config)
            except (MissingTableError, NotEnoughDataError) as error:
                if skipped is None:
                    raise
                say(f"{role.value}: skipped: {error}")
                skipped.append(Skipped(rep_registered_name(role), str(error)))
                continue
            say(f"{role.value}: fitting on {len(data.y):,} decided {role.value} assignments")
            with mlflow.start_run(run_name=rep_registered_name(role)) as run:
                say(f"{role.value}: fitting the model, its lead-only baseline and its placebo")
                fitted = with_placebo(fit_rep(data, spec, config), spec, config)
                report = _log_and_register(fitted, config, run.info.run_id, registration)
                if role is Role.closer:
                    estimate, simulated = evaluate_routing(data_dir, fitted, config.seed, say)
                    report = replace(report, policy_evaluation=simulated, routing_estimate=estimate)
                reports.append(report)
    return reports


NO_TRUTH = (
    "no truth/ folder beside the tables (real data): the policy's true win rate is unknown; "
    "the doubly robust estimate from the history alone is logged instead (routing_dr_*)"
)


def estimate_from_history(
    fitted: FittedRep,
    reps: pd.DataFrame,
    seed: int = 0,
    truth: Truth | None = None,
    decisions: pd.DataFrame | None = None,
) -> RoutingEstimate:
    """The doubly robust routing estimate of the closer-fit validation period: propensities
    learnt from every decided deal up to its end, or logged by the service where
    `decisions` (a store export's decision log) has them; the fitted model as the outcome
    model (it was fitted before that period). `truth`, when given, only checks the estimate."""
    rows = fitted.data.rows
    logged = None if decisions is None else logged_propensities(rows, decisions)
    validation = fitted.split.validation
    return estimate_routing(
        rows, validation, reps, fitted.model, seed=seed, truth=truth, logged_propensity=logged
    )


def logged_propensities(rows: pd.DataFrame, decisions: pd.DataFrame) -> np.ndarray:
    """Per deal row, the propensity the service logged for its lead's last closer decision
    (the one its outcome closed, as the export pairs them), NaN where none was logged or
    the deal went to another closer than the decision chose."""
    leads = decisions[decisions["kind"] == "lead"].drop_duplicates("subject_id", keep="last")
    by_lead = leads.set_index("subject_id")
    propensity = rows["lead_id"].map(by_lead["propensity"]).astype("float64")
    same_closer = rows["lead_id"].map(by_lead["rep_id"]) == rows["closer_id"]
    return propensity.where(same_closer).to_numpy(dtype=np.float64, na_value=np.nan)


def evaluate_routing(
    data_dir: Path, fitted: FittedRep, seed: int = 0, say: Callable[[str], None] = lambda _: None
) -> tuple[RoutingEstimate | None, RoutingEvaluation | None]:
    """Estimate the routing policies on the closer-fit validation period from the history
    alone (doubly robust), and, where the generator's truth exists, also replay it against
    the truth; log both on the active run. Evaluation only, after fitting: nothing here
    reaches the model, and the truth never reaches the estimate (it is read to check it)."""
    truth = load_truth(data_dir)
    reps = read_fit_table(data_dir, "reps")
    deals = len(fitted.split.validation)
    say(f"closer: doubly robust routing estimate on {deals:,} validation deals")
    estimate: RoutingEstimate | None = None
    try:
        decisions_path = data_dir / DECISIONS_FILE
        decisions = pd.read_parquet(decisions_path) if decisions_path.exists() else None
        estimate = estimate_from_history(fitted, reps, seed, truth, decisions)
    except ValueError as error:  # e.g. no active closer on the roster
        # The model is registered by now; an evaluation that cannot run must not undo that.
        say(f"closer: routing estimate skipped: {error}")
        log_routing_ope_skipped(str(error))
    else:
        log_routing_ope(estimate)
        say(f"closer: {estimate.lifts['round_robin'].sentence}")
    if truth is None:
        log_policy_evaluation_skipped(NO_TRUTH)
        return estimate, None
    settings = ReplaySettings()
    rows = fitted.data.rows.iloc[fitted.split.validation].reset_index(drop=True)
    say(f"closer: replaying {len(rows):,} validation leads through the routing policy")
    try:
        roster = replay_roster(truth.reps, settings)
        evaluation = simulate_routing(rows, roster, fitted.model, truth, None, seed, settings)
    except ValueError as error:  # e.g. a historical closer no longer on the roster
        say(f"closer: routing evaluation skipped: {error}")
        log_policy_evaluation_skipped(str(error))
        return estimate, None
    log_policy_evaluation(evaluation)
    return estimate, evaluation


def expansion_metrics(fitted: FittedRep, given: np.ndarray | None) -> dict[str, float]:
    """Errors of the expansion regressor on retained validation customers, beside the
    error of predicting the training mean for all of them."""
    value = fitted.data.expansion
    if given is None or value is None:
        return {}
    rows = fitted.split.validation
    keep = (fitted.data.y[rows] == 1) & np.isfinite(value[rows])
    train = fitted.split.train
    mean = np.nanmean(value[train][fitted.data.y[train] == 1])
    actual = value[rows][keep]
    return {
        "expansion_val_mae": float(np.mean(np.abs(given[keep] - actual))),
        "expansion_val_mae_constant": float(np.mean(np.abs(mean - actual))),
        "expansion_val_mean_predicted": float(given[keep].mean()),
        "expansion_val_mean_actual": float(actual.mean()),
    }


def _log_and_register(
    fitted: FittedRep, config: TrainingConfig, run_id: str, registration: Registration
) -> RepReport:
    data, split, model = fitted.data, fitted.split, fitted.model
    name = rep_registered_name(data.role)
    y_val = data.y[split.validation]
    scores, base_scores = fitted.validation_scores()
    placebo_scores = fitted.placebo_scores()
    judged, placebo, evidence = judge_fit(fitted, config.seed)
    validation_rows = data.rows.iloc[split.validation].reset_index(drop=True)
    # No "model's mean of max P(win) vs mean P(win)" here: taking the argmax of noisy fits
    # looks like a lift even where closers do not matter. The routing lift is estimated,
    # with its interval and verdict, by `evaluate_routing`.
    metrics = judged.metrics
    expansion = expansion_metrics(fitted, scores.expansion_if_retained)
    rows = {part: len(getattr(split, part)) for part in ("train", "calibration", "validation")}
    predictions = {"lightgbm": scores.probability, "lead_only": base_scores.probability}
    if placebo_scores is not None:
        predictions["placebo"] = placebo_scores.probability
    _log_run(fitted, config, metrics, judged, expansion, rows, y_val, predictions)
    if placebo is not None:
        log_placebo(placebo)
    registration.say(f"{data.role.value}: logging and registering {name}")
    info = log_rep_model(model, validation_rows, registered_model_name=name)
    version = str(info.registered_model_version)

    def champion_probability(uri: str) -> np.ndarray:
        return load_rep_model(uri).score_frame(validation_rows).probability

    gate, lineage = register_and_gate(
        registration.client,
        name,
        version,
        evidence,
        y_val,
        scores.probability,
        champion_probability,
        registration.policy,
        tags={"algorithm": "lightgbm"},
        seed=config.seed,
        data=DataWindow.of(data.at),
        drift_report=registration.drift_report,
    )
    return RepReport(
        role=data.role.value,
        model_name=name,
        version=version,
        run_id=run_id,
        metrics=metrics,
        baseline=judged.baseline,
        roc_auc_interval=judged.roc_auc_interval,
        expansion=expansion,
        gate=gate,
        rows=rows,
        intervals=judged.intervals,
        placebo={} if placebo is None else placebo.baseline,
        placebo_gain=None if placebo is None else placebo.intervals.roc_auc_difference,
        lineage=lineage,
    )


def _log_run(
    fitted: FittedRep,
    config: TrainingConfig,
    metrics: dict[str, float],
    judged: Judged,
    expansion: dict[str, float],
    rows: dict[str, int],
    y_val: np.ndarray,
    predictions: dict[str, np.ndarray],
) -> None:
    spec = fitted.model.spec
    mlflow.set_tags({"role": spec.role.value, "kind": "rep-fit"})
    mlflow.log_params(
        {
            "role": spec.role.value,
            "validation_start": str(fitted.split.validation_start),
            "best_iteration": fitted.best_iteration,
            "baseline_best_iteration": fitted.baseline_iteration,
            "features": len(spec.names),
            "rate_prior": round(spec.rates.prior or 0.0, 6),
            "rate_prior_strength": spec.rates.strength,
            "rates_as_of": str(spec.rates.as_of),
            **{f"rows_{part}": count for part, count in rows.items()},
            **{f"lgbm_{key}": value for key, value in config.lgbm_params.items()},
            "calibration": "platt",
            "baseline": "same model without rep, match and rate features",
            "placebo": f"same model, owners shuffled within {STRATA} (seed {config.seed})"
            if fitted.placebo is not None
            else "none",
            "expansion_model": fitted.model.expansion is not None,
        }
    )
    if expansion:
        mlflow.log_metrics(expansion)
    mlflow.log_dict(
        {
            "features": [f.__dict__ | {"kind": f.kind.value} for f in spec.features.features],
            "rates": [rate.name for rate in spec.rates.rates],
            "vocabularies": {k: list(v) for k, v in spec.features.vocabularies.items()},
            "roster": list(fitted.model.rep_ids),
            "calibration": fitted.model.calibration.__dict__,
        },
        "model_card.json",
    )
    log_judged(judged)
    log_validation(
        metrics,
        judged.baseline,
        judged.roc_auc_interval,
        y_val,
        predictions,
        spec.names,
        fitted.model.booster.feature_importance(importance_type="gain"),
    )
