"""Exact SHAP contributions of small trees, looked up instead of walked.

A lead's reasons come from path-dependent TreeSHAP, LightGBM's `pred_contrib`.
For one tree, that computation depends on the lead only through the way it
goes at each split, and a tree of n splits has at most 2^n such ways. Lead
models are many small trees (7 leaves, 6 splits: 64 ways), so each tree's
contributions are computed once per way, by LightGBM itself, when the model
is prepared. Scoring a lead then decides every split of every tree in a few
numpy operations and adds up the rows it looks up: a fraction of the time of
`pred_contrib` on one lead, and on a batch. The numbers are LightGBM's up to
the order of the additions (per tree, then across trees):
`tests/models/test_shap_table.py` checks every row of a test set.

The decisions follow LightGBM's own rules (`Tree::NumericalDecision`,
`Tree::CategoricalDecision`: missing values, zero as missing, categories as
C casts them). Preparing checks each way against the leaf value LightGBM's
contributions add up to, and every candidate value against LightGBM's own
numbers; a way no prepared row took is left to LightGBM at scoring time. A
model too large for a table (a tree of over `MAX_SPLITS` splits, or a table
of over `MAX_BYTES`) gets none and keeps `pred_contrib`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from models.single_row import SingleRowPredictor

ZERO: Final = float(np.float32(1e-35))
"""LightGBM's `kZeroThreshold`: a value this close to zero is zero to it."""

MAX_SPLITS: Final = 10
"""Splits in one tree, at most: 2^10 ways to go through it."""

MAX_BYTES: Final = 64 << 20
"""Memory of one model's table, at most."""

CHUNK: Final = 512
"""Leads looked up at once, which bounds the memory of the rows gathered."""

Contributions = Callable[[np.ndarray], np.ndarray]
"""LightGBM's `pred_contrib` on a matrix: the table's fallback."""


@dataclass(frozen=True)
class Tree:
    """One tree of a LightGBM model file, as LightGBM reads it back."""

    feature: list[int]
    threshold: list[float]
    decision: list[int]
    """LightGBM's decision-type bits: categorical, default left, missing type."""
    left: list[int]
    right: list[int]
    """Children of each split: a split's index, or ~leaf."""
    leaf_value: list[float]
    categories: list[frozenset[int]]
    """Per split, the categories that go left (none for a numerical split)."""

    @property
    def splits(self) -> int:
        return len(self.feature)

    def leaf(self, goes_left: Sequence[bool]) -> int:
        node = 0 if self.feature else -1  # a tree of one leaf has no split
        while node >= 0:
            node = self.left[node] if goes_left[node] else self.right[node]
        return ~node


def read_trees(model_text: str) -> list[Tree] | None:
    """The trees of a binary model's text (`Booster.model_to_string`); None for a
    model the table does not cover (several classes, linear trees)."""
    header, _, body = model_text.partition("\nTree=")
    if "num_tree_per_iteration=1\n" not in header + "\n":
        return None
    trees: list[Tree] = []
    for block in ("Tree=" + body).split("end of trees")[0].split("\nTree="):
        fields = dict(line.split("=", 1) for line in block.strip().splitlines()[1:] if "=" in line)
        if not fields:
            continue
        if fields.get("is_linear", "0") != "0":
            return None
        trees.append(_tree(fields))
    return trees


def _tree(fields: dict[str, str]) -> Tree:
    def ints(key: str) -> list[int]:
        return [int(v) for v in fields.get(key, "").split()]

    def floats(key: str) -> list[float]:
        return [float(v) for v in fields.get(key, "").split()]

    decision, threshold = ints("decision_type"), floats("threshold")
    bounds, words = ints("cat_boundaries"), ints("cat_threshold")
    categories = []
    for node, kind in enumerate(decision):
        if kind & 1:
            first, last = bounds[int(threshold[node])], bounds[int(threshold[node]) + 1]
            categories.append(
                frozenset(
                    32 * w + bit
                    for w, word in enumerate(words[first:last])
                    for bit in range(32)
                    if word >> bit & 1
                )
            )
        else:
            categories.append(frozenset())
    return Tree(
        feature=ints("split_feature"),
        threshold=threshold,
        decision=decision,
        left=ints("left_child"),
        right=ints("right_child"),
        leaf_value=floats("leaf_value"),
        categories=categories,
    )


