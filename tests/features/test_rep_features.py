"""Rep features on hand-built histories: point-in-time rates, smoothing, matching, roster."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from data.contract import Role
from features.columns import from_frame
from features.derivations import contains, count_items, same, same_segment
from features.rates import Outcomes, Rate, RateFeatures, counts_before
from features.rep_features import REP_FIELD_TYPES, Roster, account_manager_spec, closer_spec

PRIOR = 0.4
SEGMENT = {
    "name": "segment",
    "kind": "categorical",
    "derive": "segment",
    "fields": ["company_size"],
}
RATES = RateFeatures(
    rates=(
        Rate.from_dict({"name": "win_rate"}),
        Rate.from_dict({"name": "segment_win_rate", "by": SEGMENT}),
        Rate.from_dict(
            {"name": "industry_win_rate", "by": {"name": "company_industry", "kind": "categorical"}}
        ),
    ),
    strength=20.0,
)


def day(n: float) -> np.datetime64:
    return np.datetime64("2025-01-01T00:00:00", "us") + np.timedelta64(int(n * 86_400e6), "us")


def _columns(rows: Sequence[tuple[str | None, str | None, float]]) -> dict[str, np.ndarray]:
    """(rep, industry, company size) rows as pair columns."""
    return {
        "rep_id": np.array([r[0] for r in rows], dtype=object),
        "company_industry": np.array([r[1] for r in rows], dtype=object),
        "company_size": np.array([r[2] for r in rows], dtype=float),
    }


def _history(deals: Sequence[tuple[str, str, float, float, int]]) -> Outcomes:
    """(rep, industry, size, closed on day, won) deals."""
    return Outcomes(
        columns=_columns([(d[0], d[1], d[2]) for d in deals]),
        known_at=np.array([day(d[3]) for d in deals], dtype="datetime64[us]"),
        y=np.array([d[4] for d in deals], dtype=np.int8),
    )


# Closer A before day 5: 3 deals, 2 won; smb 2 deals, 1 won; software 2 deals, 2 won.
PAST = [
    ("A", "software", 50, 1, 1),
    ("A", "finance", 80, 2, 0),
    ("A", "software", 5000, 3, 1),
    ("B", "software", 50, 1, 0),
]
EXPECTED_A = {
    "win_rate": (2 + 8) / 23,
    "segment_win_rate": (1 + 8) / 22,
    "industry_win_rate": (2 + 8) / 22,
}
QUERY = _columns([("A", "software", 60)])


def _fitted(history: Outcomes, as_of: float = 5) -> RateFeatures:
    return RATES.fit(history, day(as_of), prior=PRIOR)


def test_smoothing_pulls_toward_the_prior_with_twenty_pseudo_deals() -> None:
    rates = _fitted(_history(PAST))
    np.testing.assert_allclose(
        rates.smooth(np.array([10.0, 0.0]), np.array([7.0, 0.0])), [(7 + 20 * PRIOR) / 30, PRIOR]
    )


def test_point_in_time_rates_match_the_hand_computed_numbers() -> None:
    history = _history(PAST)
    rates = _fitted(history).point_in_time(QUERY, np.array([day(5)]), history)
    for name, expected in EXPECTED_A.items():
        assert rates[name][0] == pytest.approx(expected), name


def test_deals_closing_later_never_change_an_earlier_rows_rates() -> None:
    later = [
        ("A", "software", 60, 5, 0),
        ("A", "software", 60, 5.5, 0),
        ("A", "finance", 70, 40, 1),
        ("A", "retail", 3000, 90, 0),
    ]
    before = _history(PAST)
    after = _history([*PAST, *later])
    at = np.array([day(5)])
    fitted = _fitted(before)
    without, with_later = (
        fitted.point_in_time(QUERY, at, before),
        fitted.point_in_time(QUERY, at, after),
    )
    for name, expected in EXPECTED_A.items():
        assert without[name][0] == with_later[name][0] == pytest.approx(expected)
    # ... while a row decided after them does see them.
    moved = fitted.point_in_time(QUERY, np.array([day(100)]), after)
    assert moved["win_rate"][0] != pytest.approx(EXPECTED_A["win_rate"])


def test_an_outcome_known_at_the_very_moment_of_the_decision_does_not_count() -> None:
    deals, wins = counts_before(
        np.array(["A", "A", "A"], dtype=object),
        np.array([day(1), day(5), np.datetime64("NaT", "us")], dtype="datetime64[us]"),
        np.array([1, 1, 1]),
        np.array(["A", "B"], dtype=object),
        np.array([day(5), day(5)], dtype="datetime64[us]"),
    )
    np.testing.assert_array_equal(deals, [1, 0])  # the NaT (still open) deal never counts
    np.testing.assert_array_equal(wins, [1, 0])


def test_unknown_rep_gets_the_prior_and_unknown_key_is_missing() -> None:
    rates = _fitted(_history(PAST))
    query = _columns([("Z", "software", 60), ("A", None, np.nan), (None, "software", 60)])
    out = rates.transform(query)
    assert out["win_rate"] == pytest.approx([PRIOR, EXPECTED_A["win_rate"], PRIOR])
    assert out["industry_win_rate"][0] == pytest.approx(PRIOR)
    assert np.isnan(out["industry_win_rate"][1]) and np.isnan(out["segment_win_rate"][1])


def test_frozen_counts_give_what_point_in_time_gives_at_the_cut_off() -> None:
    deals = [*PAST, ("A", "software", 60, 9, 0), ("B", "finance", 900, 12, 1)]
    history = _history(deals)
    rates = _fitted(history, as_of=10)
    query = _columns([("A", "software", 60), ("B", "finance", 300), ("B", "energy", 300)])
    at = np.full(3, day(10))
    frozen, live = rates.transform(query), rates.point_in_time(query, at, history)
    for name in rates.names:
        np.testing.assert_allclose(frozen[name], live[name])


def test_match_derivations_treat_unknown_as_missing() -> None:
    lead = np.array(["emea", "apac", None, "emea"], dtype=object)
    rep = np.array(["emea", "emea", "emea", None], dtype=object)
    np.testing.assert_array_equal(same(lead, rep), [1.0, 0.0, np.nan, np.nan])
    focus = np.empty(3, dtype=object)
    focus[:] = [("retail", "finance"), (), None]
    industries = np.array(["finance", "finance", "finance"], dtype=object)
    np.testing.assert_array_equal(contains(industries, focus), [1.0, 0.0, np.nan])
    np.testing.assert_array_equal(count_items(focus), [2.0, 0.0, np.nan])
    sizes = np.array([50.0, 5000.0, np.nan])
    np.testing.assert_array_equal(
        same_segment(sizes, np.array(["smb", "smb", "smb"], dtype=object)), [1.0, 0.0, np.nan]
    )


def test_roster_reads_parquet_style_arrays_and_selects_unknown_ids() -> None:
    reps = pd.DataFrame(
        {
            "rep_id": ["CL001", "AM001"],
            "role": ["closer", "account_manager"],
            "region": ["emea", "apac"],
            "segment": [None, None],
            "industries": [
                np.array(["finance", "retail"], dtype=object),
                np.array([], dtype=object),
            ],
        }
    )
    roster = Roster.from_frame(reps, Role.closer)
    assert roster.rep_ids == ("CL001",)
    assert roster.industries == (("finance", "retail"),)
    picked = roster.select(["NEW", "CL001"])
    columns = picked.columns(np.array([1, 0, 1]))
    assert list(columns["rep_id"]) == ["CL001", "NEW", "CL001"]
    assert list(columns["rep_region"]) == ["emea", None, "emea"]
    assert columns["rep_industries"][1] is None


def _leads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ["L1", "L2"],
            "company_industry": ["software", "retail"],
            "company_size": [60, 5000],
            "company_region": ["emea", "apac"],
            "created_at": pd.to_datetime(["2025-01-02", "2025-01-03"]),
        }
    )


def test_the_closer_spec_puts_the_point_in_time_rates_into_the_matrix() -> None:
    spec = closer_spec()
    roster = Roster.from_records(
        [
            {"rep_id": "A", "region": "emea", "industries": ["software"]},
            {"rep_id": "B", "region": "apac", "industries": []},
        ]
    )
    leads = from_frame(_leads(), spec.lead_fields)
    pairs = spec.pair_columns(leads, np.array([0, 1]), roster, np.array([0, 1]))
    fitted = spec.fit(pairs, _history(PAST), day(5), PRIOR, roster)
    matrix = fitted.transform_point_in_time(pairs, np.array([day(5), day(5)]), _history(PAST))
    names = fitted.names
    assert matrix[0, names.index("closer_win_rate")] == pytest.approx(EXPECTED_A["win_rate"])
    assert matrix[0, names.index("closer_industry_win_rate")] == pytest.approx(
        EXPECTED_A["industry_win_rate"]
    )
    assert matrix[1, names.index("closer_industry_win_rate")] == pytest.approx(
        PRIOR
    )  # B: no retail
    assert list(matrix[:, names.index("region_match")]) == [1.0, 1.0]
    assert list(matrix[:, names.index("industry_in_focus")]) == [1.0, 0.0]
    np.testing.assert_array_equal(matrix, fitted.transform(pairs))  # as_of = the decision time


def test_lead_only_spec_drops_every_rep_match_and_rate_feature() -> None:
    for spec in (closer_spec(), account_manager_spec()):
        lead_only = spec.lead_only()
        assert lead_only.rates.rates == ()
        rep_fields = set(REP_FIELD_TYPES) | set(spec.rates.names)
        assert all(not rep_fields & set(f.fields) for f in lead_only.features.features)
        assert set(lead_only.names) < set(spec.names)
        assert "company_industry" in lead_only.names


def test_specs_read_only_contract_fields_and_name_the_rep_column() -> None:
    assert closer_spec().id_field == "closer_id"
    assert account_manager_spec().id_field == "account_manager_id"
    assert "account_value" in account_manager_spec().lead_fields
    assert {"company_industry", "company_size", "channel"} <= set(closer_spec().lead_fields)
    assert not set(REP_FIELD_TYPES) & set(closer_spec().lead_fields)


def test_rate_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown keys"):
        Rate.from_dict({"name": "x", "per": "segment"})
    with pytest.raises(RuntimeError, match="before fit"):
        RATES.smooth(np.array([1.0]), np.array([1.0]))
