"""The placebo's owners: shuffled within territory and segment, nowhere else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from data.contract import Role
from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import write_history
from features.rep_features import closer_spec
from training.placebo import placebo_data, strata
from training.rep_pipeline import role_data
from training.role_fit import rep_training_config
from training.splits import time_split


def test_owners_move_only_within_region_and_segment_and_validation_keeps_its_own(
    tmp_path: Path,
) -> None:
    write_history(GeneratorConfig(leads=8_000, seed=3), tmp_path)
    data = role_data(tmp_path, Role.closer, closer_spec())
    split = time_split(pd.Series(data.at), rep_training_config())
    placebo = placebo_data(data, split, seed=7, id_field="closer_id")
    learnt = np.concatenate([split.train, split.calibration])

    def deals(owners: np.ndarray) -> pd.Series:
        frame = pd.DataFrame({"stratum": strata(data.rows.iloc[learnt]), "rep": owners[learnt]})
        return frame.value_counts().sort_index()

    # every closer keeps their number of deals in every region x segment...
    pd.testing.assert_series_equal(deals(placebo.rep_ids), deals(data.rep_ids))
    # ...but most training deals changed hands, and the outcomes did not move
    assert (placebo.rep_ids[learnt] != data.rep_ids[learnt]).mean() > 0.5
    np.testing.assert_array_equal(placebo.y, data.y)
    # validation rows are scored with their real owners
    np.testing.assert_array_equal(placebo.rep_ids[split.validation], data.rep_ids[split.validation])
    assert list(placebo.rows["closer_id"]) == list(placebo.rep_ids)
    again = placebo_data(data, split, seed=7, id_field="closer_id")
    np.testing.assert_array_equal(again.rep_ids, placebo.rep_ids)


def test_unknown_region_and_size_are_strata_of_their_own() -> None:
    rows = pd.DataFrame(
        {"company_region": ["emea", None, "emea"], "company_size": [30.0, 30.0, None]}
    )
    assert list(strata(rows)) == ["emea|smb", "unknown|smb", "emea|unknown"]
