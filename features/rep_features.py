"""Features of (lead, rep) pairs for the closer-fit and account-manager-fit models.

A pair row is the lead's (or customer's) own fields plus the rep's roster
attributes (`rep_id`, `rep_region`, `rep_segment`, `rep_industries`) plus the
rep's smoothed outcome rates (`features.rates`). Declared once, as data, like
the lead-score spec: lead features, rep features, lead x rep match features
and rates. The fitted spec carries the vocabularies, the rate counts and the
roster, so serving needs only lead fields and a rep id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from data.contract import Customer, Lead, Role
from features.columns import Columns, FieldType
from features.lead_features import COMMON, contract_field_types
from features.rates import REP_FIELD, Outcomes, Rate, RateFeatures
from features.spec import Feature, FeatureSpec

REP_FIELD_TYPES: dict[str, FieldType] = {
    REP_FIELD: FieldType.text,
    "rep_region": FieldType.text,
    "rep_segment": FieldType.text,
    "rep_industries": FieldType.text,  # a tuple of industry names per row
}

_SEGMENT: dict[str, Any] = {
    "name": "segment",
    "kind": "categorical",
    "derive": "segment",
    "fields": ["company_size"],
}
_FROM_LEAD_SPEC = (
    "source",
    "company_industry",
    "company_size",
    "company_revenue",
    "company_region",
    "contact_seniority_rank",
    "created_month_in_quarter",
)

CLOSER_LEAD: tuple[dict[str, Any], ...] = (
    *(f for f in COMMON if f["name"] in _FROM_LEAD_SPEC),
    {"name": "channel", "kind": "categorical"},
    _SEGMENT,
    {"name": "demo_requested", "kind": "boolean"},
    {"name": "meeting_booked", "kind": "boolean"},
)
CLOSER: tuple[dict[str, Any], ...] = (
    {"name": "closer_id", "kind": "categorical", "fields": ["rep_id"]},
    {"name": "closer_region", "kind": "categorical", "fields": ["rep_region"]},
    {
        "name": "closer_focus_industries",
        "kind": "numeric",
        "derive": "count_items",
        "fields": ["rep_industries"],
    },
)
MATCH: tuple[dict[str, Any], ...] = (
    {
        "name": "industry_in_focus",
        "kind": "boolean",
        "derive": "contains",
        "fields": ["company_industry", "rep_industries"],
    },
    {
        "name": "region_match",
        "kind": "boolean",
        "derive": "same",
        "fields": ["company_region", "rep_region"],
    },
    {
        "name": "segment_match",
        "kind": "boolean",
        "derive": "same_segment",
        "fields": ["company_size", "rep_segment"],
    },
)
CLOSER_RATES: tuple[dict[str, Any], ...] = (
    {"name": "closer_win_rate"},
    {"name": "closer_segment_win_rate", "by": _SEGMENT},
    {"name": "closer_industry_win_rate", "by": {"name": "company_industry", "kind": "categorical"}},
)

CUSTOMER: tuple[dict[str, Any], ...] = (
    {"name": "company_industry", "kind": "categorical"},
    {"name": "company_size", "kind": "numeric"},
    _SEGMENT,
    {"name": "company_region", "kind": "categorical"},
    {"name": "account_value", "kind": "numeric"},
)
ACCOUNT_MANAGER: tuple[dict[str, Any], ...] = (
    {"name": "account_manager_id", "kind": "categorical", "fields": ["rep_id"]},
    {"name": "account_manager_region", "kind": "categorical", "fields": ["rep_region"]},
)
ACCOUNT_MANAGER_RATES: tuple[dict[str, Any], ...] = (
    {"name": "account_manager_retention_rate"},
    {"name": "account_manager_segment_retention_rate", "by": _SEGMENT},
)


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value


def _items(value: Any) -> tuple[str, ...]:
    return () if _none(value) is None else tuple(str(v) for v in value)


@dataclass(frozen=True)
class Roster:
    """The reps a model can score, with the attributes its features read."""

    rep_ids: tuple[str, ...]
    region: tuple[str | None, ...]
    segment: tuple[str | None, ...]
    industries: tuple[tuple[str, ...] | None, ...]

    @classmethod
    def from_records(
        cls, reps: Sequence[Mapping[str, Any]], role: Role | str | None = None
    ) -> Roster:
        """From contract `Rep` rows (dicts), keeping only `role` if given."""
        rows = [r for r in reps if role is None or r.get("role") in (None, Role(role).value)]
        return cls(
            rep_ids=tuple(str(r["rep_id"]) for r in rows),
            region=tuple(_none(r.get("region")) for r in rows),
            segment=tuple(_none(r.get("segment")) for r in rows),
            industries=tuple(_items(r.get("industries")) for r in rows),
        )

    @classmethod
    def from_frame(cls, reps: pd.DataFrame, role: Role | str | None = None) -> Roster:
        return cls.from_records(reps.to_dict("records"), role)  # type: ignore[arg-type]

    def select(self, rep_ids: Sequence[str]) -> Roster:
        """These reps in this order; an id not on the roster has unknown attributes."""
        where = {rep: i for i, rep in enumerate(self.rep_ids)}
        found = [where.get(str(rep)) for rep in rep_ids]
        return Roster(
            rep_ids=tuple(str(rep) for rep in rep_ids),
            region=tuple(None if i is None else self.region[i] for i in found),
            segment=tuple(None if i is None else self.segment[i] for i in found),
            industries=tuple(None if i is None else self.industries[i] for i in found),
        )

    def columns(self, positions: np.ndarray) -> dict[str, np.ndarray]:
        """The rep fields of a pair row for each roster position."""
        out = {}
        for name, values in (
            (REP_FIELD, self.rep_ids),
            ("rep_region", self.region),
            ("rep_segment", self.segment),
            ("rep_industries", self.industries),
        ):
            column = np.empty(len(values), dtype=object)
            for i, value in enumerate(values):  # element-wise: tuples must not broadcast
                column[i] = value
            out[name] = column[positions]
        return out


@dataclass(frozen=True)
class RepFeatureSpec:
    """Features of (lead, rep) pairs: a `FeatureSpec` over pair columns plus rep rates."""

    role: Role
    id_field: str
    """The input column naming the rep: `closer_id` or `account_manager_id`."""
    features: FeatureSpec
    rates: RateFeatures
    roster: Roster | None = None

    @property
    def names(self) -> list[str]:
        return self.features.names

    @property
    def lead_fields(self) -> dict[str, FieldType]:
        """The lead (or customer) fields the spec reads: what an input row must carry."""
        not_lead = set(REP_FIELD_TYPES) | set(self.rates.names)
        needed = set(self.features.input_fields) | self.rates.fields
        return {
            name: kind
            for name, kind in self.features.field_types.items()
            if name in needed and name not in not_lead
        }

    @property
    def is_fitted(self) -> bool:
        return self.features.is_fitted and self.rates.is_fitted and self.roster is not None

    def pair_columns(
        self, leads: Columns, lead_rows: np.ndarray, reps: Roster, rep_rows: np.ndarray
    ) -> Columns:
        """Pair rows: lead `lead_rows[i]` with rep `rep_rows[i]`."""
        lead_part = {name: leads[name][lead_rows] for name in self.lead_fields}
        return {**lead_part, **reps.columns(rep_rows)}

    def fit(
        self, pairs: Columns, history: Outcomes, as_of: np.datetime64, prior: float, roster: Roster
    ) -> RepFeatureSpec:
        """Vocabularies from training pairs; rate counts of outcomes known before `as_of`."""
        return replace(
            self,
            features=self.features.fit(pairs),
            rates=self.rates.fit(history, as_of, prior),
            roster=roster,
        )

    def transform(self, pairs: Columns) -> np.ndarray:
        """The model matrix, rates from the frozen counts: the serving path."""
        return self.features.transform({**pairs, **self.rates.transform(pairs)})

    def transform_point_in_time(
        self, pairs: Columns, at: np.ndarray, history: Outcomes
    ) -> np.ndarray:
        """The model matrix of training rows decided at `at`: rates from earlier outcomes only."""
        return self.features.transform({**pairs, **self.rates.point_in_time(pairs, at, history)})

    def lead_only(self) -> RepFeatureSpec:
        """The same spec without rep, match and rate features: the baseline's."""
        rep_fields = set(REP_FIELD_TYPES) | set(self.rates.names)
        kept = tuple(f for f in self.features.features if not rep_fields & set(f.fields))
        names = {f.name for f in kept}
        features = FeatureSpec(
            features=kept,
            field_types=self.features.field_types,
            vocabularies={k: v for k, v in self.features.vocabularies.items() if k in names},
        )
        rates = RateFeatures(
            rates=(), strength=self.rates.strength, prior=self.rates.prior, as_of=self.rates.as_of
        )
        return replace(self, features=features, rates=rates)


