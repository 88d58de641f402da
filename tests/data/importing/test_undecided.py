"""Leads without an outcome yet: still open in the CRM, or too young to judge.

An import writes no label for them (converted is NA), counts them in its report
and metadata, and never lets the column that says "open" become a feature.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from data.generator.crm_export import STYLES, Style, write_crm_export
from data.importing.import_report import ImportReport, report_table
from data.importing.importer import METADATA_KEY, import_export
from data.importing.mapping import load_mapping
from data.labels import MATURITY_DAYS, lead_outcomes
from data.tables import read_table
from training.labelled import load_labelled

# Newest lead: L6, 2024-05-20; 30 days before it is 2024-04-20.
EXPORT = """\
Id,Created,Stage,Status,Plan
L1,2024-01-01,won,Closed,pro
L2,2024-01-10,lost,Closed,basic
L3,2024-02-01,lost,Working,pro
L4,2024-03-01,won,working,pro
L5,2024-05-01,lost,Closed,basic
L6,2024-05-20,won,Closed,pro
L7,2024-05-15,lost,Working,basic
L8,2024-04-15,lost,Closed,basic
"""
NA = None
EXPECTED = [1, 0, NA, 1, NA, NA, NA, 0]
"""L3 open; L4 converted whatever its status says; L5 and L6 too young, converted or not;
L7 open and young (counted as open); L8 35 days old: decided."""


PLAN = "  Plan: {kind: categorical}\n"


def mapping_file(tmp_path: Path, outcome: str, extra: str = PLAN) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "columns:\n  lead_id: Id\ncreated_at: Created\nchannel: inbound\n"
        f"extra:\n{extra}outcome:\n{outcome}"
    )
    return path


OPEN_AND_YOUNG = """\
  column: Stage
  converted: [won]
  not_converted: [lost]
  open:
    column: Status
    values: [Working]
  decided_after_days: 30
