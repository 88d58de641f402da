"""The placebo of a rep-fit model: the same model trained with owners shuffled within
territory (the row's `company_region`) and segment.

Where territory assigns owners, a rep id also says where a deal came from, so rep features
can beat the lead-only model with no person effect. Shuffling owners within region x
segment keeps that (and each rep's workload) and breaks only the person-outcome link; both
models then score the same validation rows with their REAL owners, so the paired gain is
what knowing WHO the owner is adds. Shuffling validation owners too would change inputs.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from data.contract import segment_of
from features.rep_features import RepFeatureSpec
from models.rep_fit import RepFitModel
from training.rep_data import RepData
from training.role_fit import FittedRep, fit_rep_model
from training.splits import TimeSplit
from training.training_config import TrainingConfig

UNKNOWN = "unknown"
"""A missing region or segment is a stratum of its own, not a wildcard."""
STRATA = "territory and segment"
"""How the placebo's owners were shuffled, in the words every output uses."""


def strata(rows: pd.DataFrame) -> np.ndarray:
    """Each row's region x segment key, from the lead's (customer's) own fields."""
    region = rows["company_region"].astype(object).where(rows["company_region"].notna(), UNKNOWN)
    sizes = pd.to_numeric(rows["company_size"], errors="coerce").to_numpy(dtype=np.float64)
    segment = [UNKNOWN if (s := segment_of(size)) is None else s.value for size in sizes]
    return np.array([f"{r}|{s}" for r, s in zip(region, segment, strict=True)], dtype=object)


def shuffled_owners(data: RepData, rows: np.ndarray, seed: int) -> np.ndarray:
    """`data.rep_ids` with the owners of `rows` permuted within each stratum; other rows
    keep theirs. The same seed always gives the same owners."""
    owners = data.rep_ids.copy()
    keys = strata(data.rows.iloc[rows])
    rng = np.random.default_rng(seed)
    for key in sorted(set(keys)):
        members = rows[keys == key]
        owners[members] = data.rep_ids[rng.permutation(members)]
    return owners


def placebo_data(data: RepData, split: TimeSplit, seed: int, id_field: str) -> RepData:
    """`data` with the owners of every row the model learns from (training and
    calibration periods) shuffled within territory and segment; validation rows untouched."""
    learnt_from = np.concatenate([split.train, split.calibration])
    owners = shuffled_owners(data, learnt_from, seed)
    rows = data.rows.copy()
    rows[id_field] = owners
    return replace(data, rows=rows, rep_ids=owners)


def fit_placebo(
    data: RepData, spec: RepFeatureSpec, config: TrainingConfig, split: TimeSplit
) -> RepFitModel:
    """The rep-fit classifier (same spec, config and split) fitted on shuffled owners."""
    return fit_rep_model(placebo_data(data, split, config.seed, spec.id_field), spec, config, split)


def with_placebo(fitted: FittedRep, spec: RepFeatureSpec, config: TrainingConfig) -> FittedRep:
    """`fitted` with its placebo, fitted on the same split (`spec` is the unfitted spec)."""
    return replace(fitted, placebo=fit_placebo(fitted.data, spec, config, fitted.split))
