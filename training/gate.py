"""The promotion gate: when a newly trained model may take the serving alias.

One rule for every model (lead scores and rep fits), judged on intervals,
never on point estimates:

1. it ranks better than chance: the lower bound of its validation ROC AUC is
   above 0.5;
2. it is not significantly worse than its baseline on the same rows (the
   paired interval of the gain does not lie below 0); a model kind with a
   fallback (the rep fits: round-robin) must beat its baseline outright, and,
   when a placebo is given (the rep fits: owners shuffled within territory and
   segment, `training.placebo`), beat that too: the paired interval of the gain
   over it wholly above 0;
3. a jump suspicious of leakage (AUC above 0.95, or more than +0.05 over the
   champion) is not promoted unless the user accepts it, and the decision names
   the columns carrying the gain;
4. against a current champion, both are scored on the same rows with every
   input each reads (or the comparison is refused, naming the missing columns),
   and the candidate is promoted unless it is significantly worse.

The gate knows nothing of model kinds: the caller passes a `ChampionScorer`
that loads a model URI and scores the candidate's validation rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from training.evaluation_metrics import bootstrap_intervals, evaluate


class MissingInputsError(ValueError):
    """The champion reads columns the candidate's validation rows do not have."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        super().__init__(f"missing columns: {', '.join(self.columns)}")


ChampionScorer = Callable[[str], np.ndarray]
"""Model URI -> that model's probabilities on the candidate's validation rows (raw
rows, so a champion with other features computes its own); raises
`MissingInputsError` when the rows lack what the champion reads."""


GATE_METRIC = "roc_auc"
"""What the gate compares, on the candidate's validation rows."""
CHANCE = 0.5
JUMP_AUC = 0.95
"""Above this validation AUC a lead score is more likely to read the outcome than predict it."""
JUMP_GAIN = 0.05
"""A gain over the champion this large on the same rows is checked before it is believed."""
TRAINED_THROUGH_TAG = "trained_through"
"""Version tag: the newest creation time among the rows the served model was fitted on."""
MIN_UNSEEN = 20
"""Converted and other leads the champion never saw, needed to compare on those rows alone."""

BaselineRule = Literal["not_worse", "must_beat"]


@dataclass(frozen=True)
class Evidence:
    """The candidate's figures on its validation rows, beside its baseline's."""

    candidate: float
    interval: tuple[float, float]
    baseline: float | None = None
    baseline_gain: tuple[float, float] | None = None
    """Paired interval of candidate minus baseline."""
    gain_columns: tuple[str, ...] = ()
    """The fields carrying most of the candidate's ranking, for a suspicious jump."""
    placebo: float | None = None
    """The same model trained with owners shuffled within territory and segment."""
    placebo_gain: tuple[float, float] | None = None
    """Paired interval of candidate minus placebo; checked (must exclude 0) when given."""
    claim: OwnerClaim | None = None
    """What the rep features claim, for reasons in the user's words."""


@dataclass(frozen=True)
class OwnerClaim:
    """What a rep-fit model claims: that the owner (`role`) changes `outcome`."""

    role: str
    """closer, account manager"""
    outcome: str
    """the win rate, retention"""

    @property
    def no_evidence(self) -> str:
        return f"no evidence that the {self.role} changes {self.outcome} on this history"


@dataclass(frozen=True)
class ChampionComparison:
    version: str
    value: float | None
    """The champion's metric on the comparison rows (None: it could not be scored)."""
    gain: tuple[float, float] | None = None
    """Paired interval of candidate minus champion on those rows."""
    missing_columns: tuple[str, ...] = ()
    rows: int = 0
    note: str = ""
    """How the rows were chosen (e.g. only leads the champion never saw)."""


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    metric: str
    candidate: float
    champion: float | None
    champion_version: str | None
    reason: str
    checks: tuple[str, ...] = field(default=())
    """Every rule the candidate passed or failed, in words, in order."""


def _interval(low_high: tuple[float, float]) -> str:
    return f"95% CI {low_high[0]:+.3f} to {low_high[1]:+.3f}"


def decide(
    evidence: Evidence,
    champion: ChampionComparison | None,
    metric: str = GATE_METRIC,
    *,
    baseline_rule: BaselineRule = "not_worse",
    accept_jump: bool = False,
) -> GateDecision:
    """Apply the gate's rules (module docstring) in order; the first failure decides."""
    checks: list[str] = []
    champion_value = champion.value if champion else None
    champion_version = champion.version if champion else None

    def verdict(promote: bool, reason: str) -> GateDecision:
        checks.append(reason)
        return GateDecision(
            promote,
            metric,
            evidence.candidate,
            champion_value,
            champion_version,
            reason,
            tuple(checks),
        )

    rules: list[Callable[[], Check]] = [
        lambda: _chance_rule(evidence, metric),
        lambda: _baseline_rule(evidence, metric, baseline_rule),
        lambda: _placebo_rule(evidence, metric),
        lambda: _jump_rule(evidence, champion, accept_jump),
    ]
    for rule in rules:
        failure, passed = rule()
        if failure is not None:
            return verdict(False, failure)
        if passed is not None:
            checks.append(passed)
    return verdict(*_against_champion(evidence.candidate, champion))


