"""Serving the API with uvicorn; `leadscore serve` calls `run`."""

from __future__ import annotations

import os
import tempfile

import uvicorn
from fastapi import FastAPI

from serving.config import ServingConfig
from serving.prometheus import MULTIPROCESS_VARIABLE

CONFIG_VARIABLE = "LEADSCORE_SERVING_CONFIG_JSON"
"""How `run` hands its configuration to worker processes, which import the app by name."""


def run(config: ServingConfig, workers: int = 1, log_level: str = "info") -> None:
    """Serve on `config.host:config.port` until interrupted.

    uvicorn gets a factory, so the app (and its models) is built when the
    server starts, once per worker process. Several workers share a fresh
    metrics folder (prometheus_client's multiprocess mode), so `GET /metrics`
    in any of them adds up all of them; it is removed when the server stops.
    """
    if workers > 1:
        with tempfile.TemporaryDirectory(prefix="leadscore-metrics-") as metrics_dir:
            # Workers are new processes: they read both before importing anything.
            previous = os.environ.get(MULTIPROCESS_VARIABLE)
            os.environ[CONFIG_VARIABLE] = config.model_dump_json()
            os.environ[MULTIPROCESS_VARIABLE] = metrics_dir
            try:
                uvicorn.run(
                    "serving.server:app_from_environment",
                    factory=True,
                    host=config.host,
                    port=config.port,
                    workers=workers,
                    log_level=log_level,
                )
            finally:
                if previous is None:
                    del os.environ[MULTIPROCESS_VARIABLE]
                else:
                    os.environ[MULTIPROCESS_VARIABLE] = previous
        return

    def factory() -> FastAPI:
        from serving.app import create_app

        return create_app(config)

    uvicorn.run(factory, factory=True, host=config.host, port=config.port, log_level=log_level)


def app_from_environment() -> FastAPI:
    """The app of a worker process, from the configuration `run` passed on."""
    from serving.app import create_app

    raw = os.environ.get(CONFIG_VARIABLE)
    if not raw:
        raise RuntimeError(f"{CONFIG_VARIABLE} is not set: start workers with serving.server.run")
    return create_app(ServingConfig.model_validate_json(raw))
