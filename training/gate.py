"""The promotion gate: the alias moves only to a model at least as good as
the current holder, judged on the same validation rows.

The gate knows nothing of model kinds: the caller passes a `ChampionScorer`
that loads a model URI and scores the candidate's validation rows, so lead
scores and rep fits share one gate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from training.metrics import evaluate

ChampionScorer = Callable[[str], np.ndarray]
"""Model URI -> that model's probabilities on the candidate's validation rows (raw
rows, so a champion with other features computes its own)."""


GATE_METRIC = "roc_auc"
"""What the gate compares, on the candidate's validation rows."""


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
    floor: float | None = None,
) -> GateDecision:
    """Promote when there is no champion or the candidate is at least as good, and
    (with `floor`, e.g. the baseline's figure) never below the floor."""
    if floor is not None and candidate < floor:
        return GateDecision(
            promote=False,
            metric=metric,
            candidate=candidate,
            champion=champion,
            champion_version=champion_version,
            reason=f"candidate {metric} {candidate:.4f} is below its baseline's {floor:.4f} "
            "on the same validation rows",
        )
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
    score: ChampionScorer,
    y: np.ndarray,
    metric: str,
) -> tuple[float | None, str | None]:
    """The current champion's `metric` on the candidate's validation rows."""
    version = current_holder(client, name, alias)
    if version is None:
        return None, None
    return evaluate(y, score(f"models:/{name}/{version}"))[metric], version


def apply_gate(
    client: MlflowClient,
    name: str,
    alias: str,
    version: str,
    candidate: float,
    score: ChampionScorer,
    y: np.ndarray,
    metric: str,
    floor: float | None = None,
) -> GateDecision:
    """Judge registered `version` against the alias holder, tag it, and move the alias if due.

    With `floor` (e.g. the baseline's figure on the same rows), a candidate
    below it is never promoted, even with no champion: serving a model that
    knows less than its baseline would be worse than the documented fallback.
    """
    champion, champion_version = champion_metric(client, name, alias, score, y, metric)
    gate = decide(candidate, champion, champion_version, metric, floor=floor)
    client.set_model_version_tag(name, version, "gate", "promoted" if gate.promote else "rejected")
    client.set_model_version_tag(name, version, "gate_reason", gate.reason)
    client.set_model_version_tag(name, version, f"val_{metric}", f"{candidate:.6f}")
    if gate.promote:
        client.set_registered_model_alias(name, alias, version)
    return gate