Check = tuple[str | None, str | None]
"""(why the model is held back, or None; what it passed, or None when the rule did not apply)."""


def _chance_rule(evidence: Evidence, metric: str) -> Check:
    low, high = evidence.interval
    figure = f"{metric} {evidence.candidate:.3f} (95% CI {low:.3f}-{high:.3f})"
    if low > CHANCE:
        return None, f"better than chance: {figure}"
    if evidence.claim is not None:
        return (
            f"{evidence.claim.no_evidence}: the model with real {evidence.claim.role}s "
            f"ranks no better than chance ({figure} reaches down to 0.5)",
            None,
        )
    return f"no evidence that it ranks better than chance: {figure} reaches down to 0.5", None


def _baseline_rule(evidence: Evidence, metric: str, rule: BaselineRule) -> Check:
    if evidence.baseline_gain is None or evidence.baseline is None:
        return None, None
    gain_low, gain_high = evidence.baseline_gain
    baseline = evidence.baseline
    gain = f"gain {evidence.candidate - baseline:+.3f}, {_interval(evidence.baseline_gain)}"
    if evidence.claim is not None and rule == "must_beat" and gain_low <= 0:
        return _no_owner_effect(evidence, evidence.claim, metric, gain), None
    if gain_high < 0:
        return f"its baseline ranks significantly better ({baseline:.3f}; {gain})", None
    if rule == "must_beat" and gain_low <= 0:
        return (
            f"no evidence that it beats its baseline ({baseline:.3f}; {gain}); "
            "the fallback serves instead",
            None,
        )
    beats = "beats" if gain_low > 0 else "not worse than"
    return None, f"{beats} its baseline ({baseline:.3f}; {gain})"


def _placebo_rule(evidence: Evidence, metric: str) -> Check:
    if evidence.placebo_gain is None or evidence.placebo is None:
        return None, None
    failure = _placebo_failure(evidence, metric)
    if failure:
        return failure, None
    return None, f"beats {_placebo_words(evidence)}"


def _jump_rule(evidence: Evidence, champion: ChampionComparison | None, accept_jump: bool) -> Check:
    jump = _jump(evidence.candidate, champion)
    if not jump:
        return None, None
    if accept_jump:
        return None, f"jump accepted on request: {jump}"
    carried = ", ".join(evidence.gain_columns) or "unknown columns"
    return (
        f"suspicious of leakage: {jump}; most of the ranking comes from {carried}. "
        "Check that these are known before first contact, then accept with --accept-jump",
        None,
    )


def _against_champion(value: float, champion: ChampionComparison | None) -> tuple[bool, str]:
    """The last rule: promoted unless significantly worse than the champion on the same rows."""
    if champion is None:
        return True, "no current champion"
    if champion.missing_columns:
        return (
            False,
            f"champion v{champion.version} reads {', '.join(champion.missing_columns)}, which "
            "these rows lack: no comparison on the same inputs, so the alias stays (move it by "
            "hand if the new model is meant to replace it)",
        )
    assert champion.value is not None and champion.gain is not None
    gain = f"{value - champion.value:+.3f}, {_interval(champion.gain)}"
    where = f" on {champion.rows:,} rows{champion.note}"
    if champion.gain[1] < 0:
        return (
            False,
            f"significantly worse than champion v{champion.version} "
            f"({champion.value:.3f}; gain {gain}){where}",
        )
    if champion.gain[0] > 0:
        return (
            True,
            f"better than champion v{champion.version} ({champion.value:.3f}; gain {gain}){where}",
        )
    return (
        True,
        f"ties champion v{champion.version} ({champion.value:.3f}; gain {gain}){where}; "
        "promoted, as it has learnt from the newest history",
    )


def _placebo_words(evidence: Evidence) -> str:
    """'the same model with closers shuffled within territory and segment (0.609; gain ...)'."""
    assert evidence.placebo is not None and evidence.placebo_gain is not None
    owners = f"{evidence.claim.role}s" if evidence.claim else "owners"
    gain = evidence.candidate - evidence.placebo
    return (
        f"the same model with {owners} shuffled within territory and segment "
        f"({evidence.placebo:.3f}; gain {gain:+.3f}, {_interval(evidence.placebo_gain)})"
    )


def _label(metric: str) -> str:
    return "AUC" if metric == "roc_auc" else metric


