"""The SHAP table gives LightGBM's `pred_contrib` on every row: real leads, values at
and around every threshold, missing values, zeros and categories no split names."""

from __future__ import annotations

import pickle
from dataclasses import replace

import lightgbm as lgb
import numpy as np
import pytest

from features.columns import take
from models.shap_table import ZERO, MismatchError, ShapTable, read_trees
from models.single_row import SingleRowPredictor
from training.channel_fit import FittedChannel

TOLERANCE = 1e-12
"""The same additions in another order: per tree, then across trees."""


@pytest.fixture(scope="module", params=["inbound", "outbound"])
def channel(request: pytest.FixtureRequest, fitted: dict[str, FittedChannel]) -> FittedChannel:
    return fitted[request.param]


class Counted:
    """LightGBM's contributions, counting the rows the table left to it."""

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster, self.rows = booster, 0

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        self.rows += len(rows)
        return np.asarray(self.booster.predict(rows, pred_contrib=True))


def edge_rows(booster: lgb.Booster, count: int, seed: int = 0) -> np.ndarray:
    """Rows mixing, per feature, the values where decisions turn: every threshold and
    its neighbours, zero and near-zero, NaN, infinities, huge numbers, negative and
    fractional codes, and categories beyond any split's."""
    trees = read_trees(booster.model_to_string())
    assert trees is not None
    values: dict[int, set[float]] = {f: set() for f in range(booster.num_feature())}
    for tree in trees:
        for node, feature in enumerate(tree.feature):
            if tree.decision[node] & 1:
                cats = tree.categories[node]
                values[feature] |= {float(c) for c in cats} | {max(cats) + 1.0, max(cats) + 7.0}
            else:
                t = tree.threshold[node]
                values[feature] |= {t, np.nextafter(t, np.inf), np.nextafter(t, -np.inf)}
    common = [0.0, -0.0, ZERO, -ZERO, 5e-36, -5e-36, 1.0, -1.0, -0.5, 0.5, 1e300, -1e300]
    common += [np.inf, -np.inf, np.nan, 2.0**31, 3e9]
    rng = np.random.default_rng(seed)
    rows = np.empty((count, booster.num_feature()))
    for feature, own in values.items():
        pool = np.array(sorted(own) + common, dtype=np.float64)
        rows[:, feature] = rng.choice(pool, size=count)
    return rows


def assert_same_as_lightgbm(booster: lgb.Booster, rows: np.ndarray) -> None:
    table = ShapTable.for_booster(booster)
    assert table is not None
    lightgbm = Counted(booster)
    got = table.contributions(rows, lightgbm)
    np.testing.assert_allclose(
        got, booster.predict(rows, pred_contrib=True), rtol=0, atol=TOLERANCE
    )
    assert lightgbm.rows == 0, "every way through every tree was prepared"


def test_every_validation_lead_gets_lightgbms_contributions(channel: FittedChannel) -> None:
    model = channel.model
    matrix = model.spec.transform(dict(take(channel.data.columns, channel.split.validation)))
    assert len(matrix) > 1000 and np.isnan(matrix).any()
    assert_same_as_lightgbm(model.trees, matrix)


def test_values_where_decisions_turn_get_lightgbms_contributions(channel: FittedChannel) -> None:
    assert_same_as_lightgbm(channel.model.trees, edge_rows(channel.model.trees, 20_000))


def test_a_lead_alone_adds_up_exactly_as_in_a_batch(channel: FittedChannel) -> None:
    booster = channel.model.trees
    table = ShapTable.for_booster(booster)
    assert table is not None
    rows = edge_rows(booster, 1500, seed=1)
    batch = table.contributions(rows, Counted(booster))
    alone = np.concatenate(
        [table.contributions(rows[i : i + 1], Counted(booster)) for i in range(len(rows))]
    )
    np.testing.assert_array_equal(alone, batch)


