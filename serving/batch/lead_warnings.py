"""Each re-scored lead's warnings, as the API gives them, without Python for every row.

Two kinds, worded by `models.input_warnings` as the API words them: custom
fields the lead's model reads that the lead lacks, and category values the
model never saw in training. Leads lacking the same fields share one text
(a categorical column); unseen categories are found in the model matrix the
scoring builds anyway (NaN where the raw value was present). Python runs per
combination of missing fields and per lead with an unseen value, not per lead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from features.columns import Columns
from features.spec import Kind
from models.input_warnings import missing_custom_fields, unseen_category
from models.lead_score import LeadScoreModel

NONE = "[]"


def _json(items: Sequence[str]) -> str:
    return json.dumps(list(items), separators=(",", ":"), ensure_ascii=False)


class _Texts:
    """Distinct texts and their codes, for a categorical column."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {NONE: 0}

    def code(self, text: str) -> int:
        return self.codes.setdefault(text, len(self.codes))

    def categorical(self, codes: np.ndarray) -> pd.Categorical:
        # An int array is what pandas takes; its stubs only say Sequence[int].
        as_codes = cast(Sequence[int], codes)
        return pd.Categorical.from_codes(as_codes, categories=pd.Index(list(self.codes)))


class LeadWarnings:
    """The warnings of the leads of one frame, filled in channel by channel."""

    def __init__(self, rows: int) -> None:
        self._missing = np.full(rows, -1, dtype=np.int64)
        """Per lead: its entry in `_missing_texts` (-1: it lacks no custom field)."""
        self._missing_texts: list[str] = []
        self._missing_names: list[tuple[str, ...]] = []
        self._unseen: dict[int, list[str]] = {}

    def add(
        self,
        rows: np.ndarray,
        model: LeadScoreModel,
        reader: str,
        columns: Columns,
        matrix: np.ndarray,
    ) -> None:
        """The warnings of the leads at `rows`, scored by `model` ("name vN" in `reader`)
        from `columns` (their normalised values) through `matrix` (`spec.transform`)."""
        self._lacking(rows, list(model.custom_fields), reader, columns)
        for j, feature in enumerate(model.spec.features):
            # As the API: categories of raw fields, not of derived features.
            if feature.kind is not Kind.categorical or feature.derive is not None:
                continue
            blank = np.flatnonzero(np.isnan(matrix[:, j]))  # missing or unseen
            if not len(blank):
                continue
            field = feature.fields[0]
            values = columns[field][blank]
            present = pd.notna(values)
            texts: dict[Any, str] = {}  # a value repeats over many leads: word it once
            for row, value in zip(
                rows[blank[present]].tolist(), values[present].tolist(), strict=True
            ):
                if (text := texts.get(value)) is None:
                    text = texts[value] = unseen_category(field, str(value))
                self._unseen.setdefault(row, []).append(text)

    def _lacking(self, rows: np.ndarray, custom: list[str], reader: str, columns: Columns) -> None:
        if not custom:
            return
        missing = np.column_stack([pd.isna(columns[name]) for name in custom])
        lacking = np.flatnonzero(missing.any(axis=1))
        if not len(lacking):
            return
        # One key per combination of missing fields, however many fields: the row's bits.
        packed = np.ascontiguousarray(np.packbits(missing[lacking], axis=1))
        keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        self._missing[rows[lacking]] = len(self._missing_texts) + inverse.ravel()
        names = np.asarray(custom, dtype=object)
        for row in first:
            lacked = tuple(str(n) for n in names[missing[lacking[row]]])
            self._missing_texts.append(missing_custom_fields(lacked, reader))
            self._missing_names.append(lacked)

    def column(self) -> pd.Categorical:
        """Each lead's warnings as the API's JSON array of texts ("[]" when none)."""
        texts = _Texts()
        by_missing = np.array([0, *(texts.code(_json([t])) for t in self._missing_texts)])
        codes = by_missing[self._missing + 1]
        known: dict[tuple[int, tuple[str, ...]], int] = {}  # JSON once per distinct list
        for row, unseen in self._unseen.items():
            missing = int(self._missing[row])
            key = (missing, tuple(unseen))
            if (code := known.get(key)) is None:
                ahead = [self._missing_texts[missing]] if missing >= 0 else []
                code = known[key] = texts.code(_json([*ahead, *unseen]))
            codes[row] = code
        return texts.categorical(codes)

    def lacking(self) -> pd.Categorical:
        """Each lead's missing custom fields as a JSON array of names, for the summary."""
        names = _Texts()
        by_missing = np.array([0, *(names.code(_json(n)) for n in self._missing_names)])
        return names.categorical(by_missing[self._missing + 1])
