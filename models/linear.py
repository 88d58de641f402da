"""The logistic baseline as a servable model: the booster interface, in numpy.

Every training run fits a logistic regression on the same features as the
LightGBM model (`training.baseline.fit_baseline`). When it ranks leads
significantly better, it is the model worth serving - so it must score,
explain and travel in MLflow like the booster does. `LinearBooster` reads
the fitted scikit-learn pipeline's parameters once and answers the two calls
`LeadScoreModel` makes of a booster (`predict` with `raw_score` or
`pred_contrib`), with contributions in LightGBM's layout: one column per
feature plus the bias, summing to the log-odds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

_MISSING_CODE = -1.0
"""What the baseline's imputer puts in place of a missing category."""


@dataclass(frozen=True)
class _Numeric:
    feature: int
    median: float
    mean: float
    scale: float
    weight: float
    indicator: tuple[float, float, float] | None
    """(mean, scale, weight) of the feature's missing-value indicator, if it has one."""


@dataclass(frozen=True)
class _Categorical:
    feature: int
    categories: np.ndarray
    weights: np.ndarray
    """One weight per category; a code not among `categories` adds nothing."""


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.sign(x) * np.log1p(np.abs(x)), dtype=np.float64)


class LinearBooster:
    """A fitted logistic baseline answering LightGBM's `predict` (see the module doc)."""

    def __init__(self, pipeline: Any, train_matrix: np.ndarray) -> None:
        """`pipeline` is `fit_baseline`'s output; `train_matrix` the rows it was fitted on,
        whose category frequencies centre the contributions (as LightGBM's expected value
        does)."""
        features = pipeline.named_steps["features"]
        logistic = pipeline.named_steps["logistic"]
        weights = np.asarray(logistic.coef_[0], dtype=np.float64)
        self.n_features = int(train_matrix.shape[1])
        self.intercept = float(logistic.intercept_[0])
        numeric_steps = features.named_transformers_["numeric"]
        numeric_columns = list(features.transformers_[0][2])
        categorical_steps = features.named_transformers_["categorical"]
        categorical_columns = list(features.transformers_[1][2])
        imputer = numeric_steps.steps[0][1]
        scaler = numeric_steps.steps[-1][1]
        flagged = list(imputer.indicator_.features_) if imputer.indicator_ is not None else []
        n_numeric = len(numeric_columns)
        self.numeric: list[_Numeric] = []
        for j, feature in enumerate(numeric_columns):
            indicator = None
            if j in flagged:
                k = n_numeric + flagged.index(j)
                indicator = (float(scaler.mean_[k]), float(scaler.scale_[k]), float(weights[k]))
            self.numeric.append(
                _Numeric(
                    feature=int(feature),
                    median=float(imputer.statistics_[j]),
                    mean=float(scaler.mean_[j]),
                    scale=float(scaler.scale_[j]),
                    weight=float(weights[j]),
                    indicator=indicator,
                )
            )
        offset = n_numeric + len(flagged)
        encoder = categorical_steps.steps[-1][1]
        self.categorical: list[_Categorical] = []
        for j, feature in enumerate(categorical_columns):
            categories = np.asarray(encoder.categories_[j], dtype=np.float64)
            self.categorical.append(
                _Categorical(int(feature), categories, weights[offset : offset + len(categories)])
            )
            offset += len(categories)
        # Centre each categorical feature on its training mean, so contributions say how
        # far this lead's value moves it from an average lead (LightGBM's convention).
        self._centres = {
            c.feature: float(self._categorical_terms(c, train_matrix[:, c.feature]).mean())
            for c in self.categorical
        }
        self.bias = self.intercept + sum(self._centres.values())

    def _numeric_terms(self, n: _Numeric, column: np.ndarray) -> np.ndarray:
        missing = np.isnan(column)
        filled = np.where(missing, n.median, column)
        term = n.weight * (_signed_log(filled) - n.mean) / n.scale
        if n.indicator is not None:
            mean, scale, weight = n.indicator
            term = term + weight * (_signed_log(missing.astype(np.float64)) - mean) / scale
        return np.asarray(term, dtype=np.float64)

    @staticmethod
    def _categorical_terms(c: _Categorical, column: np.ndarray) -> np.ndarray:
        codes = np.where(np.isnan(column), _MISSING_CODE, column)
        position = np.searchsorted(c.categories, codes)
        position = np.clip(position, 0, len(c.categories) - 1)
        known = c.categories[position] == codes
        return np.where(known, c.weights[position], 0.0)

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per-feature log-odds contributions and the bias (last column); rows sum to the logit."""
        out = np.zeros((matrix.shape[0], self.n_features + 1), dtype=np.float64)
        for n in self.numeric:
            out[:, n.feature] = self._numeric_terms(n, matrix[:, n.feature])
        for c in self.categorical:
            out[:, c.feature] = (
                self._categorical_terms(c, matrix[:, c.feature]) - self._centres[c.feature]
            )
        out[:, -1] = self.bias
        return out

    def predict(
        self,
        matrix: np.ndarray,
        raw_score: bool = False,
        pred_contrib: bool = False,
        num_threads: int = 0,
    ) -> np.ndarray:
        """LightGBM's `Booster.predict` for the calls leadscore makes: log-odds with
        `raw_score`, contributions with `pred_contrib`, else the probability."""
        matrix = np.asarray(matrix, dtype=np.float64)
        if matrix.ndim == 1:
            matrix = matrix.reshape(1, -1)
        contrib = self.contributions(matrix)
        if pred_contrib:
            return contrib
        logit = contrib.sum(axis=1)
        return logit if raw_score else np.asarray(1.0 / (1.0 + np.exp(-logit)))

    def feature_importance(self, importance_type: str = "gain") -> np.ndarray:
        """Mean absolute contribution per feature on the training rows' scale: |weight|
        summed over a feature's columns (a rough, unit-free importance for the plot)."""
        importance = np.zeros(self.n_features, dtype=np.float64)
        for n in self.numeric:
            importance[n.feature] = abs(n.weight) + (abs(n.indicator[2]) if n.indicator else 0.0)
        for c in self.categorical:
            importance[c.feature] = float(np.abs(c.weights).max(initial=0.0))
        return importance

    def num_feature(self) -> int:
        return self.n_features

    def num_trees(self) -> int:
        return 0
