"""Lead-score models as MLflow pyfunc models.

The pickled `LeadScoreModel` (fitted feature spec, booster, calibration,
score scale) travels inside the MLflow model, so whoever loads
`models:/lead-score-inbound@champion` - the API, batch re-scoring, or
`mlflow models serve` - computes exactly what training computed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc.model import PythonModel
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema
from mlflow.types.schema import AnyType
from pydantic import BaseModel

from data.contract import Lead, table_fields
from features.checks import check_leads
from features.columns import Columns, FieldType, from_frame
from features.lead_features import LEAD_FIELD_TYPES
from features.rules import custom_rules, lead_rules
from models.lead_score_model import LeadScoreModel

MODEL_NAMES = {"inbound": "lead-score-inbound", "outbound": "lead-score-outbound"}
SINGLE_THREAD_ROWS = 256


def registered_name(channel: str) -> str:
    return MODEL_NAMES[channel]


class LeadScorePyfunc(PythonModel):
    """pyfunc face of a `LeadScoreModel`: a frame of leads in, scores out.

    `params={"reasons": 3}` adds the top reasons as a JSON column.
    """

    def __init__(self, model: LeadScoreModel) -> None:
        self.model = model

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Scores of `model_input`'s rows, in order.

        The rows are checked and normalised as batch re-scoring does (text
        numbers, yes/no flags, ISO 8601 times, the custom columns by their
        type), so the numbers are the API's and the batch's; a row that breaks
        the contract raises `ValueError` naming the row and the column.
        """
        reasons = int((params or {}).get("reasons", 0))
        columns = frame_columns(model_input, self.model)
        # A few rows (online serving) go fastest on one thread; OpenMP start-up dominates.
        threads = 1 if len(model_input) <= SINGLE_THREAD_ROWS else 0
        scored = self.model.score(columns, reasons=reasons, threads=threads)
        out = pd.DataFrame(
            {
                "probability": scored.probability,
                "score": np.rint(scored.score).astype(np.int64),
                "grade": scored.grade.astype(str),
            }
        )
        if scored.reasons is not None:
            out["reasons"] = [
                json.dumps([r.__dict__ for r in row], default=str) for row in scored.reasons
            ]
        return out


def _nat_as_missing(frame: pd.DataFrame, fields: Mapping[str, FieldType]) -> pd.DataFrame:
    """MLflow's JSON (`mlflow models serve`, the logged serving example) writes a missing
    time as the text "NaT": read it as missing, as the frame it came from had it."""
    texts = [
        name
        for name, kind in fields.items()
        if kind is FieldType.time
        and name in frame.columns
        and not pd.api.types.is_datetime64_any_dtype(frame[name].dtype)
    ]
    if not texts:
        return frame
    nat = {name: (frame[name] == "NaT").to_numpy(dtype=bool, na_value=False) for name in texts}
    return frame.assign(**{name: frame[name].mask(nat[name]) for name in texts})


def frame_columns(frame: pd.DataFrame, model: LeadScoreModel) -> Columns:
    """The columns `model` reads from a frame of leads, checked and normalised; raises
    `ValueError` listing the first rows that break the contract or a custom field's type."""
    checked = check_leads(
        _nat_as_missing(frame, model.spec.input_fields),
        (*lead_rules(), *custom_rules(model.custom_fields)),
    )
    if not checked.valid.all():
        raise ValueError(f"leads that cannot be scored: {checked.describe()}")
    return from_frame(checked.frame, model.spec.input_fields)


def lead_signature(custom_fields: Mapping[str, FieldType] | None = None) -> ModelSignature:
    """The model signature, derived from the lead contract (optional fields optional),
    plus the custom columns the model was trained on, as optional columns.

    Numbers, flags and times are typed `any`: MLflow's schema check refuses
    integers with missing values as `long` and plain integers as `double`,
    and a CRM export has both; the feature spec does the real type checking.
    """
    custom = [
        ColSpec("string" if kind is FieldType.text else AnyType(), name, required=False)  # type: ignore[no-untyped-call]
        for name, kind in (custom_fields or {}).items()
    ]
    inputs = contract_schema(Lead, LEAD_FIELD_TYPES, extra=custom)
    outputs = Schema(
        [ColSpec("double", "probability"), ColSpec("long", "score"), ColSpec("string", "grade")]
    )
    return ModelSignature(
        inputs=inputs, outputs=outputs, params=ParamSchema([ParamSpec("reasons", "long", 0)])
    )


def contract_schema(
    model: type[BaseModel],
    field_types: Mapping[str, FieldType],
    exclude: Sequence[str] = (),
    extra: Sequence[ColSpec] = (),
) -> Schema:
    """Input schema of a contract table: text as string, the rest `any` (see above)."""
    columns: list[ColSpec | Any] = [
        ColSpec(
            "string" if field_types[name] is FieldType.text else AnyType(),  # type: ignore[no-untyped-call]
            name,
            required=info.is_required(),
        )
        for name, info in table_fields(model).items()
        if name not in exclude
    ]
    return Schema([*columns, *extra])


def log_lead_model(
    model: LeadScoreModel, input_example: pd.DataFrame, registered_model_name: str | None = None
) -> Any:
    """Log `model` to the active run (and register it); returns MLflow's ModelInfo."""
    signature = lead_signature(model.custom_fields)
    wanted = [c for c in signature.inputs.input_names() if c in input_example.columns]
    example = input_example[wanted].head(3).reset_index(drop=True)
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=LeadScorePyfunc(model),
        signature=signature,
        input_example=example,
        registered_model_name=registered_model_name,
        pip_requirements=pip_requirements(),
    )


def pip_requirements() -> list[str]:
    """Pinned versions of what unpickling and running a leadscore model needs."""
    from importlib.metadata import version

    return [
        f"{package}=={version(package)}"
        for package in ("lightgbm", "scikit-learn", "pandas", "numpy", "pyarrow", "mlflow")
    ]


def load_lead_model(uri: str) -> LeadScoreModel:
    """The `LeadScoreModel` inside a logged or registered pyfunc model."""
    pyfunc_model = mlflow.pyfunc.load_model(uri)
    wrapper = pyfunc_model.unwrap_python_model()
    if not isinstance(wrapper, LeadScorePyfunc):
        raise TypeError(f"{uri} is not a leadscore lead-score model")
    return wrapper.model
