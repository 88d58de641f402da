"""The promotion gate's rules, on hand-picked figures."""

from __future__ import annotations

from training.gate import ChampionComparison, Evidence, OwnerClaim, decide


def evidence(value: float, low: float, high: float, **more: object) -> Evidence:
    return Evidence(value, (low, high), **more)  # type: ignore[arg-type]


def test_the_first_model_above_chance_is_promoted() -> None:
    gate = decide(evidence(0.70, 0.66, 0.74), None)
    assert gate.promote
    assert gate.reason == "no current champion"
    assert gate.checks[0] == "better than chance: roc_auc 0.700 (95% CI 0.660-0.740)"


def test_a_model_whose_interval_reaches_chance_is_never_promoted() -> None:
    """The bank export: AUC 0.435 was promoted for want of a champion."""
    gate = decide(evidence(0.435, 0.40, 0.47), None)
    assert not gate.promote
    assert "no evidence that it ranks better than chance" in gate.reason
    assert not decide(evidence(0.55, 0.499, 0.60), None).promote


def test_a_model_significantly_worse_than_its_baseline_is_refused() -> None:
    gate = decide(evidence(0.60, 0.55, 0.65, baseline=0.66, baseline_gain=(-0.09, -0.02)), None)
    assert not gate.promote
    assert gate.reason == (
        "its baseline ranks significantly better (0.660; gain -0.060, 95% CI -0.090 to -0.020)"
    )
    tie = decide(evidence(0.65, 0.60, 0.70, baseline=0.66, baseline_gain=(-0.03, 0.01)), None)
    assert tie.promote


def test_a_fit_model_must_beat_its_baseline_outright() -> None:
    """Routing has a fallback: a rep fit that only ties the lead-only model is not used."""
    noise = evidence(0.531, 0.51, 0.55, baseline=0.515, baseline_gain=(-0.011, 0.045))
    gate = decide(noise, None, baseline_rule="must_beat")
    assert not gate.promote
    assert "no evidence that it beats its baseline" in gate.reason
    real = evidence(0.664, 0.635, 0.688, baseline=0.618, baseline_gain=(0.03, 0.06))
    assert decide(real, None, baseline_rule="must_beat").promote


CLOSER = OwnerClaim("closer", "the win rate")


def test_a_fit_model_that_only_beats_its_baseline_through_territory_is_not_promoted() -> None:
    """Owners assigned by territory: rep features beat the lead-only model, but the same
    model with closers shuffled within territory and segment does as well."""
    territory = evidence(
        0.612,
        0.59,
        0.63,
        baseline=0.590,
        baseline_gain=(0.008, 0.036),
        placebo=0.609,
        placebo_gain=(-0.008, 0.014),
        claim=CLOSER,
    )
    gate = decide(territory, None, baseline_rule="must_beat")
    assert not gate.promote
    assert gate.reason == (
        "no evidence that the closer changes the win rate on this history: the model with "
        "real closers (AUC 0.612) does not beat the same model with closers shuffled "
        "within territory and segment (0.609; gain +0.003, 95% CI -0.008 to +0.014)"
    )
    assert gate.checks[1] == "beats its baseline (0.590; gain +0.022, 95% CI +0.008 to +0.036)"


def test_a_fit_model_beating_baseline_and_placebo_is_promoted_with_both_in_its_checks() -> None:
    real = evidence(
        0.664,
        0.635,
        0.688,
        baseline=0.618,
        baseline_gain=(0.03, 0.06),
        placebo=0.620,
        placebo_gain=(0.028, 0.061),
        claim=CLOSER,
    )
    gate = decide(real, None, baseline_rule="must_beat")
    assert gate.promote
    assert gate.checks[2] == (
        "beats the same model with closers shuffled within territory and segment "
        "(0.620; gain +0.044, 95% CI +0.028 to +0.061)"
    )


