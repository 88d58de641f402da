"""`create_app(config)`: the FastAPI application, built on demand, never at import."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from importlib.metadata import version
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.concurrency import run_in_threadpool

from data.contract import Channel, Role
from data.store import ConflictError, Store
from data.store.engine import in_memory
from models.lead_score import LeadScoreModel
from models.packaging import load_lead_model, registered_name
from models.rep_packaging import load_rep_model, rep_registered_name
from models.rule_score import load_rule_score
from serving.allowed_methods import method_not_allowed
from serving.auth import KeyRing
from serving.config import ServingConfig
from serving.dashboard import STATIC_PATH, static_dir
from serving.database import open_store
from serving.error_bodies import conflict, database_error, validation_error
from serving.guards import RequestGuard
from serving.history_shipping import JournalShipper
from serving.history_writer import HistoryWriter, ScoreHistory
from serving.hot_path import HotPathAPI
from serving.http_metrics import MetricsMiddleware, RequestMetrics
from serving.journal import ScoreJournal, replay_orphans
from serving.live_drift import DriftGauges
from serving.model_store import FitModels, LeadModels, ModelStore
from serving.openapi import add_lead_schemas
from serving.prometheus import Metrics, multiprocess_dir
from serving.registry import FIT_FALLBACK, FIT_TRAIN_HINT, AliasWatcher, RegistryLoader
from serving.routes import (
    dashboard,
    health,
    insights,
    leads,
    metrics,
    models,
    outcomes,
    reps,
    routing,
)

logger = logging.getLogger(__name__)


def _history_writer(config: ServingConfig, store: Store, app_metrics: Metrics) -> ScoreHistory:
    """The score history's writer. With a journal, scores a killed process answered are
    replayed first, and a child process writes the history from the journal (sharing no
    interpreter with the requests); without one, a thread writes it from memory."""
    if not config.journal_dir:
        return HistoryWriter(store, metrics=app_metrics.history)
    folder = Path(config.journal_dir)
    replay_orphans(folder, store)
    journal = ScoreJournal(folder, fsync=config.journal_fsync)
    url = config.database_url
    if url is None or in_memory(url):  # another process cannot see it
        return HistoryWriter(store, metrics=app_metrics.history, journal=journal)
    return JournalShipper(store, url, journal, metrics=app_metrics.history)


async def poll_aliases(watchers: Sequence[AliasWatcher[Any]], seconds: float) -> None:
    """Every `seconds`, swap in the models whose alias moved, until cancelled. Each worker
    process polls on its own; a registry that does not answer is logged and the current
    models keep serving."""
    while True:
        await asyncio.sleep(seconds)
        for watcher in watchers:
            try:
                await run_in_threadpool(watcher.check)
            except Exception:
                logger.warning("alias polling: the registry did not answer", exc_info=True)


def create_app(config: ServingConfig) -> FastAPI:
    """The API; its lifespan opens the store and loads each channel's model by alias.

    The rule score is read here, so a broken rule file stops the start-up.
    """
    if config.auth == "keys" and not config.database_url:
        raise ValueError(
            "API keys live in the store: set database_url (LEADSCORE_DATABASE_URL), "
            "or auth='none' (LEADSCORE_API__AUTH=none) behind a gateway that checks callers"
        )
    rule_score = load_rule_score(config.rule_score) if config.rule_score else None
    # Under several workers, each one's values go to the shared folder `leadscore serve` made.
    app_metrics = Metrics(multiprocess_dir())
    model_store, fit_models, watchers = _model_stores(config, app_metrics)
    app = HotPathAPI(
        title="leadscore",
        summary="Lead scores, grades and the reasons behind them.",
        version=version("leadscore"),
        lifespan=_lifespan(config, app_metrics, model_store, fit_models, watchers),
    )
    app.state.config = config
    app.state.metrics = app_metrics
    app_metrics.computed.append(
        DriftGauges(
            lambda: app.state.store, lambda: model_store.current, config.drift_refresh_seconds
        )
    )
    app.state.model_store = model_store
    app.state.fit_models = fit_models
    app.state.rule_score = rule_score
    app.state.store = app.state.history = app.state.key_ring = None
    _include_routes(app)
    _add_error_handlers(app)
    request_metrics = RequestMetrics(app_metrics)
    app.add_middleware(RequestGuard, max_body_bytes=config.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=request_metrics)
    for route in leads.scoring_router.routes:
        app.serve_directly(route, request_metrics, config.max_body_bytes)
    return app


def _load_online(uri: str) -> LeadScoreModel:
    """A lead-score model ready for its first request (single-row path, SHAP table)."""
    return load_lead_model(uri).prepare_online()


def _model_stores(
    config: ServingConfig, app_metrics: Metrics
) -> tuple[LeadModels, FitModels, tuple[AliasWatcher[Any], ...]]:
    """The lead-score and rep-fit models, loaded from the registry by alias, and the
    watchers that swap them in when the alias moves."""
    lead_loader = RegistryLoader(
        config.tracking_uri, config.model_alias, registered_name, _load_online
    )
    model_store: LeadModels = ModelStore(
        app_metrics.counting_failures(lead_loader),
        slots=tuple(Channel),
        on_load=app_metrics.models_loaded,
    )
    fit_loader = RegistryLoader(
        config.tracking_uri,
        config.model_alias,
        rep_registered_name,
        load_rep_model,
        train_hint=FIT_TRAIN_HINT,
        fallback=FIT_FALLBACK,
    )
    fit_models: FitModels = ModelStore(
        app_metrics.counting_failures(fit_loader),
        slots=(Role.closer.value, Role.account_manager.value),
        on_load=app_metrics.models_loaded,
    )
    watchers = (AliasWatcher(model_store, lead_loader), AliasWatcher(fit_models, fit_loader))
    return model_store, fit_models, watchers


def _lifespan(
    config: ServingConfig,
    app_metrics: Metrics,
    model_store: LeadModels,
    fit_models: FitModels,
    watchers: Sequence[AliasWatcher[Any]],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Open the store and load the models on start-up; poll the aliases while serving;
    write out the history and close everything on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store, history = await _open_store(app, config, app_metrics)
        app.state.store, app.state.history = store, history
        await run_in_threadpool(model_store.load)
        await run_in_threadpool(fit_models.load)
        polling = (
            asyncio.create_task(poll_aliases(watchers, config.model_poll_seconds))
            if config.model_poll_seconds > 0
            else None
        )
        _freeze_startup_heap()
        try:
            yield
        finally:
            gc.unfreeze()
            if polling is not None:
                polling.cancel()
                with suppress(asyncio.CancelledError):
                    await polling
            if history is not None:
                await run_in_threadpool(history.close)
            if store is not None:
                store.close()
            app_metrics.close()

    return lifespan


def _freeze_startup_heap() -> None:
    """Leave what start-up built (libraries, models: some 300,000 objects) out of the
    garbage collector's full passes.

    Requests allocate little that lives, but the score history keeps each
    request's rows for a fraction of a second, so they reach the oldest
    generation, and every full pass then walked the whole heap: about 80 ms,
    some 10% of the server's CPU under load and its slowest answers. Garbage
    already there is collected first; shutdown unfreezes.
    """
    gc.collect()
    gc.freeze()


async def _open_store(
    app: FastAPI, config: ServingConfig, app_metrics: Metrics
) -> tuple[Store | None, ScoreHistory | None]:
    """The configured store (None without one), its key ring when keys are checked, and
    the score history's writer, started."""
    store = (
        await run_in_threadpool(open_store, config.database_url) if config.database_url else None
    )
    if config.auth == "keys":
        assert store is not None  # checked by create_app
        app.state.key_ring = KeyRing(store)
        if not await run_in_threadpool(store.active_api_keys):
            logger.warning(
                "no API key exists yet: every call but health will answer 401; create one "
                "with `leadscore keys create --name NAME --scope admin`"
            )
    history = (
        await run_in_threadpool(_history_writer, config, store, app_metrics)
        if store is not None
        else None
    )
    if history is not None:
        history.start()
    return store, history


def _include_routes(app: FastAPI) -> None:
    app.include_router(leads.scoring_router)  # first: the hot path matches at once
    app.include_router(health.router)
    app.include_router(leads.router)
    app.include_router(models.router)
    app.include_router(reps.router)
    app.include_router(outcomes.router)
    app.include_router(routing.router)
    app.include_router(insights.router)
    app.include_router(dashboard.router)
    app.include_router(metrics.router)
    app.mount(STATIC_PATH, StaticFiles(directory=static_dir()), name="dashboard-static")
    add_lead_schemas(app)


def _add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(405, method_not_allowed)
    for database_failure in (DBAPIError, PoolTimeoutError):
        app.add_exception_handler(database_failure, database_error)
    app.add_exception_handler(ConflictError, conflict)
