"""Exports without creation dates or ids, created_at columns that are not dates, repeated
ids and imports that keep no row: what is written, what the report and metadata say."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from data.importing.importer import METADATA_KEY, NothingImportedError, import_export
from data.importing.mapping import Mapping, load_mapping
from leadscore.cli import app
from training.labelled import load_labelled

EXPORT = """\
Company,Industry,Employees,Created,Stage
Acme,Software,10,2024-01-05,won
Beta,Finance,20,2024-02-06,lost
Gamma,Retail,30,2024-03-07,lost
Delta,Retail,40,2024-04-08,won
"""
NOW = datetime(2025, 1, 2, 3, 4, 5)
runner = CliRunner()


def mapping_of(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "\n".join(lines) + "\nchannel: inbound\noutcome: {column: Stage, converted: [won]}\n"
    )
    return path


def load(tmp_path: Path, *lines: str) -> Mapping:
    return load_mapping(mapping_of(tmp_path, *lines))


def export(tmp_path: Path, text: str = EXPORT) -> Path:
    path = tmp_path / "export.csv"
    path.write_text(text)
    return path


def described(folder: Path) -> dict[str, object]:
    metadata = pq.read_schema(folder / "leads.parquet").metadata
    return dict(json.loads(metadata[METADATA_KEY]))


def refused(tmp_path: Path, mapping: Mapping, match: str, text: str = EXPORT) -> ValueError:
    """Import, expect an error matching `match`, and check nothing was written."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("already here")
    with pytest.raises(ValueError, match=match) as error:
        import_export(export(tmp_path, text), mapping, out)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    return error.value


@pytest.mark.parametrize("created_at", [None, "created_at: none"])
def test_no_creation_dates_stamps_the_import_time_and_says_so(
    tmp_path: Path, created_at: str | None
) -> None:
    lines = ["columns: {lead_id: Company, company_industry: Industry}"]
    mapping = load(tmp_path, *lines, *([created_at] if created_at else []))
    assert mapping.created_at is None
    out = tmp_path / "out"
    report = import_export(export(tmp_path), mapping, out, now=NOW)
    leads = pd.read_parquet(out / "leads.parquet")
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    assert report.rows_imported == 4
    assert (leads["created_at"] == pd.Timestamp(NOW)).all()
    assert (outcomes["created_at"] == pd.Timestamp(NOW)).all()
    assert described(out)["created_at"] == {
        "source": None,
        "real": False,
        "filled_with": "2025-01-02T03:04:05",
    }
    [warning] = report.warnings
    assert "no creation dates" in warning and "random split" in warning
    labelled = load_labelled(out)
    assert not labelled.dates_known
    assert "no creation dates" in labelled.dates_note


def test_mapped_columns_are_recorded_as_the_source(tmp_path: Path) -> None:
    out = tmp_path / "out"
    mapping = load(tmp_path, "columns: {lead_id: Company}", "created_at: Created")
    report = import_export(export(tmp_path), mapping, out)
    assert report.warnings == []
    meta = described(out)
    assert meta["lead_id"] == {"source": "Company", "real": True}
    assert meta["created_at"] == {"source": "Created", "real": True}
    labelled = load_labelled(out)
    assert labelled.dates_known
    assert labelled.dates_note == "creation dates span 2024-01-05 to 2024-04-08 (94 days)"


@pytest.mark.parametrize("lead_id", ["", "lead_id: none, "])
def test_no_id_column_gives_ids_from_line_numbers(tmp_path: Path, lead_id: str) -> None:
    text = EXPORT.replace("2024-02-06", "06/02/2024x")  # line 3 is rejected
    mapping = load(tmp_path, f"columns: {{{lead_id}company_name: Company}}", "created_at: Created")
    assert mapping.id_column is None
    ids = []
    for run in ("first", "second"):
        out = tmp_path / run
        report = import_export(export(tmp_path, text), mapping, out)
        ids.append(pd.read_parquet(out / "leads.parquet")["lead_id"].tolist())
    assert ids[0] == ids[1] == ["row-2", "row-4", "row-5"]
    assert [r.line for r in report.rejected] == [3]
    assert described(out)["lead_id"] == {
        "source": None,
        "real": False,
        "pattern": "row-<line number>",
    }
    [warning] = report.warnings
    assert "no id column" in warning and "cannot be joined back to the CRM" in warning
    assert pd.read_parquet(out / "outcomes.parquet")["lead_id"].tolist() == ids[0]


def test_a_column_that_is_not_dates_stops_the_import(tmp_path: Path) -> None:
    mapping = load(tmp_path, "columns: {lead_id: Company}", "created_at: Industry")
    refused(
        tmp_path,
        mapping,
        r"export\.csv: created_at column 'Industry' \(mapping\.yaml line 2: created_at\) does "
        r"not hold dates: 4 of 4 filled values are not dates \(line 2: 'Software', line 3: "
        r"'Finance', line 4: 'Retail', line 5: 'Retail'\); .*created_at: none",
    )


