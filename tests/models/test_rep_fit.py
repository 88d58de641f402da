"""The rep-fit model object: one scoring path for matrices, pairs, frames and API rows."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from data.contract import Role
from data.json_rows import to_records
from features.columns import from_records, take
from models.rep_fit import RepFitModel
from training.role_fit import FittedRep


@pytest.fixture(scope="module")
def closer(fitted_reps: dict[Role, FittedRep]) -> FittedRep:
    return fitted_reps[Role.closer]


@pytest.fixture(scope="module")
def manager(fitted_reps: dict[Role, FittedRep]) -> FittedRep:
    return fitted_reps[Role.account_manager]


def _rows(fitted: FittedRep, n: int = 200) -> pd.DataFrame:
    return fitted.data.rows.iloc[fitted.split.validation[:n]].reset_index(drop=True)


def test_fit_is_a_leads_by_reps_matrix_equal_to_scoring_each_pair(closer: FittedRep) -> None:
    model, rows = closer.model, _rows(closer)
    matrix = model.fit(rows)
    assert matrix.shape == (len(rows), len(model.rep_ids)) == (200, 12)
    assert np.all((matrix > 0) & (matrix < 1))
    for j, rep in enumerate(model.rep_ids):
        pairs = model.score_pairs(rows, [rep] * len(rows)).probability
        np.testing.assert_array_equal(matrix[:, j], pairs)


def test_frames_columns_and_api_records_give_identical_fits(closer: FittedRep) -> None:
    model, rows = closer.model, _rows(closer, 50)
    from_rows = model.fit(rows)
    from_columns = model.fit(take(closer.data.columns, closer.split.validation[:50]))
    records = to_records(rows)
    from_api = model.fit(from_records(records, model.spec.lead_fields))
    np.testing.assert_array_equal(from_rows, from_columns)
    np.testing.assert_allclose(from_rows, from_api, rtol=1e-12)
    by_frame = model.score_frame(rows).probability
    assigned = [model.rep_ids.index(rep) for rep in rows["closer_id"]]
    np.testing.assert_array_equal(by_frame, from_rows[np.arange(len(rows)), assigned])


def test_candidates_can_be_ids_or_roster_rows_including_new_reps(
    closer: FittedRep, rep_tables: dict[str, pd.DataFrame]
) -> None:
    model, rows = closer.model, _rows(closer, 30)
    full = model.fit(rows)
    some = ["CL007", "CL002"]
    np.testing.assert_array_equal(
        model.fit(rows, some), full[:, [model.rep_ids.index(r) for r in some]]
    )
    roster = rep_tables["reps"]
    np.testing.assert_array_equal(model.fit(rows, roster), full)
    newcomer = pd.DataFrame(
        [
            {
                "rep_id": "CL999",
                "role": "closer",
                "region": "emea",
                "segment": None,
                "industries": ["software"],
            }
        ]
    )
    fresh = model.fit(rows, newcomer)
    unknown = model.fit(rows, ["NOBODY"])
    assert fresh.shape == unknown.shape == (30, 1)
    assert np.all(np.isfinite(fresh)) and np.all(np.isfinite(unknown))
    with pytest.raises(TypeError, match="sequence of rep ids"):
        model.fit(rows, "CL001")


def test_a_closer_gains_on_leads_of_his_own_region(closer: FittedRep) -> None:
    """Difference in differences: the lead's region alone moves every closer alike."""
    model, rows = closer.model, _rows(closer, 500)
    regions = np.array(model.spec.roster.region if model.spec.roster else ())
    emea, apac = regions == "emea", regions == "apac"
    as_emea = model.fit(rows.assign(company_region="emea"))
    as_apac = model.fit(rows.assign(company_region="apac"))
    gap_emea = as_emea[:, emea].mean() - as_emea[:, apac].mean()
    gap_apac = as_apac[:, emea].mean() - as_apac[:, apac].mean()
    assert gap_emea > gap_apac


def test_lead_id_and_company_name_do_not_change_the_fit(closer: FittedRep) -> None:
    rows = _rows(closer)
    renamed = rows.assign(
        lead_id=[f"other-{i}" for i in range(len(rows))], company_name="Renamed Corp"
    )
    np.testing.assert_array_equal(closer.model.fit(rows), closer.model.fit(renamed))


def test_the_baseline_cannot_tell_reps_apart(closer: FittedRep) -> None:
    matrix = closer.baseline.fit(_rows(closer))
    np.testing.assert_array_equal(matrix, np.repeat(matrix[:, :1], matrix.shape[1], axis=1))


def test_account_managers_get_expected_expansion_as_a_second_output(manager: FittedRep) -> None:
    scores = manager.model.fit_scores(_rows(manager))
    assert scores.expected_expansion is not None and scores.expansion_if_retained is not None
    assert scores.probability.shape == scores.expected_expansion.shape == (200, 8)
    np.testing.assert_allclose(
        scores.expected_expansion, scores.probability * scores.expansion_if_retained
    )
    assert np.all(scores.expansion_if_retained > 0)
    assert scores.rep_ids == manager.model.rep_ids


def test_closer_fit_has_no_expansion_output(closer: FittedRep) -> None:
    scores = closer.model.fit_scores(_rows(closer, 5))
    assert scores.expected_expansion is None


def test_pickling_keeps_every_number(manager: FittedRep) -> None:
    rows = _rows(manager)
    copy: RepFitModel = pickle.loads(pickle.dumps(manager.model))
    before, after = manager.model.fit_scores(rows), copy.fit_scores(rows)
    np.testing.assert_array_equal(before.probability, after.probability)
    assert before.expected_expansion is not None and after.expected_expansion is not None
    np.testing.assert_array_equal(before.expected_expansion, after.expected_expansion)


def test_bad_pair_input_is_a_clear_error(closer: FittedRep) -> None:
    rows = _rows(closer, 3)
    with pytest.raises(ValueError, match="closer_id"):
        closer.model.score_frame(rows.drop(columns=["closer_id"]))
    with pytest.raises(ValueError, match="3 leads but 2 rep ids"):
        closer.model.score_pairs(rows, ["CL001", "CL002"])
    with pytest.raises(ValueError, match="lack the fields"):
        closer.model.fit({"company_size": np.array([1.0])})