def _spec(
    role: Role,
    id_field: str,
    declared: Sequence[Mapping[str, Any]],
    rates: Sequence[Mapping[str, Any]],
    field_types: Mapping[str, FieldType],
    strength: float,
) -> RepFeatureSpec:
    rate_features = tuple(Rate.from_dict(raw) for raw in rates)
    return RepFeatureSpec(
        role=role,
        id_field=id_field,
        features=FeatureSpec(
            features=tuple(Feature.from_dict(raw) for raw in declared)
            + tuple(Feature.from_dict({"name": r.name, "kind": "numeric"}) for r in rate_features),
            field_types={
                **field_types,
                **REP_FIELD_TYPES,
                **{r.name: FieldType.number for r in rate_features},
            },
        ),
        rates=RateFeatures(rates=rate_features, strength=strength),
    )


def closer_spec(prior_strength: float = 20.0) -> RepFeatureSpec:
    """The unfitted default spec of the closer-fit model (lead fields + `closer_id`)."""
    return _spec(
        Role.closer,
        "closer_id",
        CLOSER_LEAD + CLOSER + MATCH,
        CLOSER_RATES,
        contract_field_types(Lead),
        prior_strength,
    )


def account_manager_spec(prior_strength: float = 20.0) -> RepFeatureSpec:
    """The unfitted default spec of the account-manager-fit model (customer fields + AM id)."""
    return _spec(
        Role.account_manager,
        "account_manager_id",
        CUSTOMER + ACCOUNT_MANAGER + MATCH,
        ACCOUNT_MANAGER_RATES,
        contract_field_types(Customer),
        prior_strength,
    )