def test_mostly_bad_dates_stop_the_import(tmp_path: Path) -> None:
    text = EXPORT.replace("2024-01-05", "soon").replace("2024-03-07", "").replace("2024-04-08", "?")
    mapping = load(tmp_path, "columns: {lead_id: Company}", "created_at: Created")
    refused(
        tmp_path,
        mapping,
        r"2 of 3 filled values are not dates \(line 2: 'soon', line 5: '\?'\)",
        text,
    )


def test_half_bad_dates_reject_those_rows_only(tmp_path: Path) -> None:
    text = EXPORT.replace("2024-01-05", "soon").replace("2024-04-08", "later")
    mapping = load(tmp_path, "columns: {lead_id: Company}", "created_at: Created")
    report = import_export(export(tmp_path, text), mapping, tmp_path / "out")
    assert report.rows_imported == 2
    assert {r.line: r.reason for r in report.rejected} == {
        2: "unparseable date in Created",
        5: "unparseable date in Created",
    }


def test_a_blank_created_at_column_stops_the_import(tmp_path: Path) -> None:
    text = EXPORT.replace(",2024-01-05,", ",,").replace(",2024-02-06,", ",N/A,")
    text = text.replace(",2024-03-07,", ",,").replace(",2024-04-08,", ",-,")
    mapping = load(tmp_path, "columns: {lead_id: Company}", "created_at: Created")
    refused(tmp_path, mapping, r"created_at column 'Created' .* is blank in every row", text)


def test_an_import_that_keeps_no_row_is_an_error(tmp_path: Path) -> None:
    text = EXPORT.replace(",10,", ",-1,").replace(",20,", ",-2,").replace(",30,", ",-3,")
    text = text.replace("Delta,Retail,40", ",Retail,40")
    mapping = load(
        tmp_path, "columns: {lead_id: Company, company_size: Employees}", "created_at: Created"
    )
    error = refused(
        tmp_path,
        mapping,
        r"^.*export\.csv: none of the 4 rows could be imported: negative number in Employees "
        r"\(3 rows, first on line 2\); missing required field lead_id \(Company\) \(1 rows, "
        r"first on line 5\)$",
        text,
    )
    assert isinstance(error, NothingImportedError)
    assert len(error.report.rejected) == 4


def test_a_repeated_id_is_rejected_naming_the_id_and_its_first_line(tmp_path: Path) -> None:
    mapping = load(tmp_path, "columns: {lead_id: Industry}", "created_at: Created")
    out = tmp_path / "out"
    report = import_export(export(tmp_path), mapping, out)
    assert pd.read_parquet(out / "leads.parquet")["lead_id"].tolist() == [
        "Software",
        "Finance",
        "Retail",
    ]
    assert [(r.line, r.reason) for r in report.rejected] == [
        (5, "duplicate lead_id 'Retail' (first on line 4)")
    ]
    assert any("repeat a lead_id" in w for w in report.warnings)


def test_one_creation_date_for_every_lead_is_warned_about(tmp_path: Path) -> None:
    text = EXPORT
    for date in ("2024-01-05", "2024-02-06", "2024-03-07", "2024-04-08"):
        text = text.replace(date, "2023-12-31T23:00:00")
    mapping = load(tmp_path, "columns: {lead_id: Company}", "created_at: Created")
    out = tmp_path / "out"
    report = import_export(export(tmp_path, text), mapping, out)
    [warning] = report.warnings
    assert warning.startswith(
        "created_at (Created): 4 of 4 leads (100%) share one creation instant, 2023-12-31 23:00:00"
    )
    assert "random split" in warning
    labelled = load_labelled(out)
    assert not labelled.dates_known
    assert "share one creation instant" in labelled.dates_note


def invoke(tmp_path: Path, text: str, *mapping: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [
            "import",
            "--input",
            str(export(tmp_path, text)),
            "--mapping",
            str(mapping_of(tmp_path, *mapping)),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    return result.exit_code, result.output


def test_cli_refuses_a_created_at_that_is_not_dates(tmp_path: Path) -> None:
    text = EXPORT.replace("Software", "[tech]")  # shown as written, not read as markup
    code, output = invoke(tmp_path, text, "columns: {lead_id: Company}", "created_at: Industry")
    assert code == 1
    [line] = [line for line in output.splitlines() if "created_at column 'Industry'" in line]
    assert "line 2: '[tech]', line 3: 'Finance'" in line
    assert line.endswith("or write created_at: none")
    assert not (tmp_path / "out").exists()


def test_cli_refuses_an_import_that_keeps_no_row_and_shows_why(tmp_path: Path) -> None:
    text = EXPORT.replace("Acme", "").replace("Beta", "").replace("Gamma", "").replace("Delta", "")
    code, output = invoke(tmp_path, text, "columns: {lead_id: Company}", "created_at: Created")
    assert code == 1
    assert "4 rejected rows" in output
    assert "none of the 4 rows could be imported" in output
    assert not (tmp_path / "out").exists()


def test_cli_warns_loudly_about_missing_dates_and_ids(tmp_path: Path) -> None:
    code, output = invoke(tmp_path, EXPORT, "columns: {company_name: Company}")
    assert code == 0, output
    assert output.count("WARNING:") == 2
    assert "random split" in output
    assert "cannot be joined back to the CRM by id" in output
    assert "2 warning(s) above" in output
