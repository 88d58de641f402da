"""`--route`: the best eligible closer for every re-scored lead, and its fit.

A `BatchTask` wrapping `ScoringTask`, so both engines run it unchanged. It
recommends, it does not assign: no capacity is reserved (that is what
`POST /v1/leads/route` and `leadscore route` do). Eligible means active,
available and, for a closer with a territory, the lead's region.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from features.columns import from_frame
from features.rep_features import Roster
from models.rep_fit_model import RepFitModel
from serving.batch.scoring import Models, ScoringTask

ROUTE_FIELDS = (pa.field("best_closer_id", pa.string()), pa.field("best_closer_fit", pa.float64()))


@dataclass(frozen=True)
class RoutingTask:
    scoring: ScoringTask
    model: RepFitModel
    roster: Roster
    """The eligible closers (active and available)."""

    @property
    def schema(self) -> pa.Schema:
        schema = self.scoring.schema
        for field in ROUTE_FIELDS:
            schema = schema.append(field)
        return schema

    def __call__(self, frame: pd.DataFrame, models: Models) -> tuple[pd.DataFrame, pd.DataFrame]:
        results, rejects = self.scoring(frame, models)
        if results.empty:
            return results.assign(best_closer_id=pd.Series(dtype=object),
                                  best_closer_fit=pd.Series(dtype=float)), rejects  # fmt: skip
        leads = frame.drop_duplicates("lead_id").set_index("lead_id").loc[results["lead_id"]]
        leads = leads.reset_index()
        fits = self.model.fit(from_frame(leads, self.model.input_fields), self.roster)
        # "" stands for "any" (a closer without territory) or "unknown" (a lead without region).
        regions = np.array([r or "" for r in self.roster.region], dtype=str)
        lead_region = np.array(
            ["" if pd.isna(v) else str(v) for v in leads["company_region"]], dtype=str
        )
        eligible = (regions == "")[None, :] | (lead_region == "")[:, None]
        eligible |= regions[None, :] == lead_region[:, None]
        masked = np.where(eligible, fits, -np.inf)
        best = masked.argmax(axis=1)
        has_any = eligible.any(axis=1)
        ids = np.asarray(self.roster.rep_ids, dtype=object)
        results = results.copy()
        results["best_closer_id"] = pd.Series(np.where(has_any, ids[best], None), results.index)
        results["best_closer_fit"] = np.where(has_any, fits[np.arange(len(best)), best], np.nan)
        return results, rejects
