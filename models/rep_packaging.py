"""Rep-fit models as MLflow pyfunc models: `closer-fit` and `account-manager-fit`.

The pickled `RepFitModel` (fitted pair spec with vocabularies, rate counts
and roster; booster; calibration; expansion regressor) travels inside the
MLflow model, so the API, the assignment policy and `mlflow models serve`
score pairs exactly as training evaluated them. A pyfunc row is one pair:
the lead's (customer's) fields plus the rep's id column.
"""

from __future__ import annotations

from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc.model import PythonModel
from mlflow.types import ColSpec, Schema

from data.contract import Customer, Lead, Role
from features.lead_features import LEAD_FIELD_TYPES, contract_field_types
from models.packaging import contract_schema, pip_requirements
from models.rep_fit_model import RepFitModel

REP_MODEL_NAMES = {Role.closer: "closer-fit", Role.account_manager: "account-manager-fit"}
OUTCOME_FIELDS = ("retained_12m", "expansion_value")
"""Customer fields that are outcomes, not inputs."""


def rep_registered_name(role: Role | str) -> str:
    return REP_MODEL_NAMES[Role(role)]


class RepFitPyfunc(PythonModel):
    """pyfunc face of a `RepFitModel`: a frame of (lead, rep) pairs in, fit out."""

    def __init__(self, model: RepFitModel) -> None:
        self.model = model

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        scores = self.model.score_frame(model_input)
        out = pd.DataFrame({"probability": scores.probability})
        if self.model.spec.role is Role.account_manager:
            expected = scores.expected_expansion
            out["expected_expansion"] = np.full(len(out), np.nan) if expected is None else expected
        return out


def rep_signature(role: Role | str) -> ModelSignature:
    """Input: the contract's lead (customer) columns plus the rep id; output: the fit."""
    if Role(role) is Role.closer:
        inputs = contract_schema(
            Lead, LEAD_FIELD_TYPES, extra=[ColSpec("string", "closer_id", required=True)]
        )
        outputs = Schema([ColSpec("double", "probability")])
    else:
        inputs = contract_schema(Customer, contract_field_types(Customer), exclude=OUTCOME_FIELDS)
        outputs = Schema(
            [ColSpec("double", "probability"), ColSpec("double", "expected_expansion")]
        )
    return ModelSignature(inputs=inputs, outputs=outputs)


def rep_input_columns(role: Role | str) -> list[str]:
    """The columns of a pyfunc input row, in signature order."""
    return list(rep_signature(role).inputs.input_names())


def log_rep_model(
    model: RepFitModel, input_example: pd.DataFrame, registered_model_name: str | None = None
) -> Any:
    """Log `model` to the active run (and register it); returns MLflow's ModelInfo."""
    columns = [c for c in rep_input_columns(model.role) if c in input_example.columns]
    example = input_example[columns].head(3).reset_index(drop=True)
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=RepFitPyfunc(model),
        signature=rep_signature(model.role),
        input_example=example,
        registered_model_name=registered_model_name,
        pip_requirements=pip_requirements(),
    )


def load_rep_model(uri: str) -> RepFitModel:
    """The `RepFitModel` inside a logged or registered pyfunc model."""
    wrapper = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    if not isinstance(wrapper, RepFitPyfunc):
        raise TypeError(f"{uri} is not a leadscore rep-fit model")
    return wrapper.model
