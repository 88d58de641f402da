"""Serving the API with uvicorn; `leadscore serve` calls `run`."""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI

from leadscore.settings import Settings

SETTINGS_VARIABLE = "LEADSCORE_SERVE_SETTINGS_JSON"
"""How `run` hands its settings to worker processes, which import the app by name."""


def run(settings: Settings, workers: int = 1, log_level: str = "info") -> None:
    """Serve on `settings.api.host:port` until interrupted.

    uvicorn gets a factory, so the app (and its models) is built when the
    server starts, once per worker process.
    """
    if workers > 1:
        os.environ[SETTINGS_VARIABLE] = settings.model_dump_json()
        uvicorn.run(
            "serving.server:app_from_environment",
            factory=True,
            host=settings.api.host,
            port=settings.api.port,
            workers=workers,
            log_level=log_level,
        )
        return

    def factory() -> FastAPI:
        from serving.app import create_app

        return create_app(settings)

    uvicorn.run(
        factory, factory=True, host=settings.api.host, port=settings.api.port, log_level=log_level
    )


def app_from_environment() -> FastAPI:
    """The app of a worker process: the settings `run` passed on, else `LEADSCORE_*`."""
    from leadscore.settings import get_settings
    from serving.app import create_app

    raw = os.environ.get(SETTINGS_VARIABLE)
    return create_app(Settings.model_validate_json(raw) if raw else get_settings())
