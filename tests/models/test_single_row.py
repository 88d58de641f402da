"""One lead through LightGBM's single-row C API gives `Booster.predict`'s numbers exactly."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from features.columns import FieldType, take
from models.single_row import SingleRowPredictor
from training.channel_fit import FittedChannel


@pytest.fixture(scope="module", params=["inbound", "outbound"])
def channel(request: pytest.FixtureRequest, fitted: dict[str, FittedChannel]) -> FittedChannel:
    return fitted[request.param]


def _columns(channel: FittedChannel) -> dict[str, np.ndarray]:
    return dict(take(channel.data.columns, channel.split.validation))


def _records(
    columns: Mapping[str, np.ndarray], kinds: Mapping[str, FieldType]
) -> list[dict[str, Any]]:
    """The leads as an API body would carry them: None for missing, ISO text for times."""

    def plain(value: Any, kind: FieldType) -> Any:
        if kind is FieldType.time:
            return None if np.isnat(value) else datetime.fromisoformat(str(value)).isoformat()
        if kind in (FieldType.number, FieldType.boolean):
            return None if np.isnan(value) else float(value)
        return value

    rows = len(next(iter(columns.values())))
    return [{f: plain(columns[f][i], kind) for f, kind in kinds.items()} for i in range(rows)]


def test_raw_scores_and_contributions_equal_booster_predict_on_every_row(
    channel: FittedChannel,
) -> None:
    model = channel.model
    predictor = SingleRowPredictor.for_booster(model.trees)
    assert predictor is not None
    matrix = model.spec.transform(_columns(channel))
    assert np.isnan(matrix).any(), "the rows must include missing values"
    raw = model.trees.predict(matrix, raw_score=True)
    contrib = model.trees.predict(matrix, pred_contrib=True)
    one_raw = np.array([predictor.raw_score(np.ascontiguousarray(row)) for row in matrix])
    one_contrib = np.stack([predictor.contributions(np.ascontiguousarray(r)) for r in matrix])
    assert len(matrix) > 1000
    np.testing.assert_array_equal(one_raw, raw)
    np.testing.assert_array_equal(one_contrib, contrib)


def test_each_lead_alone_scores_exactly_as_in_a_batch(channel: FittedChannel) -> None:
    model = channel.model
    columns = _columns(channel)
    records = _records(columns, model.spec.input_fields)[:800]
    batch = {k: v[:800] for k, v in columns.items()}
    for reasons in (0, 3):
        whole = model.score(batch, reasons=reasons)
        alone = [model.score_records([record], reasons=reasons) for record in records]
        assert [a.probability[0] for a in alone] == whole.probability.tolist()
        assert [a.score[0] for a in alone] == whole.score.tolist()
        assert [a.grade[0] for a in alone] == whole.grade.tolist()
        if reasons:
            assert whole.reasons is not None and any(whole.reasons)
            assert [a.reasons[0] for a in alone if a.reasons] == whole.reasons


def test_reason_sums_equal_the_per_field_sums(channel: FittedChannel) -> None:
    model = channel.model
    columns = _columns(channel)
    contrib = model.contributions(model.spec.transform(columns))
    fields, grouped, _ = model.field_contributions(columns)
    reference = np.stack(
        [contrib[:, idx].sum(axis=1) for idx in model._reason_groups.values()], axis=1
    )
    assert fields == list(model._reason_groups)
    np.testing.assert_array_equal(grouped, reference)
    # One lead's sums take plain floats, added in the same order: the same bits.
    one_by_one = np.concatenate([model._groups.sums(contrib[i : i + 1]) for i in range(300)])
    np.testing.assert_array_equal(one_by_one, reference[:300])


def test_threads_each_get_their_own_buffers(channel: FittedChannel) -> None:
    model = channel.model
    predictor = SingleRowPredictor.for_booster(model.trees)
    assert predictor is not None
    matrix = np.ascontiguousarray(model.spec.transform(_columns(channel))[:400])
    expected = np.asarray(model.trees.predict(matrix, raw_score=True))

    def work(_: int) -> list[float]:
        return [predictor.raw_score(row) for row in matrix]

    with ThreadPoolExecutor(4) as pool:
        for got in pool.map(work, range(8)):
            assert got == expected.tolist()


def test_a_pickled_model_rebuilds_its_single_row_path(channel: FittedChannel) -> None:
    model = channel.model
    clone = pickle.loads(pickle.dumps(model))
    assert clone._single_row is not None and clone._single_row is not model._single_row
    record = _records(_columns(channel), model.spec.input_fields)[0]
    before, after = model.score_records([record], 3), clone.score_records([record], 3)
    assert (before.probability, before.reasons) == (after.probability, after.reasons)


def test_a_row_of_the_wrong_shape_is_refused(channel: FittedChannel) -> None:
    predictor = SingleRowPredictor.for_booster(channel.model.trees)
    assert predictor is not None
    with pytest.raises(ValueError, match="contiguous float64"):
        predictor.raw_score(np.zeros(predictor.features + 1))
    with pytest.raises(ValueError, match="contiguous float64"):
        predictor.raw_score(np.zeros(predictor.features, dtype=np.float32))


def test_a_booster_that_is_not_lightgbm_has_no_single_row_path() -> None:
    assert SingleRowPredictor.for_booster(object()) is None


def test_contributions_of_some_trees_equal_booster_predict(channel: FittedChannel) -> None:
    predictor = SingleRowPredictor.for_booster(channel.model.trees)
    assert predictor is not None
    matrix = channel.model.spec.transform(_columns(channel))[:500]
    for trees in (slice(0, 1), slice(7, 8), slice(3, 40)):
        got = predictor.contributions_of_rows(matrix, trees)
        expected = channel.model.trees.predict(
            matrix,
            pred_contrib=True,
            start_iteration=trees.start,
            num_iteration=trees.stop - trees.start,
        )
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match=r"rows are \(n, "):
        predictor.contributions_of_rows(matrix[:, :3], slice(0, 1))