class Splits:
    """Which way a lead goes at each of a list of splits, for many leads at once.

    Splits that ask the same question (feature, threshold or categories, missing
    rule) are answered once: lead models ask a few hundred distinct questions
    across a few thousand splits."""

    def __init__(
        self,
        feature: Sequence[int],
        threshold: Sequence[float],
        decision: Sequence[int],
        categories: Sequence[frozenset[int]],
    ) -> None:
        numerical: dict[tuple[int, float, int], int] = {}
        categorical: dict[tuple[int, frozenset[int], int], int] = {}
        asked: list[tuple[bool, int]] = []
        for f, t, d, c in zip(feature, threshold, decision, categories, strict=True):
            if d & 1:
                asked.append((True, categorical.setdefault((f, c, d), len(categorical))))
            else:
                asked.append((False, numerical.setdefault((f, t, d), len(numerical))))
        self._question = np.array(
            [len(numerical) + q if cat else q for cat, q in asked], dtype=np.intp
        )
        self._numerical = len(numerical)
        self._number_feature = np.array([f for f, _, _ in numerical], dtype=np.intp)
        self._threshold = np.array([t for _, t, _ in numerical], dtype=np.float64)
        kind = np.array([d for _, _, d in numerical], dtype=np.int64)
        missing, default_left = (kind >> 2) & 3, (kind & 2) > 0
        zero_goes_left = self._threshold >= 0.0
        # NumericalDecision: NaN is 0 unless NaN is the missing value; zero is the
        # missing value under "zero as missing"; missing goes the default way.
        self._zero_left = np.where(missing == 1, default_left, zero_goes_left)
        self._nan_left = np.where(missing == 0, zero_goes_left, default_left)
        self._category_feature = np.array([f for f, _, _ in categorical], dtype=np.intp)
        self._right = max((max(c) for _, c, _ in categorical if c), default=-1) + 1
        # Columns: each category code, then "right" (negative, too large), then NaN.
        table = np.zeros((len(categorical), self._right + 2), dtype=bool)
        for row, (_, cats, kind_of) in enumerate(categorical):
            table[row, sorted(cats)] = True
            # CategoricalDecision: a NaN that C casts to a non-negative int is category
            # 0, unless NaN is the missing value (then it goes right, as a negative does).
            table[row, self._right + 1] = table[row, 0] and (kind_of >> 2) & 3 != 2
        self._category_left = table
        self._rows = np.arange(len(categorical))

    def goes_left(self, matrix: np.ndarray) -> np.ndarray:
        """(leads, splits): True where the lead goes left."""
        answers = np.empty((len(matrix), self._numerical + len(self._rows)), dtype=bool)
        values = matrix[:, self._number_feature]
        with np.errstate(invalid="ignore"):
            answers[:, : self._numerical] = np.where(
                np.isnan(values),
                self._nan_left,
                np.where(np.abs(values) <= ZERO, self._zero_left, values <= self._threshold),
            )
            if len(self._rows):
                codes = matrix[:, self._category_feature]
                code = codes.astype(np.int32)  # C's cast, as LightGBM's static_cast<int>
                column = np.minimum(code, self._right)  # a category no split names: right
                column = np.where(np.isnan(codes), self._right + 1, column)
                column = np.where(code < 0, self._right, column)  # negative (x86 casts NaN so)
                answers[:, self._numerical :] = self._category_left[self._rows, column]
        return answers[:, self._question]


