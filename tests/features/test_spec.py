"""One feature spec for training and serving: both paths must give the same numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import generate
from features.columns import FieldType, from_frame, from_records
from features.lead_features import default_spec, with_custom_columns
from features.spec import Feature, FeatureSpec, Kind


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    return generate(GeneratorConfig(leads=3_000, seed=11))["leads"]


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as an API client would send them: NA -> None, times as ISO strings with a zone."""
    rows = []
    for row in frame.to_dict("records"):
        clean = {str(k): (None if pd.isna(v) else v) for k, v in row.items()}
        clean["created_at"] = pd.Timestamp(row["created_at"]).tz_localize("UTC").isoformat()
        rows.append(clean)
    return rows


@pytest.mark.parametrize("channel", ["inbound", "outbound"])
def test_frame_and_records_paths_give_identical_matrices(leads: pd.DataFrame, channel: str) -> None:
    rows = leads[leads["channel"] == channel]
    spec = default_spec(channel)
    fitted = spec.fit(from_frame(rows, spec.input_fields))
    batch = fitted.transform(from_frame(rows, spec.input_fields))
    online = fitted.transform(from_records(_records(rows), spec.input_fields))
    np.testing.assert_array_equal(batch, online)
    assert np.isnan(batch).any(), "generated leads have missing values; they must stay NaN"


@pytest.mark.parametrize("channel", ["inbound", "outbound"])
def test_the_row_path_gives_the_batch_numbers_bit_for_bit(
    leads: pd.DataFrame, channel: str
) -> None:
    """The online fast path (plain Python per lead) against the vectorised training path."""
    rows = leads[leads["channel"] == channel]
    spec = default_spec(channel)
    fitted = spec.fit(from_frame(rows.iloc[::2], spec.input_fields))  # unseen values remain
    records = _records(rows)
    records[0] |= {
        "company_industry": "aerospace",
        "contact_title": "Chief Happiness Officer",
        "web_visits": 0,
        "touches": 0,
        "created_at": "2025-12-31T23:30:00-05:00",  # a new year in UTC
    }
    batch = fitted.transform(from_records(records, spec.input_fields))
    np.testing.assert_array_equal(fitted.transform_records(records), batch)
    assert fitted.unknown_in_records(records) == fitted.unknown_categories(
        from_records(records, spec.input_fields)
    )


def test_unknown_categories_and_missing_fields_never_raise(leads: pd.DataFrame) -> None:
    spec = default_spec("inbound")
    fitted = spec.fit(from_frame(leads, spec.input_fields))
    odd = {
        "lead_id": "x",
        "channel": "inbound",
        "created_at": "2025-03-01T10:00:00",
        "company_industry": "aerospace",
        "company_country": "ZZ",
    }
    columns = from_records([odd], spec.input_fields)
    row = fitted.transform(columns)[0]
    names = fitted.names
    assert np.isnan(row[names.index("company_industry")])
    assert np.isnan(row[names.index("web_visits")])
    assert row[names.index("created_month")] == 3
    assert fitted.unknown_categories(columns) == [
        (0, "company_industry", "aerospace"),
        (0, "company_country", "ZZ"),
    ]


def test_a_column_absent_from_a_file_reads_as_missing(leads: pd.DataFrame) -> None:
    spec = default_spec("outbound")
    fitted = spec.fit(from_frame(leads, spec.input_fields))
    matrix = fitted.transform(from_frame(leads.drop(columns=["replies"]), spec.input_fields))
    assert np.isnan(matrix[:, fitted.names.index("replies")]).all()
    assert np.isnan(matrix[:, fitted.names.index("reply_rate")]).all()


def test_vocabularies_come_from_training_rows_only(leads: pd.DataFrame) -> None:
    spec = default_spec("inbound")
    fitted = spec.fit(from_frame(leads[leads["company_industry"] != "energy"], spec.input_fields))
    assert "energy" not in fitted.vocabularies["company_industry"]
    assert fitted.vocabularies["company_industry"][0] == "software"  # most frequent first


def test_transform_before_fit_is_refused(leads: pd.DataFrame) -> None:
    spec = default_spec("inbound")
    with pytest.raises(RuntimeError, match="before fit"):
        spec.transform(from_frame(leads, spec.input_fields))


def test_a_customer_column_is_added_without_code(leads: pd.DataFrame) -> None:
    """The spec is data: a new column needs a record, not a new class."""
    spec = default_spec("inbound").with_features(
        [Feature.from_dict({"name": "partner_tier", "kind": "categorical"})],
        {"partner_tier": FieldType.text},
    )
    tiers = pd.Series(["gold" if i % 2 == 0 else None for i in range(len(leads))], leads.index)
    frame = leads.assign(partner_tier=tiers)
    fitted = spec.fit(from_frame(frame, spec.input_fields))
    column = fitted.transform(from_frame(frame, spec.input_fields))[:, -1]
    assert fitted.names[-1] == "partner_tier"
    assert set(np.unique(column[~np.isnan(column)])) == {0.0}
    assert np.isnan(column[1::2]).all()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "x", "kind": "text"}, "kind must be one of"),
        ({"name": "x", "kind": "numeric", "derive": "cube"}, "unknown derive 'cube'"),
        ({"name": "x", "kind": "numeric", "colour": "red"}, "unknown keys \\['colour'\\]"),
        ({"name": "x", "kind": "numeric", "monotone": 2}, "monotone must be -1, 0 or 1"),
        ({"name": "x", "kind": "categorical", "monotone": 1}, "categorical feature has no order"),
    ],
)
def test_bad_feature_definitions_name_the_feature_and_the_problem(
    raw: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as error:
        Feature.from_dict(raw)
    assert "'x'" in str(error.value)


def test_a_spec_refuses_repeated_names_and_undeclared_fields() -> None:
    feature = Feature(name="a", kind=Kind.numeric, fields=("a",))
    with pytest.raises(ValueError, match="repeat"):
        FeatureSpec(features=(feature, feature), field_types={"a": FieldType.number})
    with pytest.raises(ValueError, match="no declared type: \\['a'\\]"):
        FeatureSpec(features=(feature,), field_types={})


def test_an_imports_custom_columns_agree_on_both_paths(leads: pd.DataFrame) -> None:
    """Custom columns of every kind, a timestamp among them, give the same numbers
    whether they come from a Parquet file or from an API lead's custom_fields."""
    spec = with_custom_columns(
        default_spec("inbound"),
        {"plan": "categorical", "seats": "numeric", "trial": "boolean", "visited": "timestamp"},
    )
    rows = leads[leads["channel"] == "inbound"].head(500).reset_index(drop=True)
    n = len(rows)
    created = pd.to_datetime(rows["created_at"])
    i = pd.Series(np.arange(n))
    visited = (created - pd.to_timedelta(7 * i, unit="h")).where(i % 6 != 0)
    frame = rows.assign(
        plan=pd.Series("pro", index=i.index).where(i % 3 != 0),
        seats=(i % 7).astype(float).where(i % 5 != 0),
        trial=(i % 2 == 1).astype(object).where(i % 4 != 0),
        visited=visited,
    )
    fitted = spec.fit(from_frame(frame, spec.input_fields))
    records = _records(frame)
    for record, when in zip(records, visited, strict=True):
        record["visited"] = None if pd.isna(when) else pd.Timestamp(when).isoformat() + "Z"
    batch = fitted.transform(from_frame(frame, spec.input_fields))
    np.testing.assert_array_equal(fitted.transform_records(records), batch)
    days = batch[:, fitted.names.index("visited")]
    assert days[1] == pytest.approx(7 / 24)
    assert np.isnan(days[0])
