"""Routing many qualified leads at once: `leadscore route --data DIR`.

Unlike the online endpoint, which decides lead by lead, a batch is solved as
one capacity-constrained assignment (optimal, not greedy; see
`models.assignment_batch`), in chunks so the assignment matrix stays small.
The roster is the data folder's `reps.parquet`; loads start at zero unless
the caller passes the current ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data.contract import Role, segment_of
from data.records import to_records
from data.tables import read_table
from features.columns import from_frame
from features.rep_features import Roster
from models.assignment import Candidate, Decision, Item, PolicyConfig, Rep, record_assignments
from models.assignment_batch import assign_batch
from models.policy_eval import load_balance
from models.rep_fit_model import RepFitModel

CHUNK = 1000


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
    policy_reps: tuple[Rep, ...] = tuple(
        Rep(
            rep_id=str(r["rep_id"]),
            capacity=int(r["capacity"]),
            load=int((loads or {}).get(str(r["rep_id"]), 0)),
            active=bool(r.get("active", True)),
            regions=None if r.get("region") is None else (str(r["region"]),),
            segments=None if r.get("segment") is None else (str(r["segment"]),),
        )
        for r in records
    )
    fits = (
        model.fit(from_frame(leads, model.input_fields), roster)
        if model is not None
        else np.full((len(leads), len(roster.rep_ids)), np.nan)
    )
    decisions: list[Decision] = []
    for start in range(0, len(leads), CHUNK):
        chunk = leads.iloc[start : start + CHUNK]
        items = [
            Item(
                item_id=str(lead["lead_id"]),
                candidates=[
                    Candidate(rep_id, None if np.isnan(fit) else float(fit))
                    for rep_id, fit in zip(roster.rep_ids, fits[start + i], strict=True)
                ],
                region=None if pd.isna(lead["company_region"]) else str(lead["company_region"]),
                segment=segment_of(None if pd.isna(lead["company_size"]) else lead["company_size"]),
            )
            for i, (_, lead) in enumerate(chunk.iterrows())
        ]
        made = assign_batch(items, policy_reps, config)
        policy_reps = record_assignments(policy_reps, made)
        decisions.extend(made)
        if progress is not None:
            progress(len(decisions), len(leads))
    column = {rep_id: j for j, rep_id in enumerate(roster.rep_ids)}
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
    final = {r.rep_id: r.load for r in policy_reps}
    return BatchRouting(
        assignments=assignments,
        loads=final,
        mean_fit_chosen=_mean_known(np.asarray(chosen_fit, dtype=np.float64)),
        mean_fit_round_robin=_mean_known(np.asarray(fits, dtype=np.float64)),
        gini=load_balance(list(final.values())).gini,
    )


def read_leads_to_route(data: Path, limit: int | None) -> pd.DataFrame:
    """The newest `limit` leads of a data folder (all if None), in time order."""
    leads = read_table(data, "leads").sort_values("created_at", kind="stable")
    return leads.tail(limit) if limit else leads


def _mean_known(values: np.ndarray) -> float:
    """Mean of the known fits; NaN, without a warning, when there are none (no fit model:
    weighted round-robin chose)."""
    known = values[~np.isnan(values)]
    return float(known.mean()) if known.size else float("nan")
