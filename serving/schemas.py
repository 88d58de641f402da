"""Response bodies of the API (the request body is `data.contract.Lead`)."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from data.contract import Channel
from models.rule_score import RuleScoreFile
from serving.model_store import FitModelSet, LeadModelSet, LoadedLeadModel, MissingModel

ReasonValue = str | bool | int | float | None


class Reason(BaseModel):
    """A field that moved the score, its value and by how many score points."""

    field: str = Field(description="The lead field, as named in the request.")
    value: ReasonValue = Field(description="The lead's value of that field (null: missing).")
    effect: float = Field(description="Score points this field adds (positive) or removes.")


class ModelRef(BaseModel):
    model_config = ConfigDict(frozen=True)  # one per model, shared by its answers

    name: str = Field(description="Registered model name, e.g. lead-score-inbound.")
    version: str = Field(description="Registered model version.")


class LeadScore(BaseModel):
    """The score of one lead."""

    lead_id: str
    channel: Channel
    probability: float = Field(ge=0, le=1, description="Calibrated probability of the target.")
    score: int = Field(ge=1, le=99, description="Percentile among past leads of the channel.")
    grade: Literal["A", "B", "C", "D"]
    reasons: list[Reason] = Field(
        description="Top fields raising the score, then top fields lowering it."
    )
    model: ModelRef
    warnings: list[str] = Field(
        description="Things the client should know, e.g. a category value never seen in "
        "training (scored as missing)."
    )

    @classmethod
    def served(cls, **values: Any) -> Self:
        """A score our own code computed and typed, every field given: what
        `model_construct` makes, for a quarter of its cost (it looks up each field's
        aliases and default on every call; the scoring route makes one per lead)."""
        score = cls.__new__(cls)
        object.__setattr__(score, "__dict__", values)
        object.__setattr__(score, "__pydantic_fields_set__", set(_SCORE_FIELDS))
        object.__setattr__(score, "__pydantic_extra__", None)
        object.__setattr__(score, "__pydantic_private__", None)
        return score


_SCORE_FIELDS = frozenset(LeadScore.model_fields)


class ModelInfo(BaseModel):
    channel: Channel
    name: str
    alias: str
    version: str
    run_id: str | None
    metrics: dict[str, float] = Field(
        description="Metrics of the training run of this version, as recorded in MLflow."
    )
    custom_fields: dict[str, str] = Field(
        default_factory=dict,
        description="The CRM's own fields this model reads from a lead's custom_fields, "
        "with their types (text, number, boolean, time).",
    )
    algorithm: str = Field(
        default="lightgbm",
        description="lightgbm, or logistic regression when the run's baseline ranked leads "
        "significantly better and was registered instead (its figures are the run's "
        "baseline_val_* metrics).",
    )
    promoted_at: str | None = Field(
        default=None,
        description="When the gate gave this version the alias (UTC ISO); null for a "
        "version promoted before this was recorded, or by hand.",
    )
    replaced_version: str | None = Field(
        default=None, description="The version that held the alias before ('none': the first)."
    )

    @classmethod
    def of(cls, model: LoadedLeadModel) -> ModelInfo:
        return cls(
            channel=Channel(model.slot),
            name=model.name,
            alias=model.alias,
            version=model.version,
            run_id=model.run_id,
            metrics=dict(model.metrics),
            custom_fields={n: k.value for n, k in model.model.custom_fields.items()},
            algorithm=str(model.model.metadata.get("algorithm", "lightgbm")),
            promoted_at=model.promoted_at,
            replaced_version=model.replaced_version,
        )


class MissingModelInfo(BaseModel):
    channel: Channel
    name: str
    alias: str
    reason: str
    served_by: str | None = Field(
        default=None, description="What scores the channel meanwhile (the rule score), if any."
    )

    @classmethod
    def of(cls, model: MissingModel, rule_score: RuleScoreFile | None = None) -> MissingModelInfo:
        served_by = None
        if rule_score is not None:
            served_by = (
                f"the rule score serves this channel until a model is registered "
                f"({rule_score.name} {rule_score.version}, {rule_score.path.name})"
            )
        return cls(
            channel=Channel(model.slot),
            name=model.name,
            alias=model.alias,
            reason=model.reason,
            served_by=served_by,
        )


class FitModelInfo(BaseModel):
    role: str = Field(description="closer or account_manager.")
    name: str
    alias: str
    version: str | None = Field(description="None when no version carries the alias.")
    metrics: dict[str, float] = Field(default_factory=dict)
    missing_reason: str | None = Field(
        default=None, description="Why there is none; routing then falls back to round-robin."
    )
    promoted_at: str | None = Field(default=None, description="When it took the alias (UTC).")
    replaced_version: str | None = Field(default=None, description="The version it replaced.")


class ModelList(BaseModel):
    models: list[ModelInfo] = Field(description="The lead-score models in use, one per channel.")
    missing: list[MissingModelInfo] = Field(description="Channels without a model, and why.")
    errors: list[str] = Field(
        description="Versions that failed to load; the channel kept its previous model."
    )
    fit_models: list[FitModelInfo] = Field(
        default_factory=list, description="closer-fit and account-manager-fit, used or missing."
    )

    @classmethod
    def of(
        cls,
        models: LeadModelSet,
        fits: FitModelSet | None = None,
        rule_score: RuleScoreFile | None = None,
    ) -> ModelList:
        fit_models = []
        if fits is not None:
            fit_models = [
                FitModelInfo(
                    role=m.slot,
                    name=m.name,
                    alias=m.alias,
                    version=m.version,
                    metrics=dict(m.metrics),
                    promoted_at=m.promoted_at,
                    replaced_version=m.replaced_version,
                )
                for m in fits.loaded.values()
            ] + [
                FitModelInfo(
                    role=m.slot, name=m.name, alias=m.alias, version=None, missing_reason=m.reason
                )
                for m in fits.missing.values()
            ]
        return cls(
            models=[ModelInfo.of(m) for m in models.loaded.values()],
            missing=[MissingModelInfo.of(m, rule_score) for m in models.missing.values()],
            errors=[*models.errors, *(fits.errors if fits is not None else ())],
            fit_models=fit_models,
        )


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Ready or not, and why not: nothing about the models themselves (`GET /v1/models`,
    behind the `read` scope, has those)."""

    status: Literal["ready", "not_ready"]
    reasons: list[str] = Field(default_factory=list, description="Why not ready; empty if ready.")

    @classmethod
    def of(
        cls,
        models: LeadModelSet | None,
        rule_score: RuleScoreFile | None = None,
        database: str | None = None,
    ) -> Readiness:
        """Ready once the models are loaded, every channel has one or the rule score, and
        the database (if any) answers; `database` is its problem, None when it is fine."""
        reasons = []
        if models is None:
            reasons.append("the models are still loading")
        elif rule_score is None:
            reasons += [f"no model for the {slot} channel" for slot in models.missing]
        if database is not None:
            reasons.append(database)
        return cls(status="not_ready" if reasons else "ready", reasons=reasons)
