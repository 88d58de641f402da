"""How well the assignment policy routes the validation period, judged by the hidden truth.

Evaluation only, after fitting: the generator's true win probabilities
(`DIR/truth/`) never reach a model; they say what each routing choice was
really worth. The validation leads are replayed in time order
(`training.routing_evaluation.replay`) through four policies under the same capacity
rules: the leadscore policy online (its exploration and fairness term),
weighted round-robin (the policy's own fallback), the historical assignment
recorded in the data, and the best eligible closer by the truth (a greedy
reference, not a strict bound). Win rates are mean TRUE P(win | lead, chosen
closer), so they carry no outcome noise; their intervals bootstrap the leads
with the choices held fixed: they say how much the figure owes to which leads
came, not to the policy's own random draws.

Off-policy estimates (`training.routing_evaluation.off_policy`) then use only what a CRM logs:
the leadscore policy's decisions with their propensities (outcomes drawn
from the truth), and the historical assignment with its real outcomes and
the generator's known routing probabilities. They sit next to the truth so
users can see how far to trust them on their own data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from models.rep_fit import RepFitModel

from data.generator.historical_routing import HISTORICAL_REGION_LOYALTY, historical_closer_weights
from data.generator.truth import true_closer_win_probability
from data.tables import read_table
from models.assignment.balance import LoadBalance, load_balance
from models.assignment.types import PolicyConfig, Rep
from training.routing_evaluation.lifts import Interval, bootstrap_means
from training.routing_evaluation.off_policy import (
    LoggedDecisions,
    OffPolicyEstimate,
    off_policy_estimates,
)
from training.routing_evaluation.replay import (
    Chooser,
    FloatArray,
    IntArray,
    ReplaySettings,
    Trace,
    best_eligible,
    fixed_chooser,
    oracle_chooser,
    policy_chooser,
    replay,
)

POLICIES = ("leadscore", "round_robin", "historical", "oracle")
NEEDED_COLUMNS = (
    "lead_id",
    "closer_id",
    "won",
    "company_size",
    "company_industry",
    "company_region",
)


@dataclass(frozen=True)
class Truth:
    """The generator's hidden tables and the reps: what evaluation may know and a model may not."""

    leads: pd.DataFrame
    closer_effects: pd.DataFrame
    reps: pd.DataFrame
    region_loyalty: float = HISTORICAL_REGION_LOYALTY
    """How often the history's routing kept a deal in the lead's region."""

    def win_probability(self, leads: pd.DataFrame, closer_ids: Sequence[str]) -> FloatArray:
        """TRUE P(won | lead, closer): a leads x closers matrix."""
        return true_closer_win_probability(
            leads, closer_ids, self.leads, self.closer_effects, self.reps
        )

    def historical_propensity(self, leads: pd.DataFrame, closer_ids: Sequence[str]) -> FloatArray:
        """P(the historical routing sent the lead to each closer): known because the
        generator's routing is (`historical_closer_weights`)."""
        regions = self.reps.set_index("rep_id")["region"].loc[list(closer_ids)]
        return historical_closer_weights(
            leads["company_region"].to_numpy(dtype=object),
            regions.to_numpy(dtype=object),
            self.region_loyalty,
        )


def load_truth(data_dir: Path) -> Truth | None:
    """The truth written by `leadscore generate` beside the tables; None for real data."""
    folder = data_dir / "truth"
    paths = {name: folder / f"{name}.parquet" for name in ("leads", "closer_effects")}
    if not all(path.exists() for path in paths.values()):
        return None
    routing = folder / "routing.json"
    loyalty = (
        float(json.loads(routing.read_text())["region_loyalty"])
        if routing.exists()
        else HISTORICAL_REGION_LOYALTY
    )
    return Truth(
        leads=pd.read_parquet(paths["leads"]),
        closer_effects=pd.read_parquet(paths["closer_effects"]),
        reps=read_table(data_dir, "reps"),
        region_loyalty=loyalty,
    )