def _synthetic(params: dict[str, object], rows: int = 4000, seed: int = 3) -> lgb.Booster:
    """A booster on data with zeros, NaN, negative and sparse categories."""
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [
            rng.normal(size=rows),
            np.where(rng.random(rows) < 0.3, 0.0, rng.exponential(size=rows)),
            np.where(rng.random(rows) < 0.2, np.nan, rng.integers(0, 40, rows).astype(float)),
            np.where(rng.random(rows) < 0.1, np.nan, rng.normal(size=rows)),
        ]
    )
    signal = x[:, 0] + (x[:, 1] == 0) + np.isin(x[:, 2], [3, 5, 7, 11]) - np.nan_to_num(x[:, 3])
    y = (signal + rng.normal(size=rows) > 0.5).astype(int)
    data = lgb.Dataset(x, y, categorical_feature=[2], free_raw_data=False)
    base = {"objective": "binary", "verbose": -1, "num_threads": 1, "min_data_in_leaf": 20}
    return lgb.train({**base, **params}, data, num_boost_round=40)


@pytest.mark.parametrize(
    "params",
    [
        {"num_leaves": 7},
        {"num_leaves": 7, "zero_as_missing": True},
        {"num_leaves": 5, "use_missing": False},
        {"num_leaves": 11, "max_cat_to_onehot": 64},
    ],
    ids=["nan-missing", "zero-as-missing", "no-missing", "one-vs-rest-categories"],
)
def test_each_missing_value_rule_gets_lightgbms_contributions(params: dict[str, object]) -> None:
    booster = _synthetic(params)
    assert_same_as_lightgbm(booster, edge_rows(booster, 20_000))


def test_trees_of_a_single_leaf_are_their_bias() -> None:
    booster = _synthetic({"num_leaves": 7, "min_data_in_leaf": 10_000})
    assert {t.splits for t in read_trees(booster.model_to_string()) or []} == {0}
    assert_same_as_lightgbm(booster, edge_rows(booster, 100))


def test_trees_too_large_for_a_table_keep_lightgbm() -> None:
    assert ShapTable.for_booster(_synthetic({"num_leaves": 31})) is None


def test_a_way_never_prepared_is_left_to_lightgbm(channel: FittedChannel) -> None:
    booster = channel.model.trees
    table = ShapTable.for_booster(booster)
    assert table is not None
    table._known[:] = False
    rows = edge_rows(booster, 300)
    lightgbm = Counted(booster)
    got = table.contributions(rows, lightgbm)
    assert lightgbm.rows == 300
    np.testing.assert_array_equal(got, booster.predict(rows, pred_contrib=True))


def test_decisions_that_disagree_with_lightgbm_refuse_the_table(channel: FittedChannel) -> None:
    booster = channel.model.trees
    trees = read_trees(booster.model_to_string())
    assert trees is not None
    numerical = next(t for t in trees if t.splits and not t.decision[0] & 1)
    moved = replace(numerical, threshold=[numerical.threshold[0] + 1e6, *numerical.threshold[1:]])
    trees[trees.index(numerical)] = moved
    lightgbm = SingleRowPredictor.for_booster(booster)
    assert lightgbm is not None
    with pytest.raises(MismatchError, match="do not lead where LightGBM went"):
        ShapTable(trees, booster.num_feature(), lightgbm)


def test_scores_with_reasons_match_lightgbms_and_survive_pickling(
    channel: FittedChannel,
) -> None:
    model = channel.model
    columns = dict(take(channel.data.columns, channel.split.validation[:2000]))
    matrix = model.spec.transform(columns)
    contrib = model.contributions(matrix)
    np.testing.assert_allclose(
        contrib, model.trees.predict(matrix, pred_contrib=True), rtol=0, atol=TOLERANCE
    )
    clone = pickle.loads(pickle.dumps(model))
    assert "_shap_table" not in clone.__dict__, "the table is rebuilt, not pickled"
    np.testing.assert_array_equal(clone.contributions(matrix), contrib)
    assert clone.score(columns, reasons=3).reasons == model.score(columns, reasons=3).reasons
