"""Output piped to a file or a CI log is not cut at 80 columns."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.console import WIDE, make_console

EXPORT = """\
Id,CreatedDate,NumberOfEmployees,IsConverted
00Q1,2024-01-05,10,true
00Q2,,-5,false
00Q3,2024-03-05,12,false
"""
MAPPING = """\
columns: {lead_id: Id, company_size: NumberOfEmployees}
created_at: CreatedDate
channel: inbound
outcome: {column: IsConverted, converted: ["true"]}
"""
REASON = "negative number in NumberOfEmployees; missing required field created_at (CreatedDate)"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)


def test_wide_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", io.StringIO())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert make_console().width == WIDE


def test_columns_decides_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", io.StringIO())
    monkeypatch.setenv("COLUMNS", "120")
    assert make_console().width == 120


def test_a_terminal_keeps_its_own_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", Terminal())
    monkeypatch.setenv("COLUMNS", "90")
    assert make_console().width == 90


def test_an_import_report_line_wider_than_80_arrives_whole(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(EXPORT)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING)
    result = CliRunner().invoke(
        app,
        ["import", "--input", str(export), "--mapping", str(mapping), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if REASON in line]
    assert len(line.rstrip()) > 80