@dataclass(frozen=True)
class PolicyResult:
    """One policy over the replay: its true win rate, how often it picked the truly best
    closer with room, and how it spread the work (assignments per unit of capacity)."""

    win_rate: Interval
    best_rep_share: float
    load_gini: float
    load_max_min: float
    assignments: tuple[int, ...]
    peak_utilisation: float
    over_capacity: int


@dataclass(frozen=True)
class RoutingEvaluation:
    """Everything measured on one replay; ``traces`` keeps the raw replays for checks."""

    leads: int
    closers: tuple[str, ...]
    capacity: tuple[int, ...]
    settings: ReplaySettings
    config: PolicyConfig
    policies: dict[str, PolicyResult]
    lift_over_round_robin: Interval
    lift_over_historical: Interval
    best_rep_chance: float
    capacity_bound_share: float
    explored_share: float
    off_policy: tuple[OffPolicyEstimate, ...]
    fairness_curve: tuple[FairnessPoint, ...]
    traces: dict[str, Trace] = field(repr=False, compare=False)


def _balance(trace: Trace) -> LoadBalance:
    """How evenly the replay spread the leads, per unit of capacity."""
    counts = np.bincount(trace.chosen, minlength=len(trace.capacity))
    return load_balance(counts.astype(np.float64), weights=trace.capacity.astype(np.float64))


def _result(trace: Trace, win: Interval, truth: FloatArray) -> PolicyResult:
    best = best_eligible(truth, trace.full)
    balance = _balance(trace)
    return PolicyResult(
        win_rate=win,
        best_rep_share=float((trace.chosen == best).mean()),
        load_gini=balance.gini,
        load_max_min=balance.max_min_ratio,
        assignments=tuple(int(c) for c in np.bincount(trace.chosen, minlength=len(trace.capacity))),
        peak_utilisation=float((trace.peak_load / trace.capacity).max()),
        over_capacity=trace.over_capacity,
    )


def _positions(leads: pd.DataFrame, roster: Sequence[Rep]) -> IntArray:
    position = {rep.rep_id: j for j, rep in enumerate(roster)}
    unknown = sorted(set(leads["closer_id"].astype(str)) - set(position))
    if unknown:
        raise ValueError(f"leads: historical closers {unknown[:5]} are not on the roster")
    return np.array([position[c] for c in leads["closer_id"].astype(str)], dtype=np.int64)


@dataclass(frozen=True)
class _Period:
    """The replayed leads with what every policy is judged on: the fit model's and the
    true win probabilities (leads x closers) and the closers' capacities."""

    leads: pd.DataFrame
    roster: Sequence[Rep]
    predicted: FloatArray
    true_p: FloatArray
    settings: ReplaySettings

    @property
    def items(self) -> list[str]:
        return self.leads["lead_id"].astype(str).tolist()

    @property
    def capacity(self) -> IntArray:
        return np.array([rep.capacity for rep in self.roster], dtype=np.int64)

    @property
    def rows(self) -> IntArray:
        return np.arange(len(self.leads))

    def run(self, chooser: Chooser) -> Trace:
        return replay(len(self.leads), self.capacity, self.settings.hold_leads, chooser)

    def run_policy(self, config: PolicyConfig, rng: np.random.Generator) -> Trace:
        return self.run(policy_chooser(self.items, self.predicted, self.roster, config, rng))

    def true_win(self, trace: Trace) -> FloatArray:
        """TRUE P(win) of each lead with the closer the replay chose."""
        return self.true_p[self.rows, trace.chosen]