class ShapTable:
    """Every tree's contributions for every way through it, and the sums per lead."""

    def __init__(self, trees: list[Tree], features: int, lightgbm: SingleRowPredictor) -> None:
        self.features = features
        self._splits, self._width = _dimensions(trees)
        ways = 1 << self._splits
        self._powers = 1 << np.arange(self._splits, dtype=np.intp)
        self._first = np.arange(len(trees), dtype=np.intp) * ways
        self._values = np.zeros((len(trees) * ways, self._width))
        self._known = np.zeros(len(trees) * ways, dtype=bool)
        # Each tree's columns: its features, then the bias (LightGBM's last column).
        # Unused slots add 0.0 to the bias, which leaves every sum as it is.
        self._columns = np.full((len(trees), self._width), features, dtype=np.intp)
        padded = [_padded(t, self._splits) for t in trees]
        self._decide = Splits(
            [f for p in padded for f in p.feature],
            [v for p in padded for v in p.threshold],
            [d for p in padded for d in p.decision],
            [c for p in padded for c in p.categories],
        )
        for index, (tree, own) in enumerate(zip(trees, padded, strict=True)):
            self._fill(index, tree, own, lightgbm)

    @classmethod
    def for_booster(cls, booster: Any) -> ShapTable | None:
        """The table of a LightGBM booster, or None where the model is too large for one,
        is not a single binary model, or LightGBM's fast single-row API is missing."""
        if getattr(booster, "best_iteration", 0) not in (0, -1, booster.num_trees()):
            return None  # predict() would use fewer trees than the booster holds
        trees = read_trees(booster.model_to_string(num_iteration=-1))
        if not trees or len(trees) != booster.num_trees():
            return None
        splits, width = _dimensions(trees)
        if splits > MAX_SPLITS or len(trees) * (1 << splits) * width * 8 > MAX_BYTES:
            return None
        lightgbm = SingleRowPredictor.for_booster(booster)
        if lightgbm is None:
            return None
        try:
            return cls(trees, int(booster.num_feature()), lightgbm)
        except MismatchError:
            return None

    def _fill(self, index: int, tree: Tree, padded: Tree, lightgbm: SingleRowPredictor) -> None:
        """One row of contributions per way a lead can go through `tree`, from LightGBM.

        Probes: one row per candidate value of each feature the tree splits on, every
        other feature 0. Their decisions sort each feature's candidates into classes;
        one row per combination of classes takes every way through the tree. LightGBM
        then computes each way once, and each probe too: a probe's way must hold its
        very numbers, or the decisions are not LightGBM's and there is no table."""
        used = sorted(set(tree.feature))
        self._columns[index, : len(used)] = used
        decide = Splits(padded.feature, padded.threshold, padded.decision, padded.categories)
        candidates = [_candidates(tree, f) for f in used]
        probes = np.zeros((sum(len(c) for c in candidates), self.features))
        options, position = [], 0
        probed = decide.goes_left(_set_each(probes, used, candidates)).tolist()
        for feature, values in zip(used, candidates, strict=True):
            nodes = [n for n in range(tree.splits) if tree.feature[n] == feature]
            classes: dict[tuple[bool, ...], float] = {}
            for value, way in zip(values, probed[position : position + len(values)], strict=True):
                classes.setdefault(tuple(way[n] for n in nodes), value)
            options.append(list(classes.values()))
            position += len(values)
        rows = np.zeros((int(np.prod([len(o) for o in options])), self.features))
        rows[:, used] = np.array(list(itertools.product(*options)), dtype=np.float64)
        left = decide.goes_left(rows)
        ways, first = np.unique(left @ self._powers, return_index=True)
        rows, left = rows[first], left[first]
        computed = lightgbm.contributions_of_rows(
            np.concatenate([rows, probes]), slice(index, index + 1)
        )
        contributions, expected = computed[: len(rows)], computed[len(rows) :]
        leaf_values = [tree.leaf_value[tree.leaf(way)] for way in left.tolist()]
        elsewhere = np.delete(computed[:, :-1], used, axis=1)
        if elsewhere.any() or not np.allclose(
            contributions.sum(axis=1), leaf_values, rtol=1e-9, atol=1e-12
        ):
            raise MismatchError(f"tree {index}: the decisions do not lead where LightGBM went")
        slots = self._first[index] + ways
        self._values[slots, : len(used)] = contributions[:, used]
        self._values[slots, -1] = contributions[:, -1]
        self._known[slots] = True
        probe_ways = np.asarray(probed, dtype=bool).reshape(len(probes), self._splits)
        probe_slots = self._first[index] + probe_ways @ self._powers
        looked_up = self._values[probe_slots]
        if not (
            self._known[probe_slots].all()
            and np.array_equal(looked_up[:, : len(used)], expected[:, used])
            and np.array_equal(looked_up[:, -1], expected[:, -1])
        ):
            raise MismatchError(f"tree {index}: the decisions do not lead where LightGBM went")

    def contributions(self, matrix: np.ndarray, fallback: Contributions) -> np.ndarray:
        """SHAP contributions of each row of the model matrix, the bias last, as
        `pred_contrib` gives them; rows that go a way no prepared row went are
        `fallback`'s (LightGBM's)."""
        out = np.empty((len(matrix), self.features + 1))
        for start in range(0, len(matrix), CHUNK):
            chunk = matrix[start : start + CHUNK]
            left = self._decide.goes_left(chunk)
            ways = (
                self._first
                + left.reshape(len(chunk), len(self._first), self._splits) @ self._powers
            )
            # One bincount per chunk adds each lead's trees in order, whatever the chunk.
            keys = self._columns + (np.arange(len(chunk)) * (self.features + 1))[:, None, None]
            sums = np.bincount(
                keys.ravel(),
                weights=self._values[ways].ravel(),
                minlength=len(chunk) * (self.features + 1),
            )
            out[start : start + len(chunk)] = sums.reshape(len(chunk), -1)
            unknown = ~self._known[ways].all(axis=1)
            if unknown.any():
                out[start + np.flatnonzero(unknown)] = fallback(chunk[unknown])
        return out


