"""Drift for the API and the scraper: the live models' references, and the PSI gauges.

The gauges are computed when Prometheus scrapes `/metrics` (in the thread
that renders the page, never on the scoring path), from the last 7 days of
scores, and reused for `drift_refresh_seconds` so frequent scrapes do not
re-read the store each time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from data.store import Store
from data.store.store_records import utc_now
from serving import insights
from serving.insights.drift import DEFAULT_DAYS, References
from serving.insights.responses import Drift, Period
from serving.model_store import LeadModelSet

logger = logging.getLogger(__name__)


def live_references(models: LeadModelSet | None) -> References:
    """(name, version) -> training reference of each lead-score model in use (None: none)."""
    if models is None:
        return {}
    out: dict[tuple[str, str], Any] = {}
    for entry in models.loaded.values():
        out[(entry.name, entry.version)] = entry.model.metadata.get("reference")
    return out


def last_days(days: int = DEFAULT_DAYS) -> Period:
    end = utc_now()
    return Period(start=end - timedelta(days=days), end=end)


class DriftGauges:
    """A Prometheus collector: `leadscore_feature_psi` and `leadscore_score_psi` per live
    model version, from the last 7 days, recomputed at most every `refresh_seconds`."""

    def __init__(
        self,
        store: Callable[[], Store | None],
        models: Callable[[], LeadModelSet | None],
        refresh_seconds: float,
    ) -> None:
        self._store = store
        self._models = models
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, Drift] | None = None

    def current(self) -> Drift | None:
        """The last 7 days' drift, cached; None without a store or when it cannot be read."""
        store = self._store()
        if store is None:
            return None
        with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self._refresh:
                return self._cached[1]
            try:
                found = insights.drift(
                    store, last_days(), utc_now(), live_references(self._models())
                )
            except Exception:  # a scrape must still answer with the other metrics
                logger.exception("could not compute the drift gauges")
                return self._cached[1] if self._cached is not None else None
            self._cached = (now, found)
            return found

    def collect(self) -> Iterator[Metric]:
        found = self.current()
        feature = GaugeMetricFamily(
            "leadscore_feature_psi",
            "Population stability index of each input field of a live model: the last 7 days' "
            "scored leads against its training rows (< 0.1 stable, 0.1-0.25 moving, > 0.25 "
            "shifted). Absent below the minimum of leads or without a training reference.",
            labels=("model", "version", "feature"),
        )
        score = GaugeMetricFamily(
            "leadscore_score_psi",
            "Population stability index of a live model's score distribution (deciles of "
            "1-99), the last 7 days against its training rows.",
            labels=("model", "version"),
        )
        leads = GaugeMetricFamily(
            "leadscore_drift_leads",
            "Leads a live model scored in the last 7 days, which its drift gauges summarise.",
            labels=("model", "version"),
        )
        for model in found.models if found is not None else ():
            leads.add_metric([model.model, model.version], model.leads)
            if model.score_psi is not None:
                score.add_metric([model.model, model.version], model.score_psi)
            for item in model.fields:
                if item.psi is not None:
                    feature.add_metric([model.model, model.version, item.field], item.psi)
        yield from (feature, score, leads)
