"""Importing small hand-written exports, and refusing bad ones without a trace."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from data.contract import Lead, columns
from data.importing.importer import import_export
from data.importing.mapping import Mapping, load_mapping
from leadscore.cli import app

SALESFORCE = """\
Id,CreatedDate,LeadSource,Company,Industry,NumberOfEmployees,AnnualRevenue,Country,Title,IsConverted,Email,Status
00Q1,2024-01-05T10:00:00.000+0000,Web,Acme,Software,"1,200","$1,500,000.00",US,CTO,true,a@x.com,Open
00Q2,2024-02-05 11:30,N/A,Beta,Select,50,,DE,VP Sales,false,,Closed
00Q3,,Web,Gamma,Finance,-5,100,FR,,FALSE,,
,2024-03-01,Web,Delta,Finance,10,100,FR,,TRUE,,
00Q5,2024-03-02,Web,Eps,Finance,-3,100,FR,,TRUE,,
"""

CUSTOM = """\
lead,created,chan,size,trial,plan,stage
L1,12/31/2024,Inbound,10,Yes,pro,won
L2,01/02/2024,outbound,20,no,basic,lost
L3,01/03/2024,partner,30,N,basic,lost
L4,13/45/2024,inbound,40,maybe,,won
"""


def write(tmp_path: Path, text: str, name: str = "export.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def custom_mapping(tmp_path: Path) -> Mapping:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "columns:\n  lead_id: lead\n  company_size: size\n"
        "extra:\n  trial: {kind: boolean}\n  plan: {kind: categorical}\n"
        "created_at: created\nchannel: chan\n"
        "outcome:\n  column: stage\n  converted: [won]\n  not_converted: [lost]\n"
    )
    return load_mapping(path)


def test_a_salesforce_shaped_export_imports(tmp_path: Path):
    out = tmp_path / "out"
    report = import_export(write(tmp_path, SALESFORCE), load_mapping("salesforce"), out)
    leads = pd.read_parquet(out / "leads.parquet")
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    assert list(leads.columns) == columns(Lead)
    assert leads["lead_id"].tolist() == ["00Q1", "00Q2"]
    assert leads["company_size"].tolist() == [1200, 50]
    assert leads["company_revenue"].iloc[0] == 1_500_000
    assert leads["source"].isna().tolist() == [False, True]
    assert outcomes["converted"].tolist() == [1, 0]
    assert (report.rows_read, report.rows_imported, report.converted) == (5, 2, 1)
    reasons = {r.line: r.reason for r in report.rejected}
    assert "missing required field created_at (CreatedDate)" in reasons[4]
    assert "negative number in NumberOfEmployees" in reasons[4]
    assert reasons[5] == "missing required field lead_id (Id)"
    assert reasons[6] == "negative number in NumberOfEmployees"


def test_extra_columns_channel_column_and_rejections(tmp_path: Path, custom_mapping: Mapping):
    out = tmp_path / "out"
    report = import_export(write(tmp_path, CUSTOM), custom_mapping, out)
    leads = pd.read_parquet(out / "leads.parquet")
    assert leads["lead_id"].tolist() == ["L1", "L2"]
    assert leads["channel"].tolist() == ["inbound", "outbound"]
    assert leads["trial"].tolist() == [True, False]
    assert leads["plan"].tolist() == ["pro", "basic"]
    assert leads["created_at"].tolist() == [pd.Timestamp("2024-12-31"), pd.Timestamp("2024-01-02")]
    reasons = {r.line: r.reason for r in report.rejected}
    assert reasons[4].startswith("bad channel in chan")
    assert reasons[5] == "unparseable date in created"
    assert [(e.column, e.value) for e in report.errors if e.column == "trial"] == [
        ("trial", "maybe")
    ]


def test_ambiguous_dates_refuse_the_import(tmp_path: Path, custom_mapping: Mapping):
    export = CUSTOM.replace("12/31/2024", "01/05/2024").replace("13/45/2024", "02/03/2024")
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"export\.csv: column 'created'.*MM/DD/YYYY.*DD/MM/YYYY"):
        import_export(write(tmp_path, export), custom_mapping, out)
    assert not out.exists()


def bad_input(tmp_path: Path, text: str, mapping: Mapping, match: str, encoding: str = "utf-8"):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("already here")
    with pytest.raises(ValueError, match=match):
        import_export(write(tmp_path, text, encoding=encoding), mapping, out)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_wrong_delimiter(tmp_path: Path, custom_mapping: Mapping):
    match = r"export\.csv: only one column found .* check source\.delimiter in mapping\.yaml"
    bad_input(tmp_path, CUSTOM.replace(",", ";"), custom_mapping, match)


def test_wrong_encoding(tmp_path: Path, custom_mapping: Mapping):
    text = CUSTOM.replace("pro", "Société")
    match = r"export\.csv: not utf-8 text at byte offset \d+ \(line 2\)"
    bad_input(tmp_path, text, custom_mapping, match, encoding="latin-1")


def test_mapping_names_a_missing_column(tmp_path: Path, custom_mapping: Mapping):
    text = CUSTOM.replace("size,", "employees,", 1)
    match = (
        r"export\.csv: column\(s\) not in the file: 'size' "
        r"\(mapping\.yaml line 3: columns\.company_size\)"
    )
    bad_input(tmp_path, text, custom_mapping, match)


def test_outcome_with_unexpected_values(tmp_path: Path, custom_mapping: Mapping):
    text = CUSTOM.replace(",lost\nL3", ",open\nL3")
    match = r"export\.csv: outcome column 'stage' has values .*'open'"
    bad_input(tmp_path, text, custom_mapping, match)


def test_file_with_no_rows(tmp_path: Path, custom_mapping: Mapping):
    bad_input(tmp_path, CUSTOM.splitlines()[0] + "\n", custom_mapping, r"export\.csv: no rows")


def test_empty_file(tmp_path: Path, custom_mapping: Mapping):
    bad_input(tmp_path, "", custom_mapping, r"export\.csv: the file is empty")


def test_cli_prints_the_report_and_fails_in_one_line(tmp_path: Path):
    export = write(tmp_path, SALESFORCE)
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "import",
            "--input",
            str(export),
            "--mapping",
            "salesforce",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "rejected rows" in ok.output
    bad = runner.invoke(
        app,
        [
            "import",
            "--input",
            str(tmp_path / "none.csv"),
            "--mapping",
            "salesforce",
            "--out",
            str(tmp_path / "out2"),
        ],
    )
    assert bad.exit_code == 1
    assert "none.csv" in bad.output
    assert not (tmp_path / "out2").exists()
