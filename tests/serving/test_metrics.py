"""GET /metrics: what an operator scrapes moves as requests are made, per app."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from data.json_rows import to_records
from data.tables import read_table
from serving.app import create_app
from serving.prometheus import CONTENT_TYPE
from tests.serving.conftest import CHAMPION, CHANNELS, Registry
from tests.serving.helpers import free_port, lead_json, rows_of, score, wait_ready

pytestmark = pytest.mark.slow

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    """Every sample of GET /metrics, read with prometheus_client's own text parser."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    return _parse(response.text)


def _parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, metric: str, /, **labels: str) -> float:
    return samples.get((metric, frozenset(labels.items())), 0.0)


def series(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for sample_name, labels in samples if sample_name == name]


@pytest.fixture(scope="module")
def api(
    fit_registry: Registry, history: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    database = f"sqlite:///{tmp_path_factory.mktemp('metrics-db') / 'leadscore.db'}"
    with TestClient(create_app(fit_registry.settings(database_url=database))) as client:
        for rep in to_records(read_table(history, "reps")):
            assert client.put(f"/v1/reps/{rep['rep_id']}", json=rep).status_code == 200
        yield client


def test_the_page_parses_and_declares_each_metric(api: TestClient) -> None:
    text = api.get("/metrics").text
    kinds = {family.name: family.type for family in text_string_to_metric_families(text)}
    assert kinds["leadscore_http_requests"] == "counter"
    assert kinds["leadscore_http_request_duration_seconds"] == "histogram"
    assert kinds["leadscore_leads_scored"] == "counter"
    assert kinds["leadscore_model_info"] == "gauge"
    assert kinds["leadscore_model_age_seconds"] == "gauge"
    assert kinds["leadscore_score_history_queue_length"] == "gauge"
    assert "# TYPE leadscore_http_requests_total counter" in text


def test_a_scored_lead_counts_by_channel_grade_and_model(
    api: TestClient, sample: pd.DataFrame
) -> None:
    lead = lead_json(rows_of(sample, "outbound").iloc[0])
    before = scrape(api)
    answer = score(api, lead, reasons=0)
    after = scrape(api)
    labels = {"channel": "outbound", "grade": answer["grade"]}
    labels |= {"model": answer["model"]["name"], "version": answer["model"]["version"]}
    assert answer["model"]["name"] == "lead-score-outbound"
    scored = "leadscore_leads_scored_total"
    assert value(after, scored, **labels) == value(before, scored, **labels) + 1
    http = {"method": "POST", "route": "/v1/leads/score", "status": "200"}
    requests = "leadscore_http_requests_total"
    assert value(after, requests, **http) == value(before, requests, **http) + 1
    timed = "leadscore_http_request_duration_seconds_count"
    route = {"route": "/v1/leads/score"}
    assert value(after, timed, **route) == value(before, timed, **route) + 1
    assert value(after, "leadscore_http_request_duration_seconds_bucket", le="+Inf", **route) > 0


def test_a_list_counts_every_lead(api: TestClient, sample: pd.DataFrame) -> None:
    leads = [lead_json(row) for _, row in sample.head(20).iterrows()]
    before = scrape(api)
    answers = score(api, leads, reasons=0)
    after = scrape(api)
    gained = sum(
        after[key] - before.get(key, 0.0)
        for key in after
        if key[0] == "leadscore_leads_scored_total"
    )
    assert gained == len(answers) == 20


def test_errors_are_counted_under_the_route_template_never_the_raw_path(api: TestClient) -> None:
    before = scrape(api)
    assert api.post("/v1/leads/score", json={"lead_id": "x"}).status_code == 422
    assert api.get("/v1/leads/secret-lead-42/timeline").status_code == 404
    assert api.get("/no/such/page-77").status_code == 404
    after = scrape(api)
    requests = "leadscore_http_requests_total"
    for labels in (
        {"method": "POST", "route": "/v1/leads/score", "status": "422"},
        {"method": "GET", "route": "/v1/leads/{lead_id}/timeline", "status": "404"},
        {"method": "GET", "route": "unmatched", "status": "404"},
    ):
        assert value(after, requests, **labels) == value(before, requests, **labels) + 1, labels
    routes = {labels["route"] for labels in series(after, requests)}
    assert not any("secret-lead-42" in r or "page-77" in r for r in routes), routes
    assert "/metrics" in routes and "/v1/reps/{rep_id}" in routes


def test_routing_decisions_and_outcomes_are_counted(api: TestClient, history: Path) -> None:
    lead = to_records(read_table(history, "leads").tail(1))[0]
    customer = to_records(read_table(history, "customers").tail(1))[0]
    before = scrape(api)
    routed = api.post("/v1/leads/route", json=lead)
    assert routed.status_code == 200, routed.text
    assigned = api.post("/v1/customers/assign", json=customer)
    assert assigned.status_code == 200, assigned.text
    event = {
        "event_id": f"won-{lead['lead_id']}",
        "type": "won",
        "lead_id": lead["lead_id"],
        "occurred_at": "2026-11-20T10:00:00Z",
        "value": 15000,
    }
    assert api.post("/v1/outcomes", json=event).status_code == 201
    assert api.post("/v1/outcomes", json=event).status_code == 200  # sent again
    after = scrape(api)

    decisions = "leadscore_routing_decisions_total"
    for kind, body in (("lead", routed.json()), ("customer", assigned.json())):
        labels = {"kind": kind, "policy": body["policy"], "explored": str(body["explored"]).lower()}
        assert value(after, decisions, **labels) == value(before, decisions, **labels) + 1
    outcomes = "leadscore_outcomes_received_total"
    for duplicate in ("false", "true"):
        labels = {"type": "won", "duplicate": duplicate}
        assert value(after, outcomes, **labels) == value(before, outcomes, **labels) + 1


def test_the_score_history_writer_reports_rows_written(
    api: TestClient, sample: pd.DataFrame
) -> None:
    lead = lead_json(sample.iloc[-1])
    before = scrape(api)
    score(api, lead, reasons=0)
    assert api.get(f"/v1/leads/{lead['lead_id']}/scores").status_code == 200  # flushes
    after = scrape(api)
    written = "leadscore_score_history_rows_written_total"
    assert value(after, written) == value(before, written) + 1
    assert value(after, "leadscore_score_history_queue_length") == 0
    assert value(after, "leadscore_score_history_rows_dropped_total") == 0


def test_model_info_shows_the_loaded_versions(api: TestClient, fit_registry: Registry) -> None:
    samples = scrape(api)
    info = {labels["slot"]: labels for labels in series(samples, "leadscore_model_info")}
    assert set(info) == {*CHANNELS, "closer", "account_manager"}
    for channel in CHANNELS:
        name = f"lead-score-{channel}"
        version = fit_registry.client.get_model_version_by_alias(name, CHAMPION).version
        labels = {"slot": channel, "name": name, "version": str(version), "alias": CHAMPION}
        assert info[channel] == labels
        assert value(samples, "leadscore_model_info", **labels) == 1
        age = {"slot": channel, "name": name, "version": str(version)}
        assert 0 <= value(samples, "leadscore_model_age_seconds", **age) < 3600


def test_after_a_reload_the_info_follows_and_failures_are_counted(
    registry: Registry, sample: pd.DataFrame
) -> None:
    alias = "metrics_reload"
    old = registry.client.get_model_version_by_alias("lead-score-inbound", CHAMPION).version
    for channel in CHANNELS:
        version = registry.client.get_model_version_by_alias(f"lead-score-{channel}", CHAMPION)
        registry.client.set_registered_model_alias(f"lead-score-{channel}", alias, version.version)
    lead = lead_json(rows_of(sample, "inbound").iloc[0])
    with TestClient(create_app(registry.settings(model_alias=alias))) as client:
        assert score(client, lead)["model"]["version"] == str(old)
        new = registry.register("inbound", alias)
        assert client.post("/v1/models/reload").status_code == 200
        samples = scrape(client)
        inbound = [s for s in series(samples, "leadscore_model_info") if s["slot"] == "inbound"]
        assert inbound == [
            {"slot": "inbound", "name": "lead-score-inbound", "version": new, "alias": alias}
        ]
        ages = [s for s in series(samples, "leadscore_model_age_seconds") if s["slot"] == "inbound"]
        assert [s["version"] for s in ages] == [new]
        failures = "leadscore_model_load_failures_total"
        assert value(samples, failures, slot="inbound") == 0

        # A promoted version whose files are gone: the reload fails, the old one stays listed.
        broken = registry.register("inbound", alias)
        source = registry.client.get_model_version_download_uri("lead-score-inbound", broken)
        shutil.rmtree(Path(urlparse(source).path).parent)
        assert client.post("/v1/models/reload").json()["errors"]
        samples = scrape(client)
        assert value(samples, failures, slot="inbound") == 1
        info = [
            s["version"] for s in series(samples, "leadscore_model_info") if s["slot"] == "inbound"
        ]
        assert info == [new]


def test_two_apps_in_one_process_keep_separate_counts(
    registry: Registry, sample: pd.DataFrame
) -> None:
    lead = lead_json(rows_of(sample, "inbound").iloc[0])
    with (
        TestClient(create_app(registry.settings())) as one,
        TestClient(create_app(registry.settings())) as two,
    ):
        for _ in range(3):
            score(one, lead, reasons=0)
        score(two, lead, reasons=0)
        labels = {"method": "POST", "route": "/v1/leads/score", "status": "200"}
        assert value(scrape(one), "leadscore_http_requests_total", **labels) == 3
        assert value(scrape(two), "leadscore_http_requests_total", **labels) == 1


def test_two_workers_add_up_in_one_page_and_their_folder_goes_at_exit(
    registry: Registry, sample: pd.DataFrame, tmp_path: Path
) -> None:
    """A real `run(config, workers=2)`: whichever worker answers /metrics counts both."""
    config = registry.settings(port=free_port())
    script = (
        "import sys; from serving.config import ServingConfig; from serving.server import run; "
        "run(ServingConfig.model_validate_json(sys.argv[1]), workers=2, log_level='warning')"
    )
    scratch = tmp_path / "tmp"  # where the server's temporary metrics folder goes
    scratch.mkdir()
    server = subprocess.Popen(
        [sys.executable, "-c", script, config.model_dump_json()],
        cwd=str(tmp_path),
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{config.port}"
    leads = [lead_json(row) for _, row in sample.head(30).iterrows()]
    try:
        wait_ready(server, base, 120)
        (folder,) = scratch.glob("leadscore-metrics-*")
        for lead in leads:  # a new connection each: the workers share them out
            assert httpx.post(f"{base}/v1/leads/score", json=lead).status_code == 200
        labels = {"method": "POST", "route": "/v1/leads/score", "status": "200"}
        for _ in range(6):  # a new connection each time: any worker may answer
            response = httpx.get(f"{base}/metrics")
            assert response.status_code == 200
            assert response.headers["content-type"] == CONTENT_TYPE
            samples = _parse(response.text)
            assert value(samples, "leadscore_http_requests_total", **labels) == len(leads)
            scored = sum(
                v for (name, _), v in samples.items() if name == "leadscore_leads_scored_total"
            )
            assert scored == len(leads)
            info = series(samples, "leadscore_model_info")
            slots = [s["slot"] for s in info]  # (the rep fits too, once another test made them)
            assert set(CHANNELS) <= set(slots) and len(slots) == len(set(slots))  # one per model
        pids = {path.stem.rsplit("_", 1)[1] for path in folder.glob("counter_*.db")}
        assert len(pids) == 2, pids  # both workers write to the shared folder
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert not folder.exists(), output
