"""One self-contained HTML report: the dashboard page with its scripts, styles and data inlined.

The file opens from disk or an e-mail attachment with no server and no network: the page's
script finds the embedded `report-data` and draws from it instead of calling the API.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from serving.dashboard import PAGE, asset

REPORT_KEYS = (
    "funnel_by_channel",
    "funnel_by_role",
    "speed",
    "workload",
    "backtest",
    "drift",
    "routed",
    "models",
)
"""The sections a report can hold; a missing one is shown as 'not part of this report'."""

_LINKED = {
    '<link rel="stylesheet" href="dashboard/static/dashboard.css">': ("dashboard.css", "style"),
    '<script src="dashboard/static/charts.js"></script>': ("charts.js", "script"),
    '<script src="dashboard/static/dashboard.js"></script>': ("dashboard.js", "script"),
}


def _plain(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"the report data holds a {type(value).__name__}, which JSON cannot carry")


def embed_json(data: Mapping[str, Any]) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' can end it early.

    NaN and infinities are refused (JSON.parse would reject the page's data).
    """
    text = json.dumps(data, default=_plain, allow_nan=False, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    # U+2028/9 are valid in JSON but were line ends in old script parsers.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _inline(tag: str, text: str) -> str:
    # A closing tag inside the asset would end the element early; the assets never need one.
    if f"</{tag}" in text.lower():
        raise ValueError(f"an inlined asset contains '</{tag}'")
    return f"<{tag}>\n{text}</{tag}>"


def render_report(data: Mapping[str, Any], title: str) -> str:
    """The dashboard as one HTML document drawing `data` (keys in `REPORT_KEYS`, each shaped
    like its API answer; `models` is the /v1/models body), titled `title`."""
    unknown = set(data) - {*REPORT_KEYS, "generated_at", "period"}
    if unknown:
        raise ValueError(f"unknown report sections: {', '.join(sorted(unknown))}")
    page = asset(PAGE)
    for link, (name, tag) in _LINKED.items():
        if link not in page:
            raise RuntimeError(f"{PAGE} no longer links {name} as the report expects")
        page = page.replace(link, _inline(tag, asset(name)))
    safe_title = html.escape(title)
    page = page.replace(
        "<title>leadscore - sales operations</title>", f"<title>{safe_title}</title>"
    )
    page = page.replace('<h1 id="title">Sales operations</h1>', f'<h1 id="title">{safe_title}</h1>')
    embedded = f'<script type="application/json" id="report-data">{embed_json(data)}</script>\n'
    # Before the page's own scripts, which read it as they start.
    return page.replace("<script>\n", embedded + "<script>\n", 1)
