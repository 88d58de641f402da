"""Mapping files and presets load, and errors name the file and the key."""

from pathlib import Path

import pytest

from data.importing.mapping import DEFAULT_BLANKS, load_mapping


@pytest.mark.parametrize("preset", ["salesforce", "hubspot"])
def test_presets_resolve_by_name(preset):
    mapping = load_mapping(preset)
    assert mapping.columns["lead_id"] in ("Id", "Record ID")
    assert mapping.blanks == DEFAULT_BLANKS


def test_salesforce_preset_fields():
    mapping = load_mapping("salesforce")
    assert mapping.columns["company_size"] == "NumberOfEmployees"
    assert mapping.created_at == "CreatedDate"
    assert mapping.outcome.converted == ["true"]


def test_hubspot_preset_outcome():
    assert load_mapping("hubspot").outcome.converted == ["customer", "opportunity"]


def test_bad_key_names_the_file_and_key(tmp_path: Path):
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "columns:\n  lead_id: Id\n  company_size: [1]\ncreated_at: C\nchannel: inbound\n"
        "outcome: {column: W, converted: [yes]}\n"
    )
    with pytest.raises(ValueError, match=r"^mapping\.yaml: columns\.company_size: "):
        load_mapping(path)


def test_unknown_contract_field_is_refused(tmp_path: Path):
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "columns: {lead_id: Id, headcount: E}\ncreated_at: C\nchannel: inbound\n"
        "outcome: {column: W, converted: [yes]}\n"
    )
    with pytest.raises(ValueError, match=r"mapping\.yaml: columns: .*'headcount'"):
        load_mapping(path)


def test_yaml_booleans_in_outcome_values_read_as_text(tmp_path: Path):
    path = tmp_path / "m.yaml"
    path.write_text(
        "columns: {lead_id: Id}\ncreated_at: C\nchannel: Chan\n"
        "outcome: {column: W, converted: [true, 1]}\n"
    )
    mapping = load_mapping(path)
    assert mapping.outcome.converted == ["true", "1"]
    assert mapping.channel_column == "Chan"


@pytest.mark.parametrize("created_at", ["", "created_at: none\n", "created_at: None\n"])
def test_created_at_may_be_left_out(tmp_path: Path, created_at: str):
    path = tmp_path / "m.yaml"
    path.write_text(
        f"columns: {{lead_id: Id}}\n{created_at}channel: inbound\n"
        "outcome: {column: W, converted: [yes]}\n"
    )
    mapping = load_mapping(path)
    assert mapping.created_at is None
    assert set(mapping.used_columns()) == {"Id", "W"}


@pytest.mark.parametrize("columns", ["columns: {source: S}\n", "columns: {lead_id: none}\n", ""])
def test_lead_id_may_be_left_out(tmp_path: Path, columns: str):
    path = tmp_path / "m.yaml"
    path.write_text(
        f"{columns}created_at: C\nchannel: inbound\noutcome: {{column: W, converted: [y]}}\n"
    )
    mapping = load_mapping(path)
    assert mapping.id_column is None
    assert "lead_id" not in mapping.columns
    assert "none" not in mapping.used_columns()