def _no_owner_effect(evidence: Evidence, claim: OwnerClaim, metric: str, gain: str) -> str:
    """A fit model that does not beat the same model without rep features, in the claim's
    words, with the placebo beside it when there is one (the run reports both)."""
    value = f"{_label(metric)} {evidence.candidate:.3f}"
    head = f"{claim.no_evidence}: the model with real {claim.role}s ({value})"
    without = f"the same model without {claim.role} features ({evidence.baseline:.3f}; {gain})"
    if evidence.placebo is None or evidence.placebo_gain is None:
        return f"{head} does not beat {without}"
    if evidence.placebo_gain[0] > 0:
        return f"{head} does not beat {without}, though it beats {_placebo_words(evidence)}"
    return f"{head} beats neither {without} nor {_placebo_words(evidence)}"


def _placebo_failure(evidence: Evidence, metric: str) -> str:
    """Why the candidate does not beat its placebo, or '' when it does."""
    assert evidence.placebo_gain is not None
    if evidence.placebo_gain[0] > 0:
        return ""
    claim = evidence.claim.no_evidence if evidence.claim else "no evidence that the owner matters"
    owners = f"{evidence.claim.role}s" if evidence.claim else "owners"
    return (
        f"{claim}: the model with real {owners} ({_label(metric)} {evidence.candidate:.3f}) "
        f"does not beat {_placebo_words(evidence)}"
    )


def _jump(value: float, champion: ChampionComparison | None) -> str:
    if value > JUMP_AUC:
        return f"validation ROC AUC {value:.3f} is above {JUMP_AUC}"
    if champion is not None and champion.value is not None and value - champion.value > JUMP_GAIN:
        return (
            f"ROC AUC {value:.3f} is {value - champion.value:+.3f} over champion "
            f"v{champion.version} ({champion.value:.3f}) on the same rows"
        )
    return ""


def current_holder(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version holding `alias`, or None if nobody does yet."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def compare_with_champion(
    client: MlflowClient,
    name: str,
    alias: str,
    score: ChampionScorer,
    y: np.ndarray,
    candidate: np.ndarray,
    created_at: np.ndarray | None = None,
    seed: int = 0,
) -> ChampionComparison | None:
    """The champion against `candidate` probabilities on the candidate's validation rows.

    A champion refit on all of its history may have seen some of these rows,
    which flatters it; when its version says when its data ended and enough
    newer rows exist, only those are compared.
    """
    version = current_holder(client, name, alias)
    if version is None:
        return None
    try:
        champion = score(f"models:/{name}/{version}")
    except MissingInputsError as error:
        return ChampionComparison(version, None, missing_columns=error.columns)
    rows, note = _unseen_rows(client, name, version, y, created_at)
    intervals = bootstrap_intervals(
        y[rows], {"candidate": candidate[rows], "champion": champion[rows]}, seed=seed
    )
    assert intervals.roc_auc_difference is not None
    return ChampionComparison(
        version,
        evaluate(y[rows], champion[rows])[GATE_METRIC],
        intervals.roc_auc_difference,
        rows=int(rows.sum()),
        note=note,
    )


def _unseen_rows(
    client: MlflowClient, name: str, version: str, y: np.ndarray, created_at: np.ndarray | None
) -> tuple[np.ndarray, str]:
    everything = np.ones(len(y), dtype=bool)
    tags = client.get_model_version(name, version).tags
    through = tags.get(TRAINED_THROUGH_TAG)
    if created_at is None or not through:
        return everything, (
            " (the champion may have learnt from some of them: its figure is optimistic)"
        )
    unseen = pd.to_datetime(created_at).to_numpy() > pd.Timestamp(through).to_datetime64()
    positives = int(y[unseen].sum())
    if positives >= MIN_UNSEEN and int(unseen.sum()) - positives >= MIN_UNSEEN:
        return unseen, f" created after champion v{version}'s data ended ({through})"
    return everything, (
        f" (champion v{version} learnt from data up to {through}, so its figure is "
        "optimistic: too few newer leads to compare on those alone)"
    )


def apply_gate(
    client: MlflowClient,
    name: str,
    alias: str,
    version: str,
    evidence: Evidence,
    champion: ChampionComparison | None,
    *,
    baseline_rule: BaselineRule = "not_worse",
    accept_jump: bool = False,
) -> GateDecision:
    """Judge registered `version`, tag it with the decision, and move the alias if due."""
    gate = decide(evidence, champion, baseline_rule=baseline_rule, accept_jump=accept_jump)
    client.set_model_version_tag(name, version, "gate", "promoted" if gate.promote else "rejected")
    client.set_model_version_tag(name, version, "gate_reason", gate.reason[:5000])
    client.set_model_version_tag(name, version, f"val_{GATE_METRIC}", f"{evidence.candidate:.6f}")
    if gate.promote:
        client.set_registered_model_alias(name, alias, version)
    return gate
