"""The lead-score model object: reasons, fast path and pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from data.contract import Lead
from features.columns import take
from training.channel_fit import FittedChannel


@pytest.fixture(scope="module")
def inbound(fitted: dict[str, FittedChannel]) -> FittedChannel:
    return fitted["inbound"]


def _validation(channel: FittedChannel, rows: int = 300) -> dict[str, np.ndarray]:
    return dict(take(channel.data.columns, channel.split.validation[:rows]))


def test_reasons_are_at_most_three_each_way_and_name_real_fields(inbound: FittedChannel) -> None:
    scored = inbound.model.score(_validation(inbound), reasons=3)
    assert scored.reasons is not None
    for reasons in scored.reasons:
        ups = [r for r in reasons if r.effect > 0]
        downs = [r for r in reasons if r.effect < 0]
        assert len(ups) <= 3 and len(downs) <= 3
        assert [r.effect for r in ups] == sorted((r.effect for r in ups), reverse=True)
        assert [r.effect for r in downs] == sorted(r.effect for r in downs)
        assert all(r.field in Lead.model_fields for r in reasons)
    assert any(scored.reasons), "some leads must have reasons"


def test_reason_values_are_the_leads_own_values(inbound: FittedChannel) -> None:
    columns = _validation(inbound)
    scored = inbound.model.score(columns, reasons=3)
    assert scored.reasons is not None
    for row, reasons in enumerate(scored.reasons):
        for reason in reasons:
            raw = columns[reason.field][row]
            if reason.field == "demo_requested" and reason.value is not None:
                assert reason.value is bool(raw)
            elif isinstance(reason.value, str) and reason.field != "created_at":
                assert reason.value == raw


def test_fast_path_and_reasons_path_agree(inbound: FittedChannel) -> None:
    columns = _validation(inbound)
    fast = inbound.model.score(columns)
    full = inbound.model.score(columns, reasons=3)
    np.testing.assert_allclose(fast.probability, full.probability, rtol=1e-9)
    np.testing.assert_array_equal(fast.grade, full.grade)


def test_a_pickled_model_scores_the_same(inbound: FittedChannel) -> None:
    columns = _validation(inbound)
    clone = pickle.loads(pickle.dumps(inbound.model))
    before = inbound.model.score(columns, reasons=3)
    after = clone.score(columns, reasons=3)
    np.testing.assert_array_equal(before.probability, after.probability)
    assert before.reasons == after.reasons


def test_the_best_leads_still_get_reasons(inbound: FittedChannel) -> None:
    columns = _validation(inbound, rows=2000)
    scored = inbound.model.score(columns, reasons=3)
    assert scored.reasons is not None
    top = [r for s, r in zip(scored.score, scored.reasons, strict=True) if s >= 98.5]
    assert top, "the sample has leads at the top of the scale"
    assert all(any(reason.effect > 0 for reason in reasons) for reasons in top)