def simulate_routing(
    leads: pd.DataFrame,
    roster: Sequence[Rep],
    fit_model: RepFitModel,
    truth: Truth,
    config: PolicyConfig | None = None,
    seed: int = 0,
    settings: ReplaySettings | None = None,
) -> RoutingEvaluation:
    """Replay ``leads`` (qualified, oldest first, with the closer actually assigned and the
    outcome) through the policies and estimate the greedy and round-robin policies off-policy.

    Capacities come from ``roster`` (see `replay_roster`); the policy's value of a lead
    is its win probability (value 1), the outcome the evaluation counts.
    """
    config = config or PolicyConfig()
    settings = settings or ReplaySettings()
    leads = _checked(leads)
    ids = [rep.rep_id for rep in roster]
    rng = [np.random.default_rng([seed, k]) for k in range(4)]
    period = _Period(
        leads=leads,
        roster=roster,
        predicted=np.asarray(fit_model.fit(leads, ids), dtype=np.float64),
        true_p=truth.win_probability(leads, ids),
        settings=settings,
    )
    traces = {
        "leadscore": period.run_policy(config, rng[0]),
        "round_robin": period.run(policy_chooser(period.items, None, roster, config, rng[0])),
        "historical": period.run(fixed_chooser(_positions(leads, roster))),
        "oracle": period.run(oracle_chooser(period.true_p, period.capacity)),
    }
    won = np.stack([period.true_win(traces[name]) for name in POLICIES])
    columns = np.vstack([won, won[0] - won[1], won[0] - won[2]])
    intervals = bootstrap_means(columns, settings.resamples, settings.confidence, rng[1])
    ours = traces["leadscore"]
    logs = _logs(period, traces, truth.historical_propensity(leads, ids), rng[2])
    return RoutingEvaluation(
        leads=len(leads),
        closers=tuple(ids),
        capacity=tuple(int(c) for c in period.capacity),
        settings=settings,
        config=config,
        policies={
            name: _result(traces[name], intervals[k], period.true_p)
            for k, name in enumerate(POLICIES)
        },
        lift_over_round_robin=intervals[4],
        lift_over_historical=intervals[5],
        best_rep_chance=float((1.0 / (~ours.full).sum(axis=1)).mean()),
        capacity_bound_share=float(ours.full[period.rows, period.predicted.argmax(axis=1)].mean()),
        explored_share=float(ours.explored.mean()),
        off_policy=off_policy_estimates(
            logs, period.items, roster, config, period.predicted, period.true_p, settings, rng[3]
        ),
        fairness_curve=_fairness_curve(period, config, seed),
        traces=traces,
    )


def _checked(leads: pd.DataFrame) -> pd.DataFrame:
    missing = sorted(set(NEEDED_COLUMNS) - set(leads.columns))
    if missing or leads.empty:
        raise ValueError(
            f"leads: need rows with the columns {list(NEEDED_COLUMNS)}; missing {missing}"
        )
    return leads.reset_index(drop=True)


def _logs(
    period: _Period,
    traces: dict[str, Trace],
    historical_propensity: FloatArray,
    rng: np.random.Generator,
) -> dict[str, tuple[Trace, LoggedDecisions]]:
    """What a CRM would have logged: the leadscore policy's decisions with their
    propensities (outcomes drawn from the truth) and the historical assignment with its
    real outcomes and the generator's known routing probabilities."""
    ours, past = traces["leadscore"], traces["historical"]
    rows = period.rows
    drawn = rng.random(len(rows)) < period.true_win(ours)
    return {
        "leadscore": (
            ours,
            LoggedDecisions(
                choice=ours.chosen,
                propensity=ours.propensities[rows, ours.chosen],
                reward=drawn.astype(np.float64),
            ),
        ),
        "historical": (
            past,
            LoggedDecisions(
                choice=past.chosen,
                propensity=historical_propensity[rows, past.chosen],
                reward=period.leads["won"].astype(bool).to_numpy().astype(np.float64),
            ),
        ),
    }


@dataclass(frozen=True)
class FairnessPoint:
    """The leadscore policy replayed with another fairness weight: the price of fairer loads."""

    fairness: float
    win_rate: float
    load_gini: float


def _fairness_curve(period: _Period, config: PolicyConfig, seed: int) -> tuple[FairnessPoint, ...]:
    """The leadscore policy at each of the settings' fairness levels, from the same seed."""
    curve = []
    for fairness in period.settings.fairness_levels:
        other = replace(config, fairness=fairness)
        trace = period.run_policy(other, np.random.default_rng(seed))
        win_rate = float(period.true_win(trace).mean())
        curve.append(FairnessPoint(fairness, win_rate, _balance(trace).gini))
    return tuple(curve)
