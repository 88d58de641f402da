"""`score_frame`: the one scoring function every batch engine applies to a frame of leads.

The local engine calls it on each streamed batch, the Spark engine inside
`mapInPandas`; both get the same rows, numbers and rejects. It checks the
rows against the contract and the models' custom fields
(`features.checks`, as the MLflow pyfunc does), builds the feature columns
once for the frame and calls each channel's `LeadScoreModel`, the model the
API calls, so a lead scores the same in a batch as over HTTP, with the same
warnings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from features.checks import check_leads
from features.columns import FieldType, from_frame, take
from features.rules import FieldRule, custom_rules, lead_rules
from models.lead_score import LeadScoreModel, ScoredLeads
from serving.batch.job_errors import InputError, MissingModelError
from serving.batch.lead_warnings import LeadWarnings

REASONS = 3
"""Fields up and fields down explained per lead with `--reasons` (the API's default too)."""


@dataclass(frozen=True)
class ChannelModel:
    """A channel's model as pulled from the registry; name and version go into every row."""

    name: str
    version: str
    model: LeadScoreModel


Models = Mapping[str, ChannelModel]
"""The model of each channel that has one."""


LACKING = "_lacking"
"""A column `score_frame` adds to its results and engines count but do not write: the
custom fields each lead lacked, as a JSON array of names, for the job's summary."""


def output_schema(reasons: bool) -> pa.Schema:
    """Columns of the scores file; `reasons` holds the API's reasons array, `warnings`
    its warnings, each as JSON text ("[]": none)."""
    fields = [
        pa.field("lead_id", pa.string()),
        pa.field("channel", pa.string()),
        pa.field("probability", pa.float64()),
        pa.field("score", pa.int64()),
        pa.field("grade", pa.string()),
        pa.field("model_name", pa.string()),
        pa.field("model_version", pa.string()),
        pa.field("scored_at", pa.timestamp("us", tz="UTC")),
    ]
    if reasons:
        fields.append(pa.field("reasons", pa.string()))
    return pa.schema([*fields, pa.field("warnings", pa.string())])


REJECTS_SCHEMA = pa.schema([pa.field("lead_id", pa.string()), pa.field("reason", pa.string())])
"""Columns of the rejects file: the row's id (null if it had none) and what is wrong."""


def _reasons_json(scored: ScoredLeads) -> list[str]:
    """Each lead's reasons as the API's JSON array of {field, value, effect}."""
    return [
        json.dumps([r.__dict__ for r in row], separators=(",", ":"), ensure_ascii=False)
        for row in scored.reasons or ()
    ]


def _per_channel(codes: np.ndarray, values: list[str]) -> pd.Categorical:
    """A column constant within each channel, without one Python string per row."""
    categories, index = np.unique(np.asarray(values, dtype=object), return_inverse=True)
    return pd.Categorical.from_codes(
        np.asarray(index, dtype=np.int64)[codes], categories=pd.Index(categories)
    )


def frame_rules(models: Models) -> tuple[FieldRule, ...]:
    """The contract's rules and those of the custom fields the models read.

    A field only some channels' models read is checked on those channels'
    rows only, as the API checks a lead's custom fields against its own
    model. Two models typing one column differently raise `InputError`.
    """
    kinds: dict[str, FieldType] = {}
    readers: dict[str, list[str]] = {}
    for channel, entry in models.items():
        for name, kind in entry.model.custom_fields.items():
            if kinds.setdefault(name, kind) is not kind:
                raise InputError(
                    f"the models read the custom column {name} as {kinds[name].value} and as "
                    f"{kind.value} ({entry.name} v{entry.version}); re-score the channels apart"
                )
            readers.setdefault(name, []).append(channel)
    custom = [
        rule
        for name, kind in kinds.items()
        for rule in custom_rules(
            {name: kind}, None if len(readers[name]) == len(models) else readers[name]
        )
    ]
    return (*lead_rules(), *custom)


def _rejects(frame: pd.DataFrame, problems: np.ndarray, bad: np.ndarray) -> pd.DataFrame:
    ids: np.ndarray = np.full(int(bad.sum()), None, dtype=object)
    if "lead_id" in frame.columns:
        raw = frame["lead_id"].to_numpy(dtype=object)[bad]
        present = ~pd.isna(raw)
        ids[present] = [str(v) for v in raw[present]]
    return pd.DataFrame({"lead_id": ids, "reason": problems[bad]})


def score_frame(
    frame: pd.DataFrame, models: Models, reasons: int, scored_at: datetime, threads: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores, rejects) of a frame of leads, scores in input order.

    A row that breaks the contract goes to rejects with the reasons and the
    others are scored. Leads of a channel without a model raise
    `MissingModelError`: silently dropping them would lose leads.
    `threads` are LightGBM's (0: its default).
    """
    checked = check_leads(frame, frame_rules(models))
    valid = checked.valid
    good = checked.frame if valid.all() else checked.frame.loc[valid].reset_index(drop=True)
    n = len(good)
    lead_id = good["lead_id"] if n else pd.Series([], dtype=object)
    channel = good["channel"] if n else pd.Series([], dtype=object)
    codes, present = pd.factorize(channel)
    for name in present:
        if name not in models:
            raise MissingModelError(f"no model to score {name} leads")
    fields: dict[str, FieldType] = {}
    for name in present:
        fields.update(models[name].model.spec.input_fields)
    columns = from_frame(good, fields)
    probability = np.empty(n, dtype=np.float64)
    score = np.empty(n, dtype=np.int64)
    grade = np.empty(n, dtype=object)
    explained = np.empty(n, dtype=object)
    warnings = LeadWarnings(n)
    for code, name in enumerate(present):
        entry = models[name]
        rows = np.flatnonzero(codes == code)
        part = columns if len(rows) == n else take(columns, rows)
        matrix = entry.model.spec.transform(part)
        scored = entry.model.score_matrix(matrix, part, reasons=reasons, threads=threads)
        warnings.add(rows, entry.model, f"{entry.name} v{entry.version}", part, matrix)
        probability[rows] = scored.probability
        score[rows] = np.rint(scored.score).astype(np.int64)
        grade[rows] = scored.grade
        if reasons:
            explained[rows] = _reasons_json(scored)
    out = {
        "lead_id": lead_id,
        "channel": channel,
        "probability": probability,
        "score": score,
        "grade": pd.Categorical(grade),  # a few distinct values: cheaper to write
        "model_name": _per_channel(codes, [models[c].name for c in present]),
        "model_version": _per_channel(codes, [models[c].version for c in present]),
        "scored_at": pd.Series(pd.Timestamp(scored_at), index=pd.RangeIndex(n)),
    }
    if reasons:
        out["reasons"] = explained
    out["warnings"] = warnings.column()
    out[LACKING] = warnings.lacking()
    return pd.DataFrame(out), _rejects(frame, checked.problems, ~valid)


class BatchTask(Protocol):
    """What an engine applies to every frame of leads: (results, rejects) and the results' columns.

    Engines know nothing else about the work, so a later per-batch step
    (routing each scored lead to a closer, say) wraps `ScoringTask`, adds
    its columns to `schema`, and runs on every engine unchanged. Results
    also carry `LACKING`, which engines count and do not write.
    """

    @property
    def schema(self) -> pa.Schema: ...

    def __call__(
        self, frame: pd.DataFrame, models: Models
    ) -> tuple[pd.DataFrame, pd.DataFrame]: ...


@dataclass(frozen=True)
class ScoringTask:
    """`score_frame` with the job's options: a `BatchTask`, picklable for Spark."""

    reasons: int
    scored_at: datetime
    threads: int = 0

    @property
    def schema(self) -> pa.Schema:
        return output_schema(bool(self.reasons))

    def __call__(self, frame: pd.DataFrame, models: Models) -> tuple[pd.DataFrame, pd.DataFrame]:
        return score_frame(frame, models, self.reasons, self.scored_at, self.threads)
