"""How well the assignment policy routes the validation period, judged by the hidden truth.

Evaluation only, after fitting: the generator's true win probabilities
(`DIR/truth/`) never reach a model; they say what each routing choice was
really worth. The validation leads are replayed in time order
(`training.policy_replay`) through four policies under the same capacity
rules: the leadscore policy online (its exploration and fairness term),
weighted round-robin (the policy's own fallback), the historical assignment
recorded in the data, and the best eligible closer by the truth (a greedy
reference, not a strict bound). Win rates are mean TRUE P(win | lead, chosen
closer), so they carry no outcome noise; their intervals bootstrap the leads
with the choices held fixed: they say how much the figure owes to which leads
came, not to the policy's own random draws.

Off-policy estimates (`training.policy_ope`) then use only what a CRM logs:
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

from data.generator import HISTORICAL_REGION_LOYALTY, historical_closer_weights
from data.tables import read_table
from data.truth import true_closer_win_probability
from models.assignment import PolicyConfig, Rep
from models.policy_eval import load_balance
from models.rep_fit_model import RepFitModel
from training.policy_ope import (
    Interval,
    LoggedDecisions,
    OffPolicyEstimate,
    bootstrap_means,
    off_policy_estimates,
)
from training.policy_replay import (
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
class FairnessPoint:
    """The leadscore policy replayed with another fairness weight: the price of fairer loads."""

    fairness: float
    win_rate: float
    load_gini: float


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


def _result(trace: Trace, win: Interval, truth: FloatArray) -> PolicyResult:
    best = best_eligible(truth, trace.full)
    counts = np.bincount(trace.chosen, minlength=len(trace.capacity))
    balance = load_balance(counts.astype(np.float64), weights=trace.capacity.astype(np.float64))
    return PolicyResult(
        win_rate=win,
        best_rep_share=float((trace.chosen == best).mean()),
        load_gini=balance.gini,
        load_max_min=balance.max_min_ratio,
        assignments=tuple(int(c) for c in counts),
        peak_utilisation=float((trace.peak_load / trace.capacity).max()),
        over_capacity=trace.over_capacity,
    )


def _positions(leads: pd.DataFrame, roster: Sequence[Rep]) -> IntArray:
    position = {rep.rep_id: j for j, rep in enumerate(roster)}
    unknown = sorted(set(leads["closer_id"].astype(str)) - set(position))
    if unknown:
        raise ValueError(f"leads: historical closers {unknown[:5]} are not on the roster")
    return np.array([position[c] for c in leads["closer_id"].astype(str)], dtype=np.int64)


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
    missing = sorted(set(NEEDED_COLUMNS) - set(leads.columns))
    if missing or leads.empty:
        raise ValueError(
            f"leads: need rows with the columns {list(NEEDED_COLUMNS)}; missing {missing}"
        )
    leads = leads.reset_index(drop=True)
    ids = [rep.rep_id for rep in roster]
    items = leads["lead_id"].astype(str).tolist()
    capacity = np.array([rep.capacity for rep in roster], dtype=np.int64)
    rng = [np.random.default_rng([seed, k]) for k in range(4)]
    predicted = np.asarray(fit_model.fit(leads, ids), dtype=np.float64)
    true_p = truth.win_probability(leads, ids)

    def run(chooser: Chooser) -> Trace:
        return replay(len(items), capacity, settings.hold_leads, chooser)

    traces = {
        "leadscore": run(policy_chooser(items, predicted, roster, config, rng[0])),
        "round_robin": run(policy_chooser(items, None, roster, config, rng[0])),
        "historical": run(fixed_chooser(_positions(leads, roster))),
        "oracle": run(oracle_chooser(true_p, capacity)),
    }
    rows = np.arange(len(items))
    won = np.stack([true_p[rows, traces[name].chosen] for name in POLICIES])
    columns = np.vstack([won, won[0] - won[1], won[0] - won[2]])
    intervals = bootstrap_means(columns, settings.resamples, settings.confidence, rng[1])
    ours, past = traces["leadscore"], traces["historical"]
    logs = {
        "leadscore": (ours, LoggedDecisions(
            choice=ours.chosen,
            propensity=ours.propensities[rows, ours.chosen],
            reward=(rng[2].random(len(rows)) < true_p[rows, ours.chosen]).astype(np.float64),
        )),
        "historical": (past, LoggedDecisions(
            choice=past.chosen,
            propensity=truth.historical_propensity(leads, ids)[rows, past.chosen],
            reward=leads["won"].astype(bool).to_numpy().astype(np.float64),
        )),
    }  # fmt: skip
    curve = []
    for fairness in settings.fairness_levels:
        other = replace(config, fairness=fairness)
        trace = run(policy_chooser(items, predicted, roster, other, np.random.default_rng(seed)))
        curve.append(FairnessPoint(fairness, float(true_p[rows, trace.chosen].mean()),
                                   _result(trace, intervals[0], true_p).load_gini))  # fmt: skip
    return RoutingEvaluation(
        leads=len(items),
        closers=tuple(ids),
        capacity=tuple(int(c) for c in capacity),
        settings=settings,
        config=config,
        policies={
            name: _result(traces[name], intervals[k], true_p) for k, name in enumerate(POLICIES)
        },
        lift_over_round_robin=intervals[4],
        lift_over_historical=intervals[5],
        best_rep_chance=float((1.0 / (~ours.full).sum(axis=1)).mean()),
        capacity_bound_share=float(ours.full[rows, predicted.argmax(axis=1)].mean()),
        explored_share=float(ours.explored.mean()),
        off_policy=off_policy_estimates(
            logs, items, roster, config, predicted, true_p, settings, rng[3]
        ),
        fairness_curve=tuple(curve),
        traces=traces,
    )
