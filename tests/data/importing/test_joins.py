"""A second export joined on a key (the deals of each lead), outcomes defined by a
filled column, timestamp extras, and post-contact columns that never become features."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from data.importing.importer import METADATA_KEY, import_export
from data.importing.mapping import Mapping, load_mapping

LEADS = """\
id,first_contact,origin,page,visited
a,2024-01-05,social,p1,2024-01-01
b,2024-01-06,email,p2,2024-01-06
c,2024-01-07,,p1,
d,2024-01-08,social,p3,2024-01-02
"""
DEALS = """\
id,won_on,segment,revenue
a,2024-02-01 10:00:00,pet,"1,000"
d,2024-03-01 09:00:00,toys,20
"""

MAPPING = """\
joins:
  - file: deals.csv
    key: id
    post_contact: {post_contact}
columns:
  lead_id: id
  source: origin
created_at: first_contact
channel: inbound
extra:
  page: {{kind: categorical}}
  visited: {{kind: timestamp}}
  segment: {{kind: categorical}}
  revenue: {{kind: numeric}}
outcome:
  column: won_on
  converted_if_filled: true
"""


def setup(tmp_path: Path, post_contact: bool, deals: str = DEALS) -> tuple[Path, Mapping]:
    (tmp_path / "leads.csv").write_text(LEADS)
    (tmp_path / "deals.csv").write_text(deals)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING.format(post_contact=str(post_contact).lower()))
    return tmp_path / "leads.csv", load_mapping(mapping)


def test_joined_columns_and_a_filled_outcome(tmp_path: Path) -> None:
    export, mapping = setup(tmp_path, post_contact=False)
    report = import_export(export, mapping, tmp_path / "out")
    leads = pd.read_parquet(tmp_path / "out" / "leads.parquet")
    outcomes = pd.read_parquet(tmp_path / "out" / "outcomes.parquet")
    assert outcomes["converted"].tolist() == [1, 0, 0, 1]
    assert report.converted == 2
    assert leads["segment"].tolist() == ["pet", None, None, "toys"]
    assert leads["revenue"].tolist()[0] == 1000.0
    assert leads["visited"].tolist()[:2] == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-06")]
    assert pd.isna(leads["visited"].iloc[2])
    described = json.loads(
        pq.read_schema(tmp_path / "out" / "leads.parquet").metadata[METADATA_KEY]
    )
    assert described["extra"] == {
        "page": "categorical",
        "visited": "timestamp",
        "segment": "categorical",
        "revenue": "numeric",
    }
    assert described["post_contact_dropped"] == []


def test_a_post_contact_join_gives_the_outcome_and_no_features(tmp_path: Path) -> None:
    export, mapping = setup(tmp_path, post_contact=True)
    report = import_export(export, mapping, tmp_path / "out")
    leads = pd.read_parquet(tmp_path / "out" / "leads.parquet")
    assert "segment" not in leads and "revenue" not in leads and "won_on" not in leads
    assert pd.read_parquet(tmp_path / "out" / "outcomes.parquet")["converted"].sum() == 2
    assert report.dropped == ["segment", "revenue"]
    assert any("segment: known only after first contact" in note for note in report.notes)
    described = json.loads(
        pq.read_schema(tmp_path / "out" / "leads.parquet").metadata[METADATA_KEY]
    )
    assert described["post_contact_dropped"] == ["segment", "revenue"]
    assert set(described["extra"]) == {"page", "visited"}


def test_repeated_keys_in_the_joined_file_are_refused(tmp_path: Path) -> None:
    export, mapping = setup(tmp_path, False, DEALS + "a,2024-02-02,pet,1\n")
    with pytest.raises(ValueError, match=r"deals\.csv: key 'id' repeats \(e\.g\. 'a'\)"):
        import_export(export, mapping, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_joined_file_without_the_key_is_refused(tmp_path: Path) -> None:
    export, mapping = setup(tmp_path, False, DEALS.replace("id,", "lead,", 1))
    with pytest.raises(ValueError, match=r"deals\.csv: no key column 'id'.*mapping\.yaml line 2"):
        import_export(export, mapping, tmp_path / "out")


def test_a_column_in_both_files_is_refused(tmp_path: Path) -> None:
    export, mapping = setup(tmp_path, False, DEALS.replace("segment", "origin"))
    with pytest.raises(ValueError, match=r"column\(s\) origin also in leads\.csv"):
        import_export(export, mapping, tmp_path / "out")


def test_a_missing_joined_file_is_named(tmp_path: Path) -> None:
    export, mapping = setup(tmp_path, False)
    (tmp_path / "deals.csv").unlink()
    with pytest.raises(ValueError, match=r"deals\.csv: cannot read the export"):
        import_export(export, mapping, tmp_path / "out")


@pytest.mark.parametrize(
    ("outcome", "problem"),
    [
        ("  column: won_on\n", "give either converted"),
        ("  column: won_on\n  converted: [x]\n  converted_if_filled: true\n", "not both"),
        (
            "  column: won_on\n  converted_if_filled: true\n  not_converted: [y]\n",
            "not_converted has no meaning",
        ),
    ],
)
def test_the_outcome_rule_must_be_one_of_two(tmp_path: Path, outcome: str, problem: str) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        f"columns:\n  lead_id: id\ncreated_at: first_contact\nchannel: inbound\noutcome:\n{outcome}"
    )
    with pytest.raises(ValueError, match=rf"mapping\.yaml: outcome: .*{problem}"):
        load_mapping(path)