def test_a_fit_model_not_beating_its_baseline_says_the_owner_shows_no_effect() -> None:
    manager = OwnerClaim("account manager", "retention")
    noise = evidence(
        0.601,
        0.57,
        0.63,
        baseline=0.604,
        baseline_gain=(-0.02, 0.01),
        placebo=0.598,
        placebo_gain=(-0.01, 0.02),
        claim=manager,
    )
    gate = decide(noise, None, baseline_rule="must_beat")
    assert not gate.promote
    assert gate.reason == (
        "no evidence that the account manager changes retention on this history: the model "
        "with real account managers (AUC 0.601) beats neither the same model without "
        "account manager features (0.604; gain -0.003, 95% CI -0.020 to +0.010) nor the same "
        "model with account managers shuffled within territory and segment (0.598; gain "
        "+0.003, 95% CI -0.010 to +0.020)"
    )
    worse = evidence(
        0.590, 0.56, 0.62, baseline=0.604, baseline_gain=(-0.025, -0.003), claim=manager
    )
    assert decide(worse, None, baseline_rule="must_beat").reason == (
        "no evidence that the account manager changes retention on this history: the model "
        "with real account managers (AUC 0.590) does not beat the same model without "
        "account manager features (0.604; gain -0.014, 95% CI -0.025 to -0.003)"
    )


def test_a_fit_model_ranking_no_better_than_chance_says_the_owner_shows_no_effect() -> None:
    small = evidence(
        0.526,
        0.486,
        0.565,
        baseline=0.544,
        baseline_gain=(-0.05, 0.018),
        claim=OwnerClaim("account manager", "retention"),
    )
    assert decide(small, None, baseline_rule="must_beat").reason == (
        "no evidence that the account manager changes retention on this history: the model "
        "with real account managers ranks no better than chance (roc_auc 0.526 (95% CI "
        "0.486-0.565) reaches down to 0.5)"
    )


def test_a_suspicious_jump_needs_to_be_accepted_and_names_the_columns() -> None:
    leaky = evidence(0.976, 0.97, 0.98, gain_columns=("Tags (-0.081 AUC without it)",))
    champion = ChampionComparison("1", 0.895, (0.07, 0.09), rows=1800)
    gate = decide(leaky, champion)
    assert not gate.promote
    assert "suspicious of leakage: validation ROC AUC 0.976 is above 0.95" in gate.reason
    assert "Tags (-0.081 AUC without it)" in gate.reason
    assert "--accept-jump" in gate.reason
    accepted = decide(leaky, champion, accept_jump=True)
    assert accepted.promote
    assert accepted.checks[1].startswith("jump accepted on request")
    big_gain = decide(evidence(0.90, 0.88, 0.92), ChampionComparison("2", 0.80, (0.08, 0.12)))
    assert not big_gain.promote
    assert "+0.100 over champion v2 (0.800)" in big_gain.reason


def test_a_champion_that_cannot_be_scored_on_the_same_inputs_keeps_the_alias() -> None:
    champion = ChampionComparison("3", None, missing_columns=("Plan", "Score"))
    gate = decide(evidence(0.80, 0.78, 0.82), champion)
    assert not gate.promote
    assert gate.reason.startswith("champion v3 reads Plan, Score, which these rows lack")


def champion(auc: float, low: float, high: float) -> ChampionComparison:
    return ChampionComparison("3", auc, (low, high), rows=900)


def test_against_the_champion_only_a_significant_loss_keeps_it() -> None:
    worse = decide(
        evidence(0.74, 0.72, 0.76), ChampionComparison("3", 0.76, (-0.03, -0.01), rows=900)
    )
    assert not worse.promote
    assert worse.reason.startswith("significantly worse than champion v3 (0.760; gain -0.020")
    tie = decide(
        evidence(0.75, 0.73, 0.77), ChampionComparison("3", 0.752, (-0.01, 0.006), rows=900)
    )
    assert tie.promote
    assert tie.reason.startswith("ties champion v3")
    better = decide(
        evidence(0.78, 0.76, 0.80), ChampionComparison("3", 0.75, (0.01, 0.05), rows=900)
    )
    assert better.promote
    assert better.reason.startswith("better than champion v3")
