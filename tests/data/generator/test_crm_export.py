"""Generated CRM exports: named as the presets expect, importable, and carrying exactly the
problems planted in them, shaped as real ones are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from data.generator.crm_export import NAMES, OPEN_STATUSES, STATUS, STYLES, Style, write_crm_export
from data.importing.importer import import_export
from data.importing.mapping import load_mapping
from data.tables import read_table
from features.columns import FieldType
from leadscore.cli import app
from training.leakage import single_column_auc

runner = CliRunner()


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("style", STYLES)
def test_an_export_has_the_columns_its_preset_reads_and_imports_with_it(
    style: Style, history_dir: Path, tmp_path: Path
) -> None:
    export = write_crm_export(history_dir, tmp_path / f"export-{style}.csv", style, seed=1)
    frame = read(export.csv)
    preset = load_mapping(style)
    assert set(preset.used_columns()) <= set(frame.columns)
    assert set(preset.exclude) <= set(frame.columns)
    # status, owner, ...; Salesforce's also names the deal a lead became (a link)
    post_contact = 6 if style == "salesforce" else 5
    assert len(set(preset.post_contact) & set(frame.columns)) == post_contact
    assert export.leaks == ()
    leads = read_table(history_dir, "leads")
    inbound = int((leads["channel"] == "inbound").sum())
    report = import_export(export.csv, preset, tmp_path / "preset")
    assert (report.rows_read, report.rows_imported) == (inbound, inbound)
    assert 0 < report.converted < inbound
    imported = import_export(export.csv, load_mapping(export.mapping), tmp_path / "custom")
    assert imported.rows_imported == inbound
    columns = pd.read_parquet(tmp_path / "custom" / "leads.parquet").columns
    assert set(export.honest) <= set(columns)


@pytest.mark.parametrize("style", STYLES)
def test_undecided_leads_are_in_the_export_with_an_open_status(
    style: Style, history_dir: Path, tmp_path: Path
) -> None:
    frame = read(write_crm_export(history_dir, tmp_path / "export.csv", style).csv)
    status = frame[NAMES[style]["status"]]
    open_share = status.isin(OPEN_STATUSES[style]).mean()
    assert 0.1 < open_share < 0.35
    assert (status == STATUS[style]["new"]).any()
    open_rule = load_mapping(style).outcome.open
    assert open_rule is not None and open_rule.column == NAMES[style]["status"]
    assert {s.lower() for s in OPEN_STATUSES[style]} <= set(open_rule.values)


def test_dates_and_ids_can_be_left_out(history_dir: Path, tmp_path: Path) -> None:
    plain = read(write_crm_export(history_dir, tmp_path / "a.csv", "hubspot").csv)
    bare = read(
        write_crm_export(history_dir, tmp_path / "b.csv", "hubspot", {"no-dates", "no-ids"}).csv
    )
    assert set(plain.columns) - set(bare.columns) == {"Create Date", "Record ID"}
    with pytest.raises(ValueError, match="unknown plant"):
        write_crm_export(history_dir, tmp_path / "c.csv", "hubspot", {"leak"})


@pytest.fixture(scope="module")
def planted(history_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("planted")
    export = write_crm_export(history_dir, folder / "export.csv", "salesforce", {"leaks"}, seed=3)
    assert export.leaks == ("Tags__c", "Lead_Quality__c", "Last_Activity__c", "Closed_On__c")
    import_export(export.csv, load_mapping(export.mapping), folder / "data")
    leads = pd.read_parquet(folder / "data" / "leads.parquet")
    outcomes = pd.read_parquet(folder / "data" / "outcomes.parquet")
    status = read(export.csv).set_index("Id")["Status"]
    open_ = status.loc[leads["lead_id"]].isin(OPEN_STATUSES["salesforce"]).to_numpy()
    # The preset's open rule: the leads the export shows as open have no outcome.
    assert (outcomes["converted"].isna().to_numpy() == open_).all()
    leads["undecided"] = open_
    leads["converted"] = outcomes["converted"].fillna(0).astype(int).to_numpy()
    return leads.sort_values("created_at", kind="stable").reset_index(drop=True)


KINDS = {
    "Signup_Plan__c": FieldType.text,
    "Lead_Origin__c": FieldType.text,
    "Time_On_Site__c": FieldType.number,
    "Tags__c": FieldType.text,
    "Lead_Quality__c": FieldType.text,
    "Last_Activity__c": FieldType.text,
    "Closed_On__c": FieldType.time,
}


def test_planted_leaks_are_telling_but_not_perfect_and_honest_fields_predict(
    planted: pd.DataFrame,
) -> None:
    decided = planted[~planted["undecided"]]
    y = decided["converted"].to_numpy()
    auc = {c: single_column_auc(decided[c], kind, y) or 0 for c, kind in KINDS.items()}
    for column in ("Tags__c", "Lead_Quality__c", "Last_Activity__c", "Closed_On__c"):
        assert 0.68 < auc[column] < 0.93, (column, auc[column])
    for column in ("Signup_Plan__c", "Lead_Origin__c", "Time_On_Site__c"):
        assert 0.6 < auc[column] < 0.78, (column, auc[column])


def test_leaks_are_blank_until_a_lead_is_worked_and_honest_fields_are_not(
    planted: pd.DataFrame,
) -> None:
    newest, older = planted.iloc[-len(planted) // 50 :], planted.iloc[: len(planted) // 2]
    for column in ("Tags__c", "Last_Activity__c"):
        assert newest[column].notna().mean() < older[column].notna().mean() - 0.2
    for column in ("Signup_Plan__c", "Lead_Origin__c", "Time_On_Site__c"):
        assert abs(newest[column].notna().mean() - older[column].notna().mean()) < 0.05
    assert planted.loc[planted["undecided"], "Closed_On__c"].isna().all()
    closed = planted["Closed_On__c"].dropna()
    assert (closed > planted.loc[closed.index, "created_at"]).all()


def test_some_tags_appear_only_once_a_lead_is_decided(planted: pd.DataFrame) -> None:
    undecided = set(planted.loc[planted["undecided"], "Tags__c"].dropna())
    decided = planted.loc[~planted["undecided"], "Tags__c"]
    only = decided[~decided.isin(undecided) & decided.notna()]
    assert {"Closed by Horizzon", "Lost to EINS"} <= set(only)
    assert len(only) > 0.1 * len(decided)
    assert np.mean(planted["Tags__c"].str.contains(";", na=False)) > 0.05  # free text


def test_generate_writes_the_exports_asked_for(tmp_path: Path) -> None:
    args = ["generate", "--out", str(tmp_path), "--leads", "600", "--export", "salesforce"]
    result = runner.invoke(app, [*args, "--export", "hubspot", "--plant", "leaks,no-ids"])
    assert result.exit_code == 0, result.output
    salesforce = read(tmp_path / "export-salesforce.csv")
    assert "Tags__c" in salesforce.columns and "Id" not in salesforce.columns
    assert "Tags" in read(tmp_path / "export-hubspot.csv").columns
    assert load_mapping(tmp_path / "export-hubspot.yaml").extra["Tags"].kind == "categorical"
    refused = runner.invoke(app, [*args, "--plant", "leak"])
    assert refused.exit_code != 0 and "--plant" in refused.output
    alone = runner.invoke(app, ["generate", "--out", str(tmp_path), "--plant", "leaks"])
    assert alone.exit_code != 0 and "--export" in alone.output
