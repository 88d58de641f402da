"""The online assignment policy: hard rules, fairness, exploration, fallback, bad input."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.assignment.policy import decide_one, record_assignments
from models.assignment.types import Candidate, Decision, ExplorationMode, Item, PolicyConfig, Rep

GREEDY = PolicyConfig(exploration=0.0)
PROPERTY = settings(max_examples=150, deadline=None, database=None)


def item(fits: dict[str, float | None], item_id: str = "lead-1", **kw: str | None) -> Item:
    return Item(item_id, [Candidate(rep, fit) for rep, fit in fits.items()], **kw)


def run_sequence(
    reps: list[Rep], fits: np.ndarray, config: PolicyConfig
) -> tuple[list[Rep], list[Decision]]:
    """Decide items one after another, each seeing the loads the previous ones left."""
    decisions = []
    for t, row in enumerate(fits):
        fits_by_rep = {
            r.rep_id: None if np.isnan(f) else float(f) for r, f in zip(reps, row, strict=True)
        }
        d = decide_one(item(fits_by_rep, f"l{t}"), reps, config)
        reps = list(record_assignments(reps, [d]))
        decisions.append(d)
    return reps, decisions


# --- hard rules ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("rep", "region", "segment", "reason"),
    [
        (Rep("b", 40, active=False), None, None, "inactive"),
        (Rep("b", 40, available=False), None, None, "unavailable"),
        (Rep("b", 40, load=40), None, None, "at capacity 40/40"),
        (Rep("b", 40, load=41), None, None, "at capacity 41/40"),
        (Rep("b", 0), None, None, "at capacity 0/0"),
        (
            Rep("b", 40, regions={"north_america"}),
            "emea",
            None,
            "region emea not in [north_america]",
        ),
        (
            Rep("b", 40, segments=["mid_market", "enterprise"]),
            None,
            "smb",
            "segment smb not in [enterprise, mid_market]",
        ),
    ],
)
def test_each_hard_rule_makes_a_rep_ineligible_with_its_reason(
    rep: Rep, region: str | None, segment: str | None, reason: str
) -> None:
    d = decide_one(item({"a": 0.1, "b": 0.9}, region=region, segment=segment), [Rep("a", 40), rep])
    assert d.chosen == "a"
    assert [(i.rep_id, i.reason) for i in d.ineligible] == [("b", reason)]
    assert "b" not in d.propensities


def test_all_reasons_of_a_rep_are_listed() -> None:
    rep = Rep("b", 1, load=1, active=False, regions=["apac"])
    d = decide_one(item({"a": 0.1, "b": 0.9}, region="emea"), [Rep("a", 1), rep])
    assert d.ineligible[0].reason == "inactive; at capacity 1/1; region emea not in [apac]"


def test_an_item_without_region_or_segment_is_not_excluded_by_restrictions() -> None:
    rep = Rep("b", 40, regions=["emea"], segments=["smb"])
    assert decide_one(item({"b": 0.5}), [rep], GREEDY).chosen == "b"
    assert decide_one(item({"b": 0.5}, region="emea", segment="smb"), [rep], GREEDY).chosen == "b"


def test_a_rep_without_a_fit_among_scored_reps_is_ineligible() -> None:
    d = decide_one(item({"a": 0.2, "b": None}), [Rep("a", 5), Rep("b", 5)])
    assert d.chosen == "a"
    assert d.ineligible[0].reason == "no fit score"


def test_no_eligible_rep_is_a_decision_without_choice_not_an_error() -> None:
    reps = [Rep("a", 3, load=3), Rep("b", 3, available=False)]
    d = decide_one(item({"a": 0.5, "b": 0.5}), reps)
    assert d.chosen is None and d.propensity is None and d.ranked == ()
    assert d.reason == ("no eligible rep among 2 considered (a: at capacity 3/3; b: unavailable)")
    assert "no candidates" in decide_one(Item("x", []), reps).reason


# --- objective and explanation --------------------------------------------------


def test_the_decision_explains_expected_value_load_and_runners_up() -> None:
    reps = [Rep("a", 40, load=12), Rep("b", 40, load=12), Rep("c", 40, load=12)]
    candidates = [Candidate("a", 0.42, 12_000, "won 3 fintech deals"), Candidate("b", 0.3, 12_000)]
    d = decide_one(Item("lead-1", [*candidates, Candidate("c", 0.1, 12_000)]), reps, GREEDY)
    assert d.chosen == "a" and d.policy == "expected_value"
    best = d.ranked[0]
    assert best.expected_value == pytest.approx(5040.0)
    # Equal loads: nobody is above the fair share, so no penalty.
    assert best.reason == "fit 0.42 x value 12,000 = 5,040; load 12/40; won 3 fintech deals"
    assert d.reason.startswith("a has the highest objective 5,040 (fit 0.42")
    assert [r.rep_id for r in d.runners_up] == ["b", "c"]
    assert [r.objective for r in d.ranked] == sorted((r.objective for r in d.ranked), reverse=True)


def test_the_fairness_penalty_follows_the_documented_formula() -> None:
    reps = [Rep("a", 40, load=10), Rep("b", 40, load=2, weight=2.0), Rep("c", 40, load=40)]
    config = PolicyConfig(fairness=0.5, exploration=0.0)
    d = decide_one(Item("x", [Candidate("a", 0.5, 100), Candidate("b", 0.3, 100)]), reps, config)
    level = (10 + 2) / (1 + 2)  # c is full: it does not set the fair level
    scale = (50 + 30) / 2
    by_rep = {r.rep_id: r for r in d.ranked}
    assert by_rep["a"].penalty == pytest.approx(0.5 * scale * (10 - level) / (level + 1))
    assert by_rep["b"].penalty == pytest.approx(0.5 * scale * (2 / 2 - level) / (level + 1))
    assert by_rep["a"].objective == pytest.approx(50 - by_rep["a"].penalty)
    assert "fairness -24 -> 26" in by_rep["a"].reason
    assert "fairness +12 -> 42" in by_rep["b"].reason
    assert d.chosen == "b"  # 30 + 12 beats 50 - 24: a holds far more than its share


def test_fairness_keeps_equal_fit_work_within_one_item() -> None:
    reps = [Rep(r, 500) for r in "abcd"]
    final, _ = run_sequence(reps, np.full((402, 4), 0.3), PolicyConfig(exploration=0.0))
    loads = [r.load for r in final]
    assert max(loads) - min(loads) <= 1


def test_a_rep_with_weight_2_gets_twice_the_work() -> None:
    reps = [Rep("a", 500, weight=2.0), Rep("b", 500), Rep("c", 500)]
    final, _ = run_sequence(reps, np.full((400, 3), 0.3), PolicyConfig())
    a, b, c = (r.load for r in final)
    assert a / b == pytest.approx(2.0, abs=0.1) and a / c == pytest.approx(2.0, abs=0.1)


def test_fairness_bounds_the_load_of_a_rep_with_slightly_better_fits() -> None:
    """a is 10% better on average; without the fairness term it takes most of the work."""
    rng = np.random.default_rng(7)
    fits = np.clip(0.3 + rng.normal(0, 0.03, (600, 3)) + [0.03, 0.0, 0.0], 0, 1)
    reps = [Rep(r, 1000) for r in "abc"]
    fair, _ = run_sequence(reps, fits, PolicyConfig(fairness=1.0, exploration=0.0))
    unfair, _ = run_sequence(reps, fits, PolicyConfig(fairness=0.0, exploration=0.0))
    fair_loads = [r.load for r in fair]
    assert max(fair_loads) / min(fair_loads) < 1.5
    assert max(fair_loads) == fair[0].load  # the better rep still gets the most
    unfair_loads = [r.load for r in unfair]
    assert max(unfair_loads) / min(unfair_loads) > 3


# --- capacity -------------------------------------------------------------------


@PROPERTY
@given(
    capacities=st.lists(st.integers(0, 6), min_size=1, max_size=5),
    n_items=st.integers(0, 30),
    seed=st.integers(0, 2**32 - 1),
    exploration=st.sampled_from([0.0, 0.3, 1.0]),
)
def test_repeated_online_decisions_never_exceed_capacity(
    capacities: list[int], n_items: int, seed: int, exploration: float
) -> None:
    rng = np.random.default_rng(seed)
    reps = [Rep(f"r{i}", c, load=int(rng.integers(0, c + 1))) for i, c in enumerate(capacities)]
    free = sum(r.capacity - r.load for r in reps)
    final, decisions = run_sequence(
        reps, rng.random((n_items, len(reps))), PolicyConfig(exploration=exploration, seed=seed)
    )
    assert all(r.load <= r.capacity for r in final)
    assigned = sum(d.chosen is not None for d in decisions)
    assert assigned == min(n_items, free)  # nobody is turned away while someone has room


# --- exploration ------------------------------------------------------------------


@PROPERTY
@given(
    fits=st.lists(st.floats(0, 1), min_size=1, max_size=6),
    loads=st.lists(st.integers(0, 9), min_size=6, max_size=6),
    fairness=st.sampled_from([0.0, 0.1, 2.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_without_exploration_the_best_objective_is_always_chosen(
    fits: list[float], loads: list[int], fairness: float, seed: int
) -> None:
    reps = [Rep(f"r{i}", 10, load=loads[i]) for i in range(len(fits))]
    config = PolicyConfig(fairness=fairness, exploration=0.0, seed=seed)
    d = decide_one(item({r.rep_id: f for r, f in zip(reps, fits, strict=False)}), reps, config)
    best = max(d.ranked, key=lambda r: (r.objective, -int(r.rep_id[1:])))
    assert d.chosen == best.rep_id and d.propensity == 1.0 and not d.explored
    assert sum(d.propensities.values()) == 1.0


def test_epsilon_greedy_propensities_are_exact_and_sum_to_one() -> None:
    reps = [Rep(r, 10) for r in "abcd"]
    config = PolicyConfig(fairness=0.0, exploration=0.2)
    for seed in range(50):
        d = decide_one(item({"a": 0.1, "b": 0.6, "c": 0.3, "d": 0.2}), reps, config, rng=seed)
        assert d.propensities == pytest.approx({"b": 0.85, "a": 0.05, "c": 0.05, "d": 0.05})
        assert sum(d.propensities.values()) == pytest.approx(1.0)
        assert d.chosen is not None and d.propensity == d.propensities[d.chosen]
        assert d.explored == (d.chosen != "b")


def test_softmax_propensities_follow_the_objective() -> None:
    reps = [Rep(r, 10) for r in "abc"]
    config = PolicyConfig(fairness=0.0, exploration=0.5, mode="softmax")
    d = decide_one(item({"a": 0.2, "b": 0.4, "c": 0.3}), reps, config)
    p = d.propensities
    scale = (0.2 + 0.4 + 0.3) / 3
    assert p["b"] / p["a"] == pytest.approx(np.exp((0.4 - 0.2) / (0.5 * scale)))
    assert sum(p.values()) == pytest.approx(1.0)
    assert p["b"] > p["c"] > p["a"]


@pytest.mark.parametrize("mode", ["epsilon_greedy", "softmax"])
def test_choices_happen_as_often_as_their_recorded_propensity(mode: ExplorationMode) -> None:
    reps = [Rep(r, 10) for r in "abc"]
    config = PolicyConfig(fairness=0.0, exploration=0.3, mode=mode)
    it = item({"a": 0.5, "b": 0.3, "c": 0.2})
    draws = [decide_one(it, reps, config, rng=s) for s in range(4000)]
    counts = Counter(d.chosen for d in draws)
    for rep_id, p in draws[0].propensities.items():
        assert counts[rep_id] / 4000 == pytest.approx(p, abs=0.025)


def test_decisions_are_reproducible_for_a_seed() -> None:
    reps = [Rep(r, 10) for r in "abcde"]
    config = PolicyConfig(exploration=0.5, seed=42)
    it = item({r.rep_id: 0.3 for r in reps})
    assert decide_one(it, reps, config) == decide_one(it, reps, config)
    assert decide_one(it, reps, config, rng=7) == decide_one(it, reps, config, rng=7)
    rng1, rng2 = np.random.default_rng(3), np.random.default_rng(3)
    assert [decide_one(it, reps, config, rng=rng1).chosen for _ in range(20)] == [
        decide_one(it, reps, config, rng=rng2).chosen for _ in range(20)
    ]


def test_one_fixed_seed_still_gives_each_item_its_own_draw() -> None:
    reps = [Rep(r, 1000) for r in "ab"]
    config = PolicyConfig(fairness=0.0, exploration=0.5, seed=1)
    explored = [
        decide_one(item({"a": 0.9, "b": 0.1}, f"l{t}"), reps, config).explored for t in range(400)
    ]
    assert np.mean(explored) == pytest.approx(0.25, abs=0.06)


# --- fallback ---------------------------------------------------------------------


def test_without_fits_weighted_round_robin_chooses_and_says_so() -> None:
    reps = [Rep("a", 40, load=6, weight=2.0), Rep("b", 40, load=4), Rep("c", 40, load=3)]
    d = decide_one(item({"a": None, "b": None, "c": None}), reps)
    assert d.policy == "round_robin_fallback"
    assert d.chosen == "a" and d.propensity == 1.0  # 6/2 = 3 ties with c's 3/1: rep_id decides
    assert d.reason.startswith("no fit scores for this item, so weighted round-robin: a")
    assert [r.rep_id for r in d.ranked] == ["a", "c", "b"]


def test_round_robin_fallback_spreads_work_by_weight() -> None:
    reps = [Rep("a", 100, weight=2.0), Rep("b", 100), Rep("c", 100)]
    final, decisions = run_sequence(reps, np.full((40, 3), np.nan), GREEDY)
    assert all(d.policy == "round_robin_fallback" for d in decisions)
    assert [r.load for r in final] == [20, 10, 10]


# --- bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Rep("a", -1), "Rep.capacity"),
        (lambda: Rep("a", 3, load=-2), "Rep.load"),
        (lambda: Rep("a", 2.5), "Rep.capacity"),  # type: ignore[arg-type]
        (lambda: Rep("a", 3, weight=0.0), "Rep.weight"),
        (lambda: Rep("", 3), "Rep.rep_id"),
        (lambda: Rep("a", 3, regions="emea"), "Rep.regions"),
        (lambda: Candidate("a", 1.2), "Candidate.fit"),
        (lambda: Candidate("a", -0.1), "Candidate.fit"),
        (lambda: Candidate("a", float("nan")), "Candidate.fit"),
        (lambda: Candidate("a", 0.5, value=-3.0), "Candidate.value"),
        (lambda: PolicyConfig(fairness=-1.0), "PolicyConfig.fairness"),
        (lambda: PolicyConfig(exploration=1.5), "PolicyConfig.exploration"),
        (lambda: PolicyConfig(mode="thompson"), "PolicyConfig.mode"),  # type: ignore[arg-type]
    ],
)
def test_bad_values_raise_naming_the_field(build: Callable[[], object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        build()


def test_duplicate_or_unknown_reps_raise_naming_the_field() -> None:
    with pytest.raises(ValueError, match="reps: duplicate rep_id 'a'"):
        decide_one(item({"a": 0.5}), [Rep("a", 3), Rep("a", 4)])
    with pytest.raises(ValueError, match="candidates: unknown rep_id 'z'"):
        decide_one(item({"z": 0.5}), [Rep("a", 3)])
    with pytest.raises(ValueError, match="candidates: duplicate rep_id 'a'"):
        decide_one(Item("x", [Candidate("a", 0.1), Candidate("a", 0.2)]), [Rep("a", 3)])


def test_record_assignments_counts_each_chosen_item_once() -> None:
    reps = [Rep("a", 3), Rep("b", 3, load=1)]
    d = decide_one(item({"a": 0.9, "b": 0.1}), reps, GREEDY)
    none = decide_one(Item("y", []), reps)
    assert [r.load for r in record_assignments(reps, [d, d, none])] == [2, 1]
