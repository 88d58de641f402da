"""Scoring validated leads with the loaded models: the online path.

No pandas here: validated `Lead` objects go straight to `Columns` with
`from_records`, then to the same `LeadScoreModel.score` that MLflow's pyfunc
and batch re-scoring call, grouped by channel so each group is one
vectorised call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from data.contract import Channel, Lead
from models.lead_score import ScoredLeads
from serving.model_store import LeadModelSet, LoadedLeadModel, MissingModel
from serving.schemas import LeadScore, ModelRef, Reason


class ModelUnavailableError(Exception):
    """A lead's channel has no model; the message says which and how to get one."""

    def __init__(self, missing: MissingModel) -> None:
        self.missing = missing
        then = "" if missing.failed else ", then POST /v1/models/reload"
        super().__init__(f"no model to score {missing.slot} leads: {missing.reason}{then}")


def score_leads(models: LeadModelSet, leads: Sequence[Lead], reasons: int) -> list[LeadScore]:
    """Scores in input order; raises `ModelUnavailableError` up front if a model is missing."""
    groups: dict[str, list[int]] = {}
    for index, lead in enumerate(leads):
        groups.setdefault(lead.channel, []).append(index)
    for channel in groups:
        if channel not in models.loaded:
            raise ModelUnavailableError(models.missing[channel])
    if len(groups) == 1:  # the usual case: no regrouping needed
        ((channel, _),) = groups.items()
        return _score_group(models.loaded[channel], leads, reasons)
    by_row: dict[int, LeadScore] = {}
    for channel, rows in groups.items():
        group = [leads[i] for i in rows]
        by_row.update(zip(rows, _score_group(models.loaded[channel], group, reasons), strict=True))
    return [by_row[i] for i in range(len(leads))]


def _score_group(entry: LoadedLeadModel, leads: Sequence[Lead], reasons: int) -> list[LeadScore]:
    # `__dict__` of a validated, frozen Lead is its field mapping: no copy, no dump.
    records = [lead.__dict__ for lead in leads]
    scored = entry.model.score_records(records, reasons=reasons, threads=1)
    warnings: list[list[str]] = [[] for _ in leads]
    for row, field, value in entry.model.spec.unknown_in_records(records):
        warnings[row].append(
            f"{field} '{value}' was not seen in training; the lead was scored as if it were missing"
        )
    model = ModelRef(name=entry.name, version=entry.version)
    score = np.rint(scored.score).astype(np.int64).tolist()
    probability = scored.probability.tolist()
    grade = scored.grade.tolist()
    return [
        LeadScore.model_construct(
            lead_id=lead.lead_id,
            channel=Channel(lead.channel),
            probability=probability[row],
            score=score[row],
            grade=grade[row],
            reasons=_reasons(scored, row),
            model=model,
            warnings=warnings[row],
        )
        for row, lead in enumerate(leads)
    ]


def _reasons(scored: ScoredLeads, row: int) -> list[Reason]:
    if scored.reasons is None:
        return []
    return [
        Reason.model_construct(field=r.field, value=r.value, effect=r.effect)
        for r in scored.reasons[row]
    ]
