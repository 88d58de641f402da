"""The dashboard page as the app serves it, and the self-contained HTML report."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.config import ServingConfig
from serving.dashboard import PAGE, asset
from serving.dashboard.report import render_report
from tests.serving.dashboard_data import sample_report

ASSET_TYPES = {"dashboard.css": "text/css", "charts.js": "javascript", "dashboard.js": "javascript"}
SVG_NAMESPACE = "http://www.w3.org/2000/svg"  # a name in charts.js, never fetched


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    # No lifespan runs here: the page and its assets need neither models nor a store.
    uri = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'mlflow.db'}"
    return create_app(ServingConfig(tracking_uri=uri, auth="none"))


def linked(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


def test_the_page_is_served_with_a_policy_that_keeps_it_on_this_service(app: FastAPI) -> None:
    response = TestClient(app).get("/dashboard")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert "<h1" in response.text and 'lang="en"' in response.text


def test_every_asset_is_linked_relatively_and_served(app: FastAPI) -> None:
    client = TestClient(app)
    links = [link for link in linked(client.get("/dashboard").text) if link != "data:,"]
    assert sorted(Path(link).name for link in links) == sorted(ASSET_TYPES)
    for link in links:
        assert not link.startswith(("/", "http:", "https:")), link  # relative: prefix-proof
        response = client.get(f"/{link}")  # resolved against /dashboard
        assert response.status_code == 200, link
        assert ASSET_TYPES[Path(link).name] in response.headers["content-type"]


def test_the_page_and_its_assets_work_behind_a_path_prefix(app: FastAPI) -> None:
    outer = FastAPI()
    outer.mount("/ops/leadscore", app)
    client = TestClient(outer)
    page = client.get("/ops/leadscore/dashboard")
    assert page.status_code == 200
    for link in linked(page.text):
        if link != "data:,":
            assert client.get(f"/ops/leadscore/{link}").status_code == 200, link


def test_a_trailing_slash_redirects_relatively(app: FastAPI) -> None:
    response = TestClient(app).get("/dashboard/", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "../dashboard"


def test_the_page_is_not_an_api_operation(app: FastAPI) -> None:
    paths = TestClient(app).get("/openapi.json").json()["paths"]
    assert not any(path.startswith("/dashboard") for path in paths)


def embedded(html: str) -> Any:
    found = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S
    )
    assert found is not None, "no embedded report data"
    return json.loads(found.group(1))


def test_the_report_embeds_its_data_exactly() -> None:
    data = sample_report()
    assert embedded(render_report(data, "Q3 report")) == data


def test_text_in_the_data_cannot_break_out_of_the_page() -> None:
    data = sample_report()
    nasty = "</script><script>alert(1)</script> & <!-- \u2028 ü"
    data["routed"]["assignments"][0]["subject_id"] = nasty
    html = render_report(data, "</title><b>x</b>")
    assert embedded(html)["routed"]["assignments"][0]["subject_id"] == nasty
    assert "<script>alert(1)" not in html  # only in escaped form
    assert "<b>x</b>" not in html and "&lt;/title&gt;&lt;b&gt;x&lt;/b&gt;" in html


def test_the_report_is_one_file_with_nothing_to_fetch() -> None:
    html = render_report(sample_report(), "Q3 report")
    assert linked(html) == ["data:,"]  # the empty favicon; every script and style is inline
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {SVG_NAMESPACE}, urls
    for name in ASSET_TYPES:
        assert asset(name).strip()[:200] in html
    assert "<title>Q3 report</title>" in html


def test_the_report_carries_times_as_iso_strings() -> None:
    moment = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    html = render_report({"generated_at": moment, "models": {"models": []}}, "r")
    assert embedded(html)["generated_at"] == "2026-11-01T09:30:00+00:00"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"funnel": {}}, "unknown report sections: funnel"),
        ({"speed": {"x": math.nan}}, "Out of range float"),
        ({"speed": {"x": object()}}, "JSON cannot carry"),
    ],
)
def test_bad_report_data_is_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        render_report(data, "r")


def test_the_page_the_report_inlines_is_the_served_one() -> None:
    page = asset(PAGE)
    assert 'href="dashboard/static/dashboard.css"' in page
    assert render_report({}, "r").count("<script>") == 2
