"""The sales-operations dashboard: a static page (HTML, JS, CSS shipped as package data) that
reads the API, and the same page as one self-contained HTML report file."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

PAGE = "dashboard.html"
STATIC_PATH = "/dashboard/static"
"""Where the app serves the assets; the page names them relative to itself."""


def static_dir() -> Path:
    """The folder of the page's assets, inside the installed package."""
    return Path(str(files(__package__) / "static"))


@cache
def asset(name: str) -> str:
    """One asset's text; read once per process (they change only with the package)."""
    return (static_dir() / name).read_text(encoding="utf-8")
