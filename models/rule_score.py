"""The cold-start score: points per field value, configured in YAML.

Until a channel has a trained model, the API scores its leads with these
rules, as in a CRM's manual lead scoring. `RuleScore.score_records` returns
the same `ScoredLeads` as `LeadScoreModel.score_records`, so serving calls
either the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from data.contract import Lead, base_type, table_fields
from models.lead_score_model import Reason, ScoredLeads

DEFAULT_RULES = Path(__file__).parent / "rules" / "default.yaml"
RULE_SCORE_NAME = "rule-score"

Value = str | bool | int | float
_CONDITIONS = ("equals", "in_", "at_least", "at_most", "present")


class RuleScoreError(ValueError):
    """A rule file that cannot be read; the message names the file, rule and field."""


class Rule(BaseModel):
    """`points` when the lead's `field` meets the one condition (at_least + at_most: a range)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: str
    equals: Value | None = None
    in_: list[Value] | None = Field(default=None, alias="in")
    at_least: float | None = None
    at_most: float | None = None
    present: bool | None = None
    points: float
    label: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if self.field not in table_fields(Lead):
            raise ValueError(
                f"unknown field '{self.field}'; lead fields are: {', '.join(table_fields(Lead))}"
            )
        given = [c for c in _CONDITIONS if getattr(self, c) is not None]
        if not given or (len(given) > 1 and set(given) != {"at_least", "at_most"}):
            raise ValueError(
                f"field '{self.field}': give exactly one of equals, in, at_least, at_most, "
                "present (at_least and at_most together make a range)"
            )
        kind = base_type(Lead.model_fields[self.field].annotation)
        numeric = kind in (int, float)
        if (self.at_least is not None or self.at_most is not None) and not numeric:
            raise ValueError(f"field '{self.field}' is not a number: at_least/at_most do not apply")
        if isinstance(kind, type) and issubclass(kind, StrEnum):
            allowed = {m.value for m in kind}
            values = self.in_ if self.in_ is not None else [self.equals]
            wrong = [v for v in values if v is not None and v not in allowed]
            if wrong:
                raise ValueError(
                    f"field '{self.field}': {wrong} not among {', '.join(sorted(allowed))}"
                )
        return self

    def fires(self, value: Any) -> bool:
        """Whether a lead with this `value` of the field gets the points."""
        if self.present is not None:
            return (value is not None) == self.present
        if value is None:
            return False
        if self.equals is not None:
            return bool(value == self.equals)
        if self.in_ is not None:
            return value in self.in_
        low = self.at_least if self.at_least is not None else -np.inf
        high = self.at_most if self.at_most is not None else np.inf
        return bool(low <= value <= high)


class Grades(BaseModel):
    """Lowest points total of grades A, B and C; below C is D."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    A: float = 60
    B: float = 40
    C: float = 20

    def of(self, total: float) -> Literal["A", "B", "C", "D"]:
        if total >= self.A:
            return "A"
        if total >= self.B:
            return "B"
        return "C" if total >= self.C else "D"


class ChannelRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    both: list[Rule] = Field(default_factory=list)
    inbound: list[Rule] = Field(default_factory=list)
    outbound: list[Rule] = Field(default_factory=list)


class RuleScore(BaseModel):
    """Score = clip(base + points of the rules that fire, 1, 99).

    `probability` is `score / 100` only so that the response keeps its shape:
    it is NOT calibrated and says nothing about how likely a lead converts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: float = 0
    grades: Grades = Grades()
    rules: ChannelRules = ChannelRules()

    def rules_for(self, channel: str) -> list[Rule]:
        own: list[Rule] = getattr(self.rules, channel, [])
        return [*self.rules.both, *own]

    def score_records(
        self, records: Sequence[Mapping[str, Any]], reasons: int = 0, threads: int = 0
    ) -> ScoredLeads:
        """Like `LeadScoreModel.score_records`; reasons are the rules that fired."""
        del threads  # the same call as the model's; nothing to parallelise
        totals = np.empty(len(records))
        fired_rows: list[list[Reason]] = []
        for row, record in enumerate(records):
            fired = [
                Reason(field=r.field, value=record.get(r.field), effect=r.points)
                for r in self.rules_for(str(record["channel"]))
                if r.fires(record.get(r.field))
            ]
            totals[row] = self.base + sum(r.effect for r in fired)
            fired_rows.append(_top(fired, reasons))
        score = np.rint(np.clip(totals, 1, 99))
        return ScoredLeads(
            probability=score / 100,
            score=score,
            grade=np.array([self.grades.of(t) for t in totals], dtype=object),
            reasons=fired_rows if reasons else None,
        )


def _top(fired: list[Reason], k: int) -> list[Reason]:
    """The k largest gains, then the k largest losses, as the model orders its reasons."""
    ups = sorted((r for r in fired if r.effect > 0), key=lambda r: -r.effect)[:k]
    downs = sorted((r for r in fired if r.effect < 0), key=lambda r: r.effect)[:k]
    return [*ups, *downs]


@dataclass(frozen=True)
class RuleScoreFile:
    """A rule score as read from its file; `version` is the file's sha256 (12 characters)."""

    path: Path
    version: str
    rules: RuleScore
    name: str = RULE_SCORE_NAME


def load_rule_score(path: str | Path) -> RuleScoreFile:
    """Read and check a rule file; "default" is the one shipped with the package."""
    source = DEFAULT_RULES if str(path) == "default" else Path(path)
    try:
        raw = source.read_bytes()
        data = yaml.safe_load(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise RuleScoreError(f"{source}: cannot read the rule score: {exc}") from exc
    try:
        rules = RuleScore.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise RuleScoreError(f"{source}: {problems}") from None
    return RuleScoreFile(source, hashlib.sha256(raw).hexdigest()[:12], rules)


def _where(loc: tuple[int | str, ...]) -> str:
    """('rules', 'outbound', 2, 'points') -> 'rules.outbound rule 2, points'."""
    if len(loc) >= 3 and loc[0] == "rules" and isinstance(loc[2], int):
        rest = ".".join(str(p) for p in loc[3:])
        return f"rules.{loc[1]} rule {loc[2]}" + (f", {rest}" if rest else "")
    return ".".join(str(p) for p in loc) or "the file"
