"""The batch tests' leads files, for the recommendation task a rescore runs."""

from __future__ import annotations

from tests.serving.batch.conftest import leads, leads_file

__all__ = ["leads", "leads_file"]
