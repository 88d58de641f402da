"""`create_app(config)`: the FastAPI application, built on demand, never at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from serving.config import ServingConfig
from serving.model_store import ModelStore
from serving.openapi import add_lead_schemas
from serving.registry import RegistryLoader
from serving.routes import health, leads, models


def create_app(config: ServingConfig) -> FastAPI:
    """The scoring API; its lifespan loads each channel's model by alias from the registry."""
    store = ModelStore(RegistryLoader(config.tracking_uri, config.model_alias))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(store.load)
        yield

    app = FastAPI(
        title="leadscore",
        summary="Lead scores, grades and the reasons behind them.",
        version=version("leadscore"),
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.model_store = store
    app.include_router(health.router)
    app.include_router(leads.router)
    app.include_router(models.router)
    add_lead_schemas(app)
    return app
