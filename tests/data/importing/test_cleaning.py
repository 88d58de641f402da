"""Each cleaner reads what is certain and reports the rest."""

import pandas as pd
import pytest

from data.importing.cleaning import blank_out, clean_boolean, clean_date, clean_number


def text(*values: str | None) -> pd.Series:
    return pd.Series(list(values), dtype=object)


def test_placeholders_become_missing_and_are_counted():
    frame = pd.DataFrame({"a": ["x", " N/A ", "Select", "-"], "b": ["1", "null", "2", "None"]})
    cleaned, counts = blank_out(frame, ["", "Select", "N/A", "-", "null", "None"])
    assert cleaned["a"].isna().tolist() == [False, True, True, True]
    assert counts == {"a": 3, "b": 2}


def test_booleans_in_any_spelling_and_no_guessing():
    cleaned = clean_boolean(
        text("Yes", "no", "TRUE", "false", "1", "0", "y", "N", "maybe", None), "x"
    )
    assert cleaned.values.tolist()[:8] == [True, False, True, False, True, False, True, False]
    assert cleaned.values.isna().tolist()[8:] == [True, True]
    assert [(e.row, e.value) for e in cleaned.errors] == [(8, "maybe")]


def test_numbers_with_currency_spaces_and_separators():
    cleaned = clean_number(text("$1,200", "1 200", "€ 3", "1,500,000.50", "12", None), "rev")
    assert cleaned.values.tolist()[:5] == [1200, 1200, 3, 1_500_000.5, 12]
    assert not cleaned.errors and not cleaned.notes


def test_european_numbers_when_the_column_shows_it():
    cleaned = clean_number(text("1.200,50", "1.200", "3,5"), "rev")
    assert cleaned.values.tolist() == [1200.5, 1200, 3.5]


def test_mixed_number_styles_are_reported_and_left_missing():
    cleaned = clean_number(text("1,200", "1.200", "7"), "rev")
    assert cleaned.values.isna().tolist() == [True, True, False]
    assert "rev" in cleaned.notes[0] and "1,200" in cleaned.notes[0]
    assert {e.reason for e in cleaned.errors} == {"ambiguous number style (1,200 vs 1.200)"}


def test_text_in_a_number_column_is_an_error():
    cleaned = clean_number(text("lots", "5"), "size")
    assert [(e.row, e.reason) for e in cleaned.errors] == [(0, "not a number")]


def test_iso_dates_with_times_and_zones():
    cleaned = clean_date(
        text("2024-01-05", "2024-01-05 10:30", "2024-01-05T10:00:00.000+0100"), "d"
    )
    assert cleaned.values.tolist() == [
        pd.Timestamp("2024-01-05"),
        pd.Timestamp("2024-01-05 10:30"),
        pd.Timestamp("2024-01-05 09:00"),
    ]


@pytest.mark.parametrize(
    ("values", "expected", "order"),
    [
        (("12/31/2024", "01/02/2024"), ["2024-12-31", "2024-01-02"], "MM/DD/YYYY"),
        (("31/12/2024", "01/02/2024"), ["2024-12-31", "2024-02-01"], "DD/MM/YYYY"),
    ],
)
def test_slash_dates_take_the_order_the_column_proves(values, expected, order):
    cleaned = clean_date(text(*values), "d")
    assert cleaned.values.tolist() == [pd.Timestamp(v) for v in expected]
    assert order in cleaned.notes[0]


def test_ambiguous_day_month_order_refuses_the_column():
    cleaned = clean_date(text("01/02/2024", "03/04/2024"), "Created")
    assert cleaned.refused is not None
    assert "Created" in cleaned.refused
    assert "MM/DD/YYYY" in cleaned.refused and "DD/MM/YYYY" in cleaned.refused


def test_unparseable_dates_are_errors():
    cleaned = clean_date(text("2024-01-05", "last tuesday"), "d")
    assert [(e.row, e.reason) for e in cleaned.errors] == [(1, "unparseable date")]
