"""The promotion gate: the alias moves only to a model at least as good as
the current holder, judged on the same validation rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from features.columns import from_frame
from models.lead_score import LeadScoreModel
from models.packaging import load_lead_model
from training.metrics import evaluate


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    metric: str
    candidate: float
    champion: float | None
    champion_version: str | None
    reason: str


def current_holder(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version holding `alias`, or None if nobody does yet."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def decide(
    candidate: float,
    champion: float | None,
    champion_version: str | None,
    metric: str,
    higher_is_better: bool = True,
) -> GateDecision:
    """Promote when there is no champion or the candidate is at least as good."""
    if champion is None:
        return GateDecision(True, metric, candidate, None, None, "no current champion")
    better_or_equal = candidate >= champion if higher_is_better else candidate <= champion
    verdict = "at least as good as" if better_or_equal else "worse than"
    return GateDecision(
        promote=better_or_equal,
        metric=metric,
        candidate=candidate,
        champion=champion,
        champion_version=champion_version,
        reason=f"candidate {metric} {candidate:.4f} is {verdict} champion v{champion_version} "
        f"{champion:.4f} on the same validation rows",
    )


def champion_metric(
    client: MlflowClient,
    name: str,
    alias: str,
    validation: pd.DataFrame,
    y: np.ndarray,
    metric: str,
) -> tuple[float | None, str | None]:
    """The current champion's `metric` on the candidate's validation leads (raw rows,
    so a champion with other features computes its own)."""
    version = current_holder(client, name, alias)
    if version is None:
        return None, None
    champion: LeadScoreModel = load_lead_model(f"models:/{name}/{version}")
    probability = champion.score(from_frame(validation, champion.spec.input_fields)).probability
    return evaluate(y, probability)[metric], version
