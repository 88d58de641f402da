"""`leadscore demo`: what `make demo` runs."""

from __future__ import annotations

from leadscore.console import make_console
from leadscore.settings import get_settings


def demo() -> None:
    """Generate a CRM history, train and register the models, serve them and score fresh leads."""
    from leadscore.demo.walkthrough import run_demo

    run_demo(get_settings(), make_console())
