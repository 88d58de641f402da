"""Registered models are pickles that name our modules: those paths are a promise.

A champion in a user's MLflow registry was pickled by an older leadscore; it
loads only while every class it names stays at its module path. Moving one
(a rename, a package split) must be a deliberate decision with a plan for the
models already registered, so this test lists the paths and fails on a change.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import cloudpickle

from data.contract import Role
from models.packaging import LeadScorePyfunc
from models.rep_packaging import RepFitPyfunc
from training.channel_fit import FittedChannel, baseline_model
from training.role_fit import FittedRep

OURS = ("data", "features", "models", "training", "serving", "leadscore")

PICKLED_MODULES = {
    "data.contract",
    "features.columns",
    "features.rates",
    "features.rep_features",
    "features.spec",
    "models.lead_score",
    "models.linear",
    "models.packaging",
    "models.rep_fit",
    "models.rep_packaging",
    "models.scale",
}
"""Our modules named by a registered lead-score or rep-fit model (either algorithm)."""


def _our_modules(model: Any) -> set[str]:
    """The modules of ours a model's pickle names, as MLflow writes it (cloudpickle)."""
    seen: set[str] = set()

    class Recording(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            seen.add(module)
            return super().find_class(module, name)

    Recording(io.BytesIO(cloudpickle.dumps(model))).load()
    return {module for module in seen if module.split(".")[0] in OURS}


def test_registered_models_name_only_the_promised_module_paths(
    fitted: dict[str, FittedChannel], fitted_reps: dict[Role, FittedRep]
) -> None:
    inbound = fitted["inbound"]
    columns = inbound.data.columns
    linear = baseline_model(
        inbound.baseline, inbound.model.spec, columns, "inbound", inbound.model.target
    )
    named = (
        _our_modules(LeadScorePyfunc(inbound.model))
        | _our_modules(LeadScorePyfunc(linear))
        | _our_modules(RepFitPyfunc(fitted_reps[Role.closer].model))
        | _our_modules(RepFitPyfunc(fitted_reps[Role.account_manager].model))
    )
    assert named <= PICKLED_MODULES, (
        f"a registered model now names {sorted(named - PICKLED_MODULES)}: models registered "
        "before this change name the old paths and would no longer load"
    )
    assert "models.lead_score" in named and "models.rep_fit" in named
