"""The console every command prints through.

Rich takes 80 columns when stdout is not a terminal, so tables piped to a
file or shown in a CI log lose their widest columns ("0.895 (0.88..."). Off a
terminal the console is wide instead; COLUMNS, when set, still decides.
"""

from __future__ import annotations

import os

from rich.console import Console

WIDE = 200
"""Columns when stdout is not a terminal and COLUMNS is not set."""


def make_console() -> Console:
    """The terminal's width on a terminal, COLUMNS if set, else `WIDE` columns."""
    console = Console()
    if console.is_terminal or os.environ.get("COLUMNS", "").isdigit():
        return console
    return Console(width=WIDE)
