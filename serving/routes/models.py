"""The model versions in use, and reloading them after a promotion."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from serving.auth import ADMIN, READ
from serving.deps import FitModelsDep, ModelsDep, ModelStoreDep, RuleScoreDep
from serving.schemas import ModelList

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", summary="The models in use, with their training metrics", dependencies=[READ])
async def list_models(models: ModelsDep, fits: FitModelsDep, rule_score: RuleScoreDep) -> ModelList:
    return ModelList.of(models, fits, rule_score)


@router.post(
    "/reload",
    summary="Reload the models from the registry and swap them in",
    dependencies=[ADMIN],
)
async def reload_models(
    store: ModelStoreDep, rule_score: RuleScoreDep, request: Request
) -> ModelList:
    # Downloading and unpickling takes seconds: keep it off the event loop.
    lead_models = await run_in_threadpool(store.load)
    fits = await run_in_threadpool(request.app.state.fit_models.load)
    return ModelList.of(lead_models, fits, rule_score)
