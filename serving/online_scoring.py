"""Scoring validated leads with the loaded models: the online path.

No pandas here: validated `Lead` objects go straight to `Columns` with
`from_records`, then to the same `LeadScoreModel.score` that MLflow's pyfunc
and batch re-scoring call, grouped by channel so each group is one
vectorised call. A channel without a model is scored by the rule score
(`models.rule_score`), if one is configured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from data.contract import Channel, Lead
from features.columns import FieldType, utc_time
from models.input_warnings import missing_custom_fields, unseen_category
from models.lead_score import ScoredLeads
from models.rule_score import RuleScoreFile
from serving.model_store import LeadModelSet, LoadedLeadModel, MissingModel
from serving.schemas import LeadScore, ModelRef, Reason

RULE_SCORE_WARNING = (
    "scored by the rule score: no model is registered for this channel yet "
    "(train one with `leadscore train`)"
)


class ModelUnavailableError(Exception):
    """A lead's channel has no model; the message says which and how to get one."""

    def __init__(self, missing: MissingModel) -> None:
        self.missing = missing
        then = "" if missing.failed else ", then POST /v1/models/reload"
        super().__init__(f"no model to score {missing.slot} leads: {missing.reason}{then}")


class CustomFieldError(ValueError):
    """A custom field's value does not have the type its model was trained on."""

    def __init__(self, row: int, name: str, message: str) -> None:
        self.row, self.name = row, name
        super().__init__(message)


_CUSTOM_TYPES: dict[FieldType, tuple[tuple[type, ...], str]] = {
    FieldType.number: ((int, float), "a number"),
    FieldType.boolean: ((bool,), "true or false"),
    FieldType.text: ((str, int, float), "text"),
    FieldType.time: ((str,), "an ISO 8601 date or time"),
}


def with_custom_fields(
    leads: Sequence[Lead], rows: Sequence[int], custom: Mapping[str, FieldType], model: ModelRef
) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """Lead records with their custom fields at the top level, checked against `custom`.

    A custom field the model does not read is a warning (a typo loses signal
    silently otherwise), and so are the ones it reads that the lead lacks; a
    value of the wrong type is an error naming it.
    """
    records: list[dict[str, Any]] = []
    warnings: list[list[str]] = []
    reader = f"{model.name} v{model.version}"
    for row, lead in zip(rows, leads, strict=True):
        given = lead.custom_fields or {}
        notes = [
            f"custom field '{name}' is not read by {reader}; "
            f"it reads: {', '.join(custom) or 'none'}"
            for name in given
            if name not in custom
        ]
        lacking = []
        for name, kind in custom.items():
            value = given.get(name)
            if value is None:  # absent or null: scored as unknown
                lacking.append(name)
                continue
            types, wanted = _CUSTOM_TYPES[kind]
            wrong = not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
            if not wrong and kind is FieldType.time:
                try:
                    utc_time(value)
                except ValueError:
                    wrong = True
            if wrong:
                raise CustomFieldError(
                    row,
                    name,
                    f"{name} must be {wanted} ({model.name} was trained on it), got {value!r}",
                )
        if lacking:
            notes.append(missing_custom_fields(lacking, reader))
        records.append({**lead.__dict__, **{n: v for n, v in given.items() if n in custom}})
        warnings.append(notes)
    return records, warnings


def score_leads(
    models: LeadModelSet,
    leads: Sequence[Lead],
    reasons: int,
    rule_score: RuleScoreFile | None = None,
) -> list[LeadScore]:
    """Scores in input order.

    A channel without a model goes to `rule_score`; without one, raises
    `ModelUnavailableError` up front.
    """
    groups: dict[str, list[int]] = {}
    for index, lead in enumerate(leads):
        groups.setdefault(lead.channel, []).append(index)
    for channel in groups:
        if channel not in models.loaded and rule_score is None:
            raise ModelUnavailableError(models.missing[channel])

    def group_scores(channel: str, group: Sequence[Lead], rows: Sequence[int]) -> list[LeadScore]:
        if channel in models.loaded:
            return _score_group(models.loaded[channel], group, rows, reasons)
        assert rule_score is not None  # checked above
        return _rule_group(rule_score, group, reasons)

    if len(groups) == 1:  # the usual case: no regrouping needed
        ((channel, rows),) = groups.items()
        return group_scores(channel, leads, rows)
    by_row: dict[int, LeadScore] = {}
    for channel, rows in groups.items():
        by_row.update(zip(rows, group_scores(channel, [leads[i] for i in rows], rows), strict=True))
    return [by_row[i] for i in range(len(leads))]


@lru_cache(maxsize=64)
def model_ref(name: str, version: str) -> ModelRef:
    """The answer's model reference, made once per model (each request would otherwise
    validate a new one)."""
    return ModelRef(name=name, version=version)


def _score_group(
    entry: LoadedLeadModel, leads: Sequence[Lead], rows: Sequence[int], reasons: int
) -> list[LeadScore]:
    model = model_ref(entry.name, entry.version)
    records: Sequence[Mapping[str, Any]]
    custom = entry.model.custom_fields
    if custom or any(lead.custom_fields for lead in leads):
        records, warnings = with_custom_fields(leads, rows, custom, model)
    else:
        # `__dict__` of a validated, frozen Lead is its field mapping: no copy, no dump.
        records = [lead.__dict__ for lead in leads]
        warnings = [[] for _ in leads]
    scored = entry.model.score_records(records, reasons=reasons, threads=1)
    for row, field, value in entry.model.spec.unknown_in_records(records):
        warnings[row].append(unseen_category(field, value))
    return _scores(leads, scored, model, warnings)


def _rule_group(rules: RuleScoreFile, leads: Sequence[Lead], reasons: int) -> list[LeadScore]:
    scored = rules.rules.score_records([lead.__dict__ for lead in leads], reasons=reasons)
    warnings = [[RULE_SCORE_WARNING] for _ in leads]
    return _scores(leads, scored, model_ref(rules.name, rules.version), warnings)


def _scores(
    leads: Sequence[Lead], scored: ScoredLeads, model: ModelRef, warnings: list[list[str]]
) -> list[LeadScore]:
    # `round` halves to even, as `np.rint` does, and gives Python ints at once.
    score = [round(value) for value in scored.score.tolist()]
    probability = scored.probability.tolist()
    grade = scored.grade.tolist()
    return [
        LeadScore.served(
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
