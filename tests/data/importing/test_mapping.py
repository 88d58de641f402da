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


def test_presets_leave_out_the_leads_still_being_worked():
    salesforce = load_mapping("salesforce").outcome
    assert salesforce.open_column == "Status"
    assert salesforce.open is not None
    assert salesforce.open.values == ["open - not contacted", "working - contacted"]
    hubspot = load_mapping("hubspot").outcome
    assert hubspot.open_column == "Lead Status"
    assert hubspot.open is not None
    assert {"new", "open", "in_progress", "attempted_to_contact", "connected", "open_deal"} <= set(
        hubspot.open.values
    )
    assert salesforce.decided_after_days is None and hubspot.decided_after_days is None


def outcome_file(tmp_path: Path, outcome: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        f"columns: {{lead_id: Id}}\ncreated_at: C\nchannel: inbound\noutcome:\n{outcome}"
    )
    return path


def test_open_leads_and_decided_after_days_load(tmp_path: Path):
    outcome = (
        "  column: Stage\n  converted: [Won]\n  not_converted: [Lost]\n"
        "  open: {values: [Open, In Progress]}\n  decided_after_days: 90\n"
    )
    mapping = load_mapping(outcome_file(tmp_path, outcome))
    assert mapping.outcome.open_column == "Stage"  # the outcome column by default
    assert mapping.outcome.open is not None
    assert mapping.outcome.open.values == ["open", "in progress"]
    assert mapping.outcome.decided_after_days == 90
    assert mapping.outcome.columns == ["Stage"]


def test_open_beside_converted_if_filled_is_fine(tmp_path: Path):
    outcome = (
        "  column: ConvertedDate\n  converted_if_filled: true\n"
        "  open:\n    column: Status\n    values: [Working]\n"
    )
    mapping = load_mapping(outcome_file(tmp_path, outcome))
    assert mapping.outcome.columns == ["ConvertedDate", "Status"]
    assert mapping.used_columns()["Status"] == "outcome.open.column"


@pytest.mark.parametrize(
    ("outcome", "problem"),
    [
        (
            "  open: {column: Status, values: []}\n",
            r"outcome\.open\.values: List should have at least 1 item",
        ),
        ("  open: {column: Status}\n", r"outcome\.open\.values: Field required"),
        ("  open: {column: '', values: [x]}\n", r"outcome\.open\.column: String should have"),
        ("  open: {values: [Lost]}\n", r"outcome\.open: 'lost' also listed as converted"),
        ("  open: {values: [x], colum: S}\n", r"outcome\.open\.colum: Extra inputs"),
        ("  decided_after_days: 0\n", r"outcome\.decided_after_days: .*greater than or equal to 1"),
        ("  decided_after_days: -30\n", r"outcome\.decided_after_days: .*greater than or equal"),
        ("  decided_after_days: 1.5\n", r"outcome\.decided_after_days: .*valid integer"),
        ("  decided_after_days: yes\n", r"outcome\.decided_after_days: .*valid integer"),
    ],
)
def test_bad_open_rules_name_the_key(tmp_path: Path, outcome: str, problem: str):
    rule = "  column: Stage\n  converted: [Won]\n  not_converted: [Lost]\n"
    with pytest.raises(ValueError, match=rf"^mapping\.yaml: {problem}"):
        load_mapping(outcome_file(tmp_path, rule + outcome))


def test_open_on_a_filled_outcome_needs_its_own_column(tmp_path: Path):
    outcome = "  column: ConvertedDate\n  converted_if_filled: true\n  open: {values: [x]}\n"
    match = r"^mapping\.yaml: outcome\.open: needs a column of its own with converted_if_filled"
    with pytest.raises(ValueError, match=match):
        load_mapping(outcome_file(tmp_path, outcome))
