"""Routing many qualified leads at once: `leadscore route --data DIR`.

Unlike the online endpoint, which decides lead by lead, a batch is solved as
one capacity-constrained assignment (optimal, not greedy; see
`models.assignment.optimal_batch`), in chunks so the assignment matrix stays
small. The roster is the data folder's `reps.parquet`, read through the same
mapping as the online endpoint's (`models.assignment.roster_rows`), so an
unavailable closer gets nothing and weights share the work; loads start at
zero unless the caller passes the current ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from models.rep_fit import RepFitModel

from data.contract import Role, segment_of
from data.json_rows import to_records
from data.tables import read_table
from features.columns import from_frame
from features.rep_features import Roster
from models.assignment.balance import load_balance
from models.assignment.optimal_batch import assign_batch
from models.assignment.policy import record_assignments
from models.assignment.roster_rows import policy_rep
from models.assignment.types import Candidate, Decision, Item, PolicyConfig, Rep

CHUNK = 1000
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BatchRouting:
    assignments: pd.DataFrame
    """One row per lead: lead_id, rep_id (None if nobody could take it), fit, reason."""
    loads: dict[str, int]
    mean_fit_chosen: float
    mean_fit_round_robin: float
    gini: float


def route_batch(
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    model: RepFitModel | None,
    config: PolicyConfig,
    loads: Mapping[str, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchRouting:
    """Assign `leads` to the closers in `reps` (optimal per chunk, capacities respected)."""
    closers = reps[reps["role"] == Role.closer.value].reset_index(drop=True)
    if closers.empty:
        raise ValueError("reps: no rep with role 'closer' to route to")
    records = to_records(closers)
    roster = Roster.from_records(records)
    policy_reps = tuple(
        policy_rep(r, load=int((loads or {}).get(str(r["rep_id"]), 0))) for r in records
    )
    fits = (
        model.fit(from_frame(leads, model.input_fields), roster)
        if model is not None
        else np.full((len(leads), len(roster.rep_ids)), np.nan)
    )
    decisions: list[Decision] = []
    for start in range(0, len(leads), CHUNK):
        items = _items(leads.iloc[start : start + CHUNK], fits[start:], roster.rep_ids)
        made = assign_batch(items, policy_reps, config)
        policy_reps = record_assignments(policy_reps, made)
        decisions.extend(made)
        if progress is not None:
            progress(len(decisions), len(leads))
    return _summary(decisions, fits, roster.rep_ids, policy_reps)


def _items(leads: pd.DataFrame, fits: FloatArray, rep_ids: Sequence[str]) -> list[Item]:
    """The leads as the policy's items; row i of `fits` holds lead i's fit per closer
    (NaN: no fit)."""
    return [
        Item(
            item_id=str(lead["lead_id"]),
            candidates=[
                Candidate(rep_id, None if np.isnan(fit) else float(fit))
                for rep_id, fit in zip(rep_ids, fits[i], strict=True)
            ],
            region=None if pd.isna(lead["company_region"]) else str(lead["company_region"]),
            segment=segment_of(None if pd.isna(lead["company_size"]) else lead["company_size"]),
        )
        for i, (_, lead) in enumerate(leads.iterrows())
    ]


def _summary(
    decisions: Sequence[Decision],
    fits: FloatArray,
    rep_ids: Sequence[str],
    final: Sequence[Rep],
) -> BatchRouting:
    """The assignments, the closers' loads after them and how good and even they are."""
    column = {rep_id: j for j, rep_id in enumerate(rep_ids)}
    chosen_fit = [
        float(fits[i, column[d.chosen]]) if d.chosen is not None else np.nan
        for i, d in enumerate(decisions)
    ]
    assignments = pd.DataFrame(
        {
            "lead_id": [d.item_id for d in decisions],
            "rep_id": [d.chosen for d in decisions],
            "fit": chosen_fit,
            "policy": [d.policy for d in decisions],
            "reason": [d.reason for d in decisions],
        }
    )
    loads = {r.rep_id: r.load for r in final}
    return BatchRouting(
        assignments=assignments,
        loads=loads,
        mean_fit_chosen=_mean_known(np.asarray(chosen_fit, dtype=np.float64)),
        mean_fit_round_robin=_mean_known(np.asarray(fits, dtype=np.float64)),
        gini=load_balance(list(loads.values())).gini,
    )


def read_leads_to_route(data: Path, limit: int | None) -> pd.DataFrame:
    """The newest `limit` leads of a data folder (all if None), in time order."""
    leads = read_table(data, "leads").sort_values("created_at", kind="stable")
    return leads.tail(limit) if limit else leads


def _mean_known(values: FloatArray) -> float:
    """Mean of the known fits; NaN, without a warning, when there are none (no fit model:
    weighted round-robin chose)."""
    known = values[~np.isnan(values)]
    return float(known.mean()) if known.size else float("nan")
