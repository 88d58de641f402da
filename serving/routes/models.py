"""The model versions in use, and reloading them after a promotion."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from serving.deps import ModelsDep, ModelStoreDep
from serving.schemas import ModelList

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", summary="The models in use, with their training metrics")
async def list_models(models: ModelsDep) -> ModelList:
    return ModelList.of(models)


@router.post("/reload", summary="Reload the models from the registry and swap them in")
async def reload_models(store: ModelStoreDep) -> ModelList:
    # Downloading and unpickling takes seconds: keep it off the event loop.
    return ModelList.of(await run_in_threadpool(store.load))