class MismatchError(Exception):
    """The decisions disagree with LightGBM's: no table, LightGBM computes."""


def _dimensions(trees: Sequence[Tree]) -> tuple[int, int]:
    """(splits of the largest tree, columns a tree's row needs: its features and the bias)."""
    return max(t.splits for t in trees), 1 + max(len(set(t.feature)) for t in trees)


def _candidates(tree: Tree, feature: int) -> list[float]:
    """Values of `feature` that between them take every way the tree's splits on it
    can go: each threshold and its neighbours, each category named and one beyond,
    zero, one, minus one, and NaN."""
    candidates = {0.0, -1.0, 1.0}
    for node in range(tree.splits):
        if tree.feature[node] != feature:
            continue
        if tree.decision[node] & 1:
            candidates |= {float(c) for c in tree.categories[node]}
            candidates.add(float(max(tree.categories[node], default=0) + 1))
        else:
            t = tree.threshold[node]
            candidates |= {t, float(np.nextafter(t, np.inf)), float(np.nextafter(t, -np.inf))}
    return [*sorted(candidates), float("nan")]


def _set_each(rows: np.ndarray, features: list[int], values: list[list[float]]) -> np.ndarray:
    """`rows` with, block after block, each feature set to each of its values."""
    position = 0
    for feature, own in zip(features, values, strict=True):
        rows[position : position + len(own), feature] = own
        position += len(own)
    return rows


def _padded(tree: Tree, splits: int) -> Tree:
    """`tree` with splits added up to `splits` that every value passes on the left
    (x <= inf, missing as zero), so every tree has the same number of decisions."""
    extra = splits - tree.splits
    return Tree(
        feature=tree.feature + [0] * extra,
        threshold=tree.threshold + [float("inf")] * extra,
        decision=tree.decision + [0] * extra,
        left=tree.left,
        right=tree.right,
        leaf_value=tree.leaf_value,
        categories=tree.categories + [frozenset()] * extra,
    )
