"""The summary the CLI prints must agree with the tables it summarises."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from data.contract import TABLES
from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import write_history
from data.history_summary import summarize_history
from data.tables import MissingTableError, read_table


def test_summary_counts_match_the_tables(tmp_path: Path) -> None:
    write_history(GeneratorConfig(leads=3_000, seed=5), tmp_path)
    summary = summarize_history(tmp_path)
    tables = {name: read_table(tmp_path, name) for name in TABLES}
    assert summary.rows == {name: len(frame) for name, frame in tables.items()}
    assert summary.leads_by_channel == tables["leads"]["channel"].value_counts().to_dict()
    won = tables["opportunities"]["won"].dropna().astype(bool)
    assert summary.closed_opportunities == len(won)
    assert math.isclose(summary.win_rate, won.mean())
    assert math.isclose(summary.lead_win_rate, won.sum() / 3_000)


def test_summary_of_an_empty_folder_names_the_missing_table(tmp_path: Path) -> None:
    with pytest.raises(MissingTableError, match="leads"):
        summarize_history(tmp_path)
