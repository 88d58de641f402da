"""What a training run may be told: the LightGBM defaults, the periods, the outcome bars.

One frozen `TrainingConfig` serves the lead scores and the rep fits
(`training.role_fit.rep_training_config` adjusts it for the latter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_LGBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    # Small trees, strong regularisation: converted leads are rare, so a
    # channel often has only hundreds of positives to learn from.
    "learning_rate": 0.03,
    "num_leaves": 7,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.7,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 10.0,
    "max_bin": 63,
    "max_cat_to_onehot": 8,
    "cat_smooth": 10.0,
    "verbose": -1,
}


class NotEnoughDataError(ValueError):
    """Too few rows or outcomes to train or validate honestly."""


@dataclass(frozen=True)
class TrainingConfig:
    target: str = "won"
    validation_share: float = 0.2
    calibration_share: float = 0.15
    """The rep-fit models' calibration period (`time_split`); the lead scores cross-fit."""
    inner_folds: int = 3
    """Folds inside the learning rows that choose the rounds and calibrate: the newest
    blocks of `fold_share` each when dated (forward chaining), else stratified K-fold."""
    fold_share: float = 0.1
    """Share of all rows in each dated inner block."""
    dated: bool = True
    """The leads carry real creation dates: validate on the newest period. Without, the
    validation rows are a stratified random share and the inner folds random too."""
    time_features: bool = True
    """Calendar features (month, weekday, hour...) where the dates support them."""
    max_rounds: int = 1000
    early_stopping_rounds: int = 50
    threads: int = 2
    seed: int = 7
    min_positives: int = 40
    """Converted and other leads needed in each period (Dynamics 365 asks 40 of each class)."""
    leakage_auc: float = 0.95
    """A column alone predicting the outcome with this ROC AUC is dropped as leakage."""
    keep_columns: tuple[str, ...] = ()
    """Columns kept whatever the leakage guard says (reported all the same)."""
    lgbm_params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_LGBM_PARAMS))