"""


def run(tmp_path: Path, outcome: str, text: str = EXPORT, **extra: str) -> ImportReport:
    export = tmp_path / "export.csv"
    export.write_text(text)
    return import_export(export, load_mapping(mapping_file(tmp_path, outcome, **extra)), tmp_path)


def converted(folder: Path) -> list[int | None]:
    values = pd.read_parquet(folder / "outcomes.parquet")["converted"]
    return [None if pd.isna(v) else int(v) for v in values]


def described(folder: Path) -> dict[str, object]:
    metadata = pq.read_schema(folder / "leads.parquet").metadata
    return dict(json.loads(metadata[METADATA_KEY]))


def test_open_and_too_young_leads_have_no_outcome_and_are_counted(tmp_path: Path) -> None:
    report = run(tmp_path, OPEN_AND_YOUNG)
    assert converted(tmp_path) == EXPECTED
    assert pd.read_parquet(tmp_path / "outcomes.parquet")["converted"].dtype == "Int64"
    counts = {"converted": 2, "not_converted": 2, "open": 2, "too_young": 2}
    assert report.outcome_counts() == counts
    assert described(tmp_path)["outcomes"] == counts
    console = Console(width=200, record=True)
    console.print(report_table(report))
    assert (
        "2 converted, 2 not converted, 4 undecided (2 open, 2 too young)" in console.export_text()
    )


def test_training_reads_undecided_leads_as_unresolved(tmp_path: Path) -> None:
    run(tmp_path, OPEN_AND_YOUNG)
    labelled = load_labelled(tmp_path)
    resolved = [v is not None for v in EXPECTED]
    assert labelled.outcomes["resolved"].tolist() == resolved
    assert labelled.undecided("inbound")["lead_id"].tolist() == ["L3", "L5", "L6", "L7"]


def test_without_a_rule_every_lead_is_decided(tmp_path: Path) -> None:
    report = run(tmp_path, "  column: Stage\n  converted: [won]\n")
    assert converted(tmp_path) == [1, 0, 0, 1, 0, 1, 0, 0]
    assert (report.converted, report.not_converted, report.undecided) == (3, 5, 0)


def test_open_values_may_be_on_the_outcome_column_itself(tmp_path: Path) -> None:
    text = EXPORT.replace("lost,Working", "Open,Working")
    outcome = "  column: Stage\n  converted: [won]\n  not_converted: [lost]\n  open:\n"
    report = run(tmp_path, outcome + "    values: [open]\n", text)
    assert converted(tmp_path) == [1, 0, NA, 1, 0, 1, NA, 0]
    assert report.still_open == 2
    with pytest.raises(ValueError, match=r"values outside converted, not_converted and open: 'Op"):
        run(tmp_path, outcome + "    values: [pending]\n", text)


def test_open_beside_a_filled_outcome(tmp_path: Path) -> None:
    text = EXPORT.replace(",won,", ",2024-06-01,").replace(",lost,", ",,")
    outcome = "  column: Stage\n  converted_if_filled: true\n"
    run(tmp_path, outcome + "  open: {column: Status, values: [working]}\n", text)
    assert converted(tmp_path) == [1, 0, NA, 1, 0, 1, NA, 0]


def test_the_open_column_never_becomes_a_feature(tmp_path: Path) -> None:
    extra = PLAN + "  Status: {kind: categorical}\n"
    report = run(tmp_path, OPEN_AND_YOUNG, extra=extra)
    assert "Status" not in pd.read_parquet(tmp_path / "leads.parquet").columns
    assert described(tmp_path)["extra"] == {"Plan": "categorical"}
    assert report.dropped == ["Status"]
    assert any(n.startswith("Status: says the outcome (outcome.open.column)") for n in report.notes)
    assert converted(tmp_path) == EXPECTED  # still read for the outcome


def test_the_outcome_column_never_becomes_a_feature(tmp_path: Path) -> None:
    extra = PLAN + "  Stage: {kind: categorical}\n"
    report = run(tmp_path, OPEN_AND_YOUNG, extra=extra)
    assert "Stage" not in pd.read_parquet(tmp_path / "leads.parquet").columns
    assert report.dropped == ["Stage"]


def test_a_post_contact_open_column_is_still_read(tmp_path: Path) -> None:
    path = mapping_file(tmp_path, OPEN_AND_YOUNG)
    path.write_text(path.read_text() + "post_contact: [Status]\n")
    (tmp_path / "export.csv").write_text(EXPORT)
    import_export(tmp_path / "export.csv", load_mapping(path), tmp_path)
    assert converted(tmp_path) == EXPECTED


def test_an_unknown_open_column_names_the_key(tmp_path: Path) -> None:
    outcome = OPEN_AND_YOUNG.replace("column: Status", "column: Statuz")
    match = r"not in the file: 'Statuz' \(mapping\.yaml line 12: outcome\.open\.column\)"
    with pytest.raises(ValueError, match=match):
        run(tmp_path, outcome)


def test_open_values_no_lead_has_are_warned_about(tmp_path: Path) -> None:
    report = run(tmp_path, OPEN_AND_YOUNG.replace("[Working]", "[Working - Contacted]"))
    assert report.still_open == 0
    assert any(
        "outcome.open: no unconverted lead has one of the open values in Status" in w
        for w in report.warnings
    )


def test_decided_after_days_is_ignored_without_real_dates(tmp_path: Path) -> None:
    path = mapping_file(tmp_path, OPEN_AND_YOUNG)
    path.write_text(path.read_text().replace("created_at: Created", "created_at: none"))
    (tmp_path / "export.csv").write_text(EXPORT)
    report = import_export(tmp_path / "export.csv", load_mapping(path), tmp_path)
    assert converted(tmp_path) == [1, 0, NA, 1, 0, 1, NA, 0]  # open leads only
    assert report.too_young == 0
    (warning,) = [w for w in report.warnings if "decided_after_days" in w]
    assert "(30) ignored: the export has no creation dates" in warning


def test_decided_after_days_is_ignored_when_the_dates_cannot_order_leads(
    tmp_path: Path,
) -> None:
    same_day = "\n".join(
        ",".join([*line.split(",")[:1], "2024-05-20", *line.split(",")[2:]])
        for line in EXPORT.splitlines()[1:]
    )
    report = run(tmp_path, OPEN_AND_YOUNG, EXPORT.splitlines()[0] + "\n" + same_day + "\n")
    assert converted(tmp_path) == [1, 0, NA, 1, 0, 1, NA, 0]
    (warning,) = [w for w in report.warnings if "decided_after_days" in w]
    assert "ignored: created_at (Created): 8 of 8 leads (100%) share one creation" in warning


@pytest.mark.parametrize("style", STYLES)
def test_a_generated_export_round_trips_its_undecided_leads(
    style: Style, history_dir: Path, tmp_path: Path
) -> None:
    """The preset's open statuses plus the history's maturity rule: exactly the leads the
    history calls unresolved have no outcome, and every other lead has the history's."""
    export = write_crm_export(history_dir, tmp_path / "export.csv", style)
    preset = load_mapping(style)
    outcome = preset.outcome.model_copy(update={"decided_after_days": MATURITY_DAYS})
    mapping = preset.model_copy(update={"outcome": outcome})
    report = import_export(export.csv, mapping, tmp_path / "data")
    imported = pd.read_parquet(tmp_path / "data" / "outcomes.parquet").set_index("lead_id")
    leads = read_table(history_dir, "leads")
    history = lead_outcomes(leads, read_table(history_dir, "opportunities"))
    history = history.set_index("lead_id").loc[imported.index]
    undecided = imported["converted"].isna()
    assert (undecided == ~history["resolved"]).all()
    decided = ~undecided
    assert (imported.loc[decided, "converted"] == history.loc[decided, "won"]).all()
    assert report.undecided == int(undecided.sum()) > 0
    assert report.still_open > 0 and report.too_young > 0
    assert report.converted == int(history.loc[decided, "won"].sum()) > 0


def test_a_generated_export_with_the_preset_alone_leaves_out_the_open_leads(
    history_dir: Path, tmp_path: Path
) -> None:
    """Without the maturity rule only the leads Salesforce shows as open are undecided."""
    export = write_crm_export(history_dir, tmp_path / "export.csv", "salesforce")
    report = import_export(export.csv, load_mapping("salesforce"), tmp_path / "data")
    imported = pd.read_parquet(tmp_path / "data" / "outcomes.parquet")
    status = pd.read_csv(export.csv, dtype=str).set_index("Id")["Status"]
    still_open = status.loc[imported["lead_id"]].isin(
        ["Open - Not Contacted", "Working - Contacted"]
    )
    assert (imported["converted"].isna().to_numpy() == still_open.to_numpy()).all()
    assert (report.still_open, report.too_young) == (int(still_open.sum()), 0)
