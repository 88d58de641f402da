"""What an operator scrapes at `GET /metrics`: the service's Prometheus metrics.

Every app has its own registry, so several apps in one process (the tests)
keep separate counts. Under several worker processes (`leadscore serve
--workers N`) prometheus_client's multiprocess mode keeps each worker's
values in files under PROMETHEUS_MULTIPROC_DIR, and whichever worker answers
`GET /metrics` adds up all of them.

The request path only increments: label children are looked up once per
label set and kept, so a request costs a dict lookup and a locked add per
metric, not a `labels()` call.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from serving.model_store import LoadedModel, Loader, M, MissingModel, ModelSet
from serving.schemas import LeadScore

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's own variable; `leadscore serve --workers N` points it at a fresh folder."""

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Seconds: a scored lead takes well under a millisecond, a reload or a big batch about a second."""

LOADED = "leadscore_model_loaded_timestamp_seconds"


class Collectable(Protocol):
    def collect(self) -> Iterable[Metric]: ...


class Metrics:
    """The metrics of one app, and its `/metrics` page."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = r = CollectorRegistry()
        self.requests = Counter(
            "leadscore_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ("method", "route", "status"),
            registry=r,
        )
        self.duration = Histogram(
            "leadscore_http_request_duration_seconds",
            "Time from receiving a request to the end of its response, by route template.",
            ("route",),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.leads_scored = Counter(
            "leadscore_leads_scored",
            "Leads scored, by channel, grade and model (a registered model's name and version, "
            "or the rule score's name and file hash).",
            ("channel", "grade", "model", "version"),
            registry=r,
        )
        self.scoring_errors = Counter(
            "leadscore_scoring_errors",
            "Scoring requests refused: model_unavailable (503: a channel has no model and no "
            "rule score), custom_field (422: a custom field of the wrong type).",
            ("reason",),
            registry=r,
        )
        self.routing_decisions = Counter(
            "leadscore_routing_decisions",
            "Assignments made: kind lead (to a closer) or customer (to an account manager), "
            "the policy that chose, and whether the choice explored.",
            ("kind", "policy", "explored"),
            registry=r,
        )
        self.outcomes = Counter(
            "leadscore_outcomes_received",
            "Outcome events accepted, by type; duplicate=true for a re-sent event_id.",
            ("type", "duplicate"),
            registry=r,
        )
        self.model_info = Gauge(
            "leadscore_model_info",
            "1 for each model in use: slot is the channel (inbound, outbound) or the role "
            "(closer, account_manager). Under several workers a version one of them replaced "
            "reads 0 there.",
            ("slot", "name", "version", "alias"),
            registry=r,
            multiprocess_mode="livemax",
        )
        self.model_loaded = Gauge(
            LOADED,
            "When each model in use was loaded (Unix time); 0 as for leadscore_model_info.",
            ("slot", "name", "version"),
            registry=r,
            multiprocess_mode="livemax",
        )
        self.load_failures = Counter(
            "leadscore_model_load_failures",
            "Loads of a slot's model that failed (registry unreachable, broken artifact), at "
            "start-up or on reload; a reload keeps serving the version it had.",
            ("slot",),
            registry=r,
        )
        self.history_queue = Gauge(
            "leadscore_score_history_queue_length",
            "Scores accepted for the history and not yet written.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.history_written = Counter(
            "leadscore_score_history_rows_written",
            "Scores written to the history.",
            registry=r,
        )
        self.history_dropped = Counter(
            "leadscore_score_history_rows_dropped",
            "Scores lost because the store refused or failed the write.",
            registry=r,
        )
        if multiprocess_dir is None:
            ProcessCollector(registry=r)  # CPU, memory, open files of this process
        self._scored: dict[tuple[Any, ...], Any] = {}
        self.history = HistoryCounts(self)
        self.computed: list[Collectable] = []
        """Metrics computed when the page is rendered (the drift gauges), by this worker."""

    # -- recording --------------------------------------------------------------------------

    def scored(self, scores: Sequence[LeadScore]) -> None:
        if len(scores) == 1:  # the usual request: no tally
            s = scores[0]
            self._scored_child((s.channel, s.grade, s.model.name, s.model.version)).inc()
            return
        counts: dict[tuple[Any, ...], int] = {}
        for s in scores:
            key = (s.channel, s.grade, s.model.name, s.model.version)
            counts[key] = counts.get(key, 0) + 1
        for key, count in counts.items():
            self._scored_child(key).inc(count)

    def _scored_child(self, key: tuple[Any, ...]) -> Any:
        child = self._scored.get(key)
        if child is None:
            child = self._scored[key] = self.leads_scored.labels(*key)
        return child

    def scoring_error(self, reason: str) -> None:
        self.scoring_errors.labels(reason).inc()

    def routed(self, kind: str, policy: str, explored: bool) -> None:
        self.routing_decisions.labels(kind, policy, "true" if explored else "false").inc()

    def outcome(self, kind: str, duplicate: bool) -> None:
        self.outcomes.labels(kind, "true" if duplicate else "false").inc()

    def counting_failures(self, loader: Loader[M]) -> Loader[M]:
        """`loader`, counting each slot whose model failed to load."""

        def load(slot: str) -> LoadedModel[M] | MissingModel:
            result = loader(slot)
            if isinstance(result, MissingModel) and result.failed:
                self.load_failures.labels(slot).inc()
            return result

        return load

    def models_loaded(self, before: ModelSet[Any] | None, after: ModelSet[Any]) -> None:
        """The info and load-time gauges follow a (re)load: the new set in, replaced ones out."""
        live = set()
        for slot, entry in after.loaded.items():
            live.add((slot, entry.name, entry.version, entry.alias))
            self.model_info.labels(slot, entry.name, entry.version, entry.alias).set(1)
            self.model_loaded.labels(slot, entry.name, entry.version).set(entry.loaded_at)
        for slot, entry in before.loaded.items() if before is not None else ():
            if (slot, entry.name, entry.version, entry.alias) in live:
                continue
            if self.multiprocess_dir is None:
                self.model_info.remove(slot, entry.name, entry.version, entry.alias)
                self.model_loaded.remove(slot, entry.name, entry.version)
            else:  # series cannot be removed from the shared files: 0 marks them replaced
                self.model_info.labels(slot, entry.name, entry.version, entry.alias).set(0)
                self.model_loaded.labels(slot, entry.name, entry.version).set(0)

    def close(self) -> None:
        """At shutdown: this worker's live gauges leave the shared files."""
        if self.multiprocess_dir is not None:
            mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]

    # -- exposition -------------------------------------------------------------------------

    def render(self) -> bytes:
        """The text exposition format, every worker's values added up in multiprocess mode."""
        source: Collectable = self.registry
        if self.multiprocess_dir is not None:
            source = MultiProcessCollector(None, self.multiprocess_dir)  # type: ignore[no-untyped-call]
        page = CollectorRegistry(auto_describe=False)
        page.register(_WithAges(source))
        for collector in self.computed:
            page.register(collector)
        return generate_latest(page)


