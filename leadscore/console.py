"""The console every command prints through.

Rich takes 80 columns when stdout is not a terminal, so tables piped to a
file or shown in a CI log lose their widest columns ("0.895 (0.88..."). Off a
terminal the console is wide instead; COLUMNS, when set, still decides.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console

WIDE = 200
"""Columns when stdout is not a terminal and COLUMNS is not set."""


def _on_terminal() -> bool:
    # The stream itself, not rich's `is_terminal`, which FORCE_COLOR (common in CI) turns on.
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stdout
        return False


def make_console(stderr: bool = False) -> Console:
    """The terminal's width on a terminal, COLUMNS if set, else `WIDE` columns; `stderr`
    keeps standard output free for a machine-readable answer."""
    if _on_terminal() or os.environ.get("COLUMNS", "").isdigit():
        return Console(stderr=stderr)
    return Console(width=WIDE, stderr=stderr)
