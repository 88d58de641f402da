"""The logistic baseline: what a lead-score model must beat, on the same features."""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from features.spec import FeatureSpec


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.sign(x) * np.log1p(np.abs(x)), dtype=np.float64)


def fit_baseline(matrix: np.ndarray, y: np.ndarray, spec: FeatureSpec) -> Pipeline:
    """Logistic regression on the same features: what the model must beat."""
    categorical = spec.categorical_indices
    numeric = [i for i in range(len(spec.features)) if i not in categorical]
    transform = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    FunctionTransformer(_signed_log),
                    StandardScaler(),
                ),
                numeric,
            ),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
        ]
    )
    pipeline = Pipeline([("features", transform), ("logistic", LogisticRegression(max_iter=2000))])
    pipeline.fit(matrix, y)
    return pipeline
