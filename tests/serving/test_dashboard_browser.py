"""The dashboard in a real headless Chromium (Debian's package, driven by playwright).

Three pages: the self-contained report drawn from a hand-built data set, the live
dashboard of a real server with trained models and a roster, and the live dashboard of
an empty store served behind a path prefix. Each must draw without a console error and
fetch nothing beyond its own origin; screenshots go to .leadscore/test-artifacts/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from data.json_rows import to_records
from data.store import Store, upgrade
from data.tables import read_table
from serving.config import ServingConfig
from serving.dashboard.report import render_report
from tests.serving import dashboard_data as expected
from tests.serving.conftest import Registry
from tests.serving.helpers import free_port, wait_ready

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / ".leadscore" / "test-artifacts"
SECTIONS = (
    "funnel-channel",
    "funnel-role",
    "speed",
    "workload",
    "backtest",
    "drift",
    "routed",
    "models",
)

"""Sections that only /v1/insights endpoints feed (workload falls back to the roster)."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `make install` installs Debian's chromium as root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Visit:
    """A page and what it did: console errors, uncaught exceptions, requests."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def state(self, section: str) -> str | None:
        value: str | None = self.page.get_attribute(f"#{section}", "data-state")
        return value

    def count(self, selector: str) -> int:
        number: int = self.page.locator(selector).count()
        return number

    def text(self, section: str) -> str:
        value: str = self.page.inner_text(f"#{section} .body")
        return value

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        return path


@pytest.fixture
def visit(browser: Any) -> Iterator[Callable[..., Visit]]:
    contexts = []

    def open_page(url: str, key: str | None = None) -> Visit:
        """`url` in a fresh browser context; with `key`, as entered earlier in this tab."""
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        if key is not None:
            context.add_init_script(
                f"window.sessionStorage.setItem('leadscore-api-key', {json.dumps(key)})"
            )
        page = context.new_page()
        seen = Visit(page)

        def on_console(message: Any) -> None:
            if message.type == "error":
                seen.errors.append(f"{message.text} at {message.location.get('url', '?')}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: seen.errors.append(f"uncaught: {error}"))
        page.on("request", lambda request: seen.requests.append(request.url))
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        return seen

    yield open_page
    for context in contexts:
        context.close()


def test_the_report_draws_every_chart_from_its_embedded_data(
    visit: Callable[[str], Visit], tmp_path: Path
) -> None:
    data = expected.sample_report()
    report = tmp_path / "report.html"
    report.write_text(render_report(data, "Sales operations, Q3"), encoding="utf-8")
    seen = visit(report.as_uri())
    assert seen.errors == []
    assert {seen.state(s) for s in SECTIONS} == {"ready"}
    for section, key in (
        ("funnel-channel", "funnel_by_channel"),
        ("funnel-role", "funnel_by_role"),
    ):
        assert seen.count(f"#{section} svg .bar") == expected.funnel_bars(data[key])
        assert seen.count(f"#{section} svg .whisker") == expected.funnel_whiskers(data[key])
        assert seen.count(f"#{section} tbody tr") == len(data[key]["groups"]) + 1
    assert seen.count("#speed svg .bar") == expected.speed_bars(data["speed"])
    assert seen.count("#speed tbody tr") == len(data["speed"]["by_rep"])
    assert seen.count("#workload svg .bar") == len(data["workload"]["reps"])
    assert seen.count("#workload svg .bar.over") == 1  # CL001 holds 44 of 40
    assert seen.count("#backtest svg .bar") == expected.backtest_bars(data["backtest"])
    assert seen.count("#backtest svg .bar.outside") == 1
    assert seen.count("#backtest .warnings li") == len(data["backtest"]["warnings"])
    assert seen.count("#routed tbody tr") == len(data["routed"]["assignments"])
    # drift: the worst fields first, the score then and now; the old model says retrain
    assert seen.count("#drift tbody tr") == 3
    assert seen.count("#drift .band.shifted") == 1
    assert seen.count("#drift svg .bar") == 2 * 10
    assert "40%: tiktok 40%" in seen.text("drift")
    assert "trained before drift monitoring); retrain" in seen.text("drift")
    assert seen.count("#models tbody tr") == expected.model_rows(data["models"])
    # Accessible: every chart is named and described, every table captioned.
    charts = seen.count("svg.chart")
    assert charts == seen.count("svg.chart > title") == seen.count("svg.chart > desc") > 0
    assert seen.count("table") == seen.count("table > caption") > 0
    assert all(url.startswith(("file://", "data:")) for url in seen.requests), seen.requests
    assert seen.page.title() == "Sales operations, Q3"
    seen.screenshot("dashboard-report.png")


def test_a_report_without_data_shows_empty_states(
    visit: Callable[[str], Visit], tmp_path: Path
) -> None:
    empty_funnel = {
        "period": expected.PERIOD,
        "by": "channel",
        "stages": expected.STAGES,
        "overall": {
            "key": "all",
            "counts": dict.fromkeys(expected.STAGES, 0),
            "conversions": [],
            "small": True,
        },
        "groups": [],
    }
    data = {
        "funnel_by_channel": empty_funnel,
        "speed": {"by_channel": [], "by_rep": []},
        "workload": {"reps": [], "by_role": []},
        "backtest": {"horizon_days": 90, "versions": [], "warnings": []},
        "routed": {"assignments": []},
        "models": {"models": [], "missing": [], "errors": [], "fit_models": []},
    }
    report = tmp_path / "empty.html"
    report.write_text(render_report(data, "Nothing yet"), encoding="utf-8")
    seen = visit(report.as_uri())
    assert seen.errors == []
    assert {seen.state(s) for s in SECTIONS} == {"empty"}
    assert "No leads in this period yet" in seen.text("funnel-channel")
    assert "Not part of this report" in seen.text("funnel-role")
    assert seen.count("svg .bar") == 0


@contextmanager
def served(config: ServingConfig, prefix: str = "") -> Iterator[str]:
    """The app under uvicorn on loopback, optionally mounted below `prefix` as a proxy would."""
    script = (
        "import sys, uvicorn\n"
        "from starlette.applications import Starlette\n"
        "from starlette.routing import Mount\n"
        "from serving.app import create_app\n"
        "from serving.config import ServingConfig\n"
        "config = ServingConfig.model_validate_json(sys.argv[1])\n"
        "inner = create_app(config)\n"
        "app = Starlette(routes=[Mount(sys.argv[2], app=inner)],\n"
        "                lifespan=lambda _: inner.router.lifespan_context(inner))\n"
        "uvicorn.run(app if sys.argv[2] else inner, host='127.0.0.1', port=config.port,\n"
        "            log_level='warning')\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", script, config.model_dump_json(), prefix],
        cwd=str(Path(__file__).resolve().parents[2]),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{config.port}{prefix}"
    try:
        wait_ready(server, base, 90)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def key_in(database_url: str, scopes: list[str]) -> str:
    """A key in a new store, created before the service starts on it."""
    upgrade(database_url)
    with Store(database_url) as store:
        return store.create_api_key("dashboard-test", scopes)[1]


def test_the_live_dashboard_shows_the_models_and_the_roster(
    visit: Callable[..., Visit],
    fit_registry: Registry,
    history: Path,
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'leadscore.db'}"
    config = fit_registry.settings(port=free_port(), database_url=database, auth="keys")
    key = key_in(database, ["admin"])
    admin = {"Authorization": f"Bearer {key}"}
    reps = to_records(read_table(history, "reps"))
    with served(config) as url:
        for rep in reps:
            httpx.put(f"{url}/v1/reps/{rep['rep_id']}", json=rep, headers=admin).raise_for_status()
        for lead in to_records(read_table(history, "leads").tail(3)):
            routed = httpx.post(f"{url}/v1/leads/route", json=lead, headers=admin, timeout=30)
            routed.raise_for_status()
        seen = visit(f"{url}/dashboard", key=key)
        assert seen.errors == []
        assert all(u.startswith(url) or u.startswith("data:") for u in seen.requests)
        assert seen.state("models") == "ready"
        listed = httpx.get(f"{url}/v1/models", headers=admin).json()["models"]
        versions = {m["name"]: m["version"] for m in listed}
        assert seen.count("#models tbody tr") == 4  # two lead scores, two fits
        for name, version in versions.items():
            assert f"{name}\t{version}" in seen.text("models")
        assert seen.state("workload") == "ready"
        assert seen.count("#workload svg .bar") == len(reps)
        assert seen.count("#workload h3") == len({rep["role"] for rep in reps})
        assert "closer: 3 of" in seen.text("workload")  # the three routed leads
        assert seen.count("#routed tbody tr") == 3
        for section in set(SECTIONS) - {"models", "workload", "routed"}:
            assert seen.state(section) in ("ready", "empty"), section
        seen.screenshot("dashboard-live.png")
        seen.page.select_option("#period", "7")  # the picker redraws every section
        seen.page.wait_for_selector("body[data-ready=true]")
        assert "Last 7 days" in seen.page.inner_text("#period-text")
        assert seen.state("workload") == "ready"
        assert seen.errors == []


def test_the_dashboard_asks_for_a_key_and_then_draws(
    visit: Callable[..., Visit], registry: Registry, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'keys.db'}"
    key = key_in(database, ["read"])
    config = registry.settings(port=free_port(), database_url=database, auth="keys")
    with served(config) as url:
        seen = visit(f"{url}/dashboard")
        assert {seen.state(s) for s in SECTIONS} == {"error"}
        assert "HTTP 401" in seen.text("models")
        assert seen.page.is_visible("#api-key")
        assert all("401" in e for e in seen.errors)  # the refused loads, nothing else
        seen.errors.clear()
        seen.page.fill("#api-key", key)
        seen.page.click("#access button")
        seen.page.wait_for_selector("#models[data-state=ready]")
        seen.page.wait_for_selector("body[data-ready=true]")
        assert seen.state("models") == "ready"
        assert seen.errors == []
        assert seen.state("workload") == "empty"  # a read key sees the (empty) roster


def test_an_empty_store_behind_a_prefix_gives_empty_states(
    visit: Callable[..., Visit], registry: Registry, tmp_path: Path
) -> None:
    config = registry.settings(port=free_port(), database_url=f"sqlite:///{tmp_path / 'e.db'}")
    with served(config, prefix="/ops/leadscore") as url:
        seen = visit(f"{url}/dashboard")
        assert seen.errors == []
        assert all(u.startswith(url) or u.startswith("data:") for u in seen.requests)
        assert seen.state("workload") == "empty"
        assert "No reps in the roster yet" in seen.text("workload")
        assert seen.state("models") == "ready"  # the lead models; the fits are listed missing
        for section in set(SECTIONS) - {"models"}:
            assert seen.state(section) == "empty", section
        seen.screenshot("dashboard-empty.png")