class HistoryCounts:
    """What the score-history writer reports (`serving.history_writer.HistoryMetrics`)."""

    def __init__(self, metrics: Metrics) -> None:
        self._queue = metrics.history_queue
        self._written = metrics.history_written
        self._dropped = metrics.history_dropped

    def queued(self, rows: int) -> None:
        self._queue.inc(rows)

    def written(self, rows: int) -> None:
        self._queue.dec(rows)
        self._written.inc(rows)

    def dropped(self, rows: int) -> None:
        self._queue.dec(rows)
        self._dropped.inc(rows)


class _WithAges:
    """Passes `source` through and adds each live model's age, computed at scrape time."""

    def __init__(self, source: Collectable) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        now = time.time()
        for family in self._source.collect():
            yield family
            if family.name != LOADED:
                continue
            ages = GaugeMetricFamily(
                "leadscore_model_age_seconds",
                "Seconds since each model in use was loaded.",
                labels=("slot", "name", "version"),
            )
            for sample in family.samples:
                if sample.value > 0:
                    labels = sample.labels
                    ages.add_metric(
                        [labels["slot"], labels["name"], labels["version"]], now - sample.value
                    )
            yield ages


def multiprocess_dir() -> str | None:
    """The multiprocess folder when prometheus_client's variable names one."""
    return os.environ.get(MULTIPROCESS_VARIABLE) or None
