"""Shared dependencies of the routes, as `Annotated` aliases.

They are `async def` on purpose: they only read app state or the request
body, and a plain `def` dependency would cost a thread-pool hop per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json

from data.contract import Lead
from data.store import Store
from models.rule_score import RuleScoreFile
from serving.config import ServingConfig
from serving.history_writer import ScoreHistory
from serving.model_store import FitModelSet, LeadModels, LeadModelSet
from serving.prometheus import Metrics


async def get_config(request: Request) -> ServingConfig:
    config: ServingConfig = request.app.state.config
    return config


ConfigDep = Annotated[ServingConfig, Depends(get_config)]


async def get_store(request: Request) -> Store:
    store: Store | None = request.app.state.store
    if store is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "no operational store is configured: set LEADSCORE_DATABASE_URL "
            "(or run through `leadscore serve`, which defaults to SQLite)",
        )
    return store


StoreDep = Annotated[Store, Depends(get_store)]


async def get_history(request: Request) -> ScoreHistory | None:
    history: ScoreHistory | None = request.app.state.history
    return history


HistoryDep = Annotated[ScoreHistory | None, Depends(get_history)]


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


MetricsDep = Annotated[Metrics, Depends(get_metrics)]


async def get_fit_models(request: Request) -> FitModelSet | None:
    """The rep-fit models in use; None while loading (routing then falls back)."""
    models: FitModelSet | None = request.app.state.fit_models.current
    return models


FitModelsDep = Annotated[FitModelSet | None, Depends(get_fit_models)]


async def get_model_store(request: Request) -> LeadModels:
    store: LeadModels = request.app.state.model_store
    return store


ModelStoreDep = Annotated[LeadModels, Depends(get_model_store)]


def current_models(store: LeadModels) -> LeadModelSet:
    """The models in use, read once so the whole request sees one set."""
    models = store.current
    if models is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the models are still loading")
    return models


async def get_models(request: Request) -> LeadModelSet:
    return current_models(request.app.state.model_store)


ModelsDep = Annotated[LeadModelSet, Depends(get_models)]


async def get_rule_score(request: Request) -> RuleScoreFile | None:
    """The rule score for channels without a model; None when it is turned off."""
    rule_score: RuleScoreFile | None = request.app.state.rule_score
    return rule_score


RuleScoreDep = Annotated[RuleScoreFile | None, Depends(get_rule_score)]


@dataclass(frozen=True)
class LeadBatch:
    leads: Sequence[Lead]
    single: bool
    """The client sent one object (answer with one) rather than a list."""


_ONE = TypeAdapter(Lead)
_MANY = TypeAdapter(list[Lead])


async def get_lead_batch(request: Request) -> LeadBatch:
    """The request's leads: one `Lead` object or a non-empty list of them.

    Read here rather than as a FastAPI body parameter: one parse and one
    validation pass, the list's size checked before its leads are validated,
    and error locations without pydantic's union branch names, e.g.
    ["body", 2, "channel"]. Errors are FastAPI's usual 422. The OpenAPI
    request body is declared on the route (`serving.openapi`).

    A single object is first validated straight from the JSON text (a third
    faster). Only a valid lead is taken from that pass: JSON mode would let
    NaN and Infinity through to the field checks and word some errors its own
    way, so a body it refuses is read again the two-step way, which says what
    is wrong as it always has.
    """
    raw = await request.body()
    if raw[:1] == b"{":  # one lead, the usual request: parsed and validated in one pass
        try:
            return LeadBatch(leads=(_ONE.validate_json(raw),), single=True)
        except ValidationError:
            pass  # its errors are told by the two-step path, in their usual words
    try:
        parsed = from_json(raw, allow_inf_nan=False)  # NaN and Infinity are not JSON
    except ValueError as exc:
        raise _invalid("json_invalid", f"the body is not valid JSON: {exc}") from exc
    try:
        if not isinstance(parsed, list):
            return LeadBatch(leads=(_ONE.validate_python(parsed),), single=True)
        limit: int = request.app.state.config.max_batch
        if not parsed:
            raise _invalid("too_short", "the list of leads is empty; send at least one lead")
        if len(parsed) > limit:
            raise _invalid(
                "too_long",
                f"too many leads: {len(parsed)} in one request, at most {limit} "
                "(setting LEADSCORE_API__MAX_BATCH); split the list",
                count=len(parsed),
                max_batch=limit,
            )
        leads = _MANY.validate_python(parsed)
        _refuse_repeated_ids(leads)
        return LeadBatch(leads=leads, single=False)
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors, body=parsed) from None


def _refuse_repeated_ids(leads: Sequence[Lead]) -> None:
    """One lead once per request: two versions of it (another channel, say) would both
    be scored and recorded, and the history could not say which the CRM meant."""
    first: dict[str, int] = {}
    for position, lead in enumerate(leads):
        seen = first.setdefault(lead.lead_id, position)
        if seen != position:
            raise RequestValidationError(
                [
                    {
                        "type": "duplicate_id",
                        "loc": ("body", position, "lead_id"),
                        "msg": f"lead_id '{lead.lead_id}' is also at position {seen}; send each "
                        "lead once per request",
                        "input": lead.lead_id,
                    }
                ]
            )


def _invalid(kind: str, message: str, **context: Any) -> RequestValidationError:
    error: dict[str, Any] = {"type": kind, "loc": ("body",), "msg": message}
    if context:
        error["ctx"] = context
    return RequestValidationError([error])
