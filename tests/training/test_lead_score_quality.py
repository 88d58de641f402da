"""Behavioural checks of the trained lead-score models against the hidden truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from features.columns import from_frame, take
from training.channel_fit import FittedChannel
from training.evaluation_metrics import evaluate

CHANNELS = ("inbound", "outbound")


def _validation_truth(channel: FittedChannel, tables: dict[str, pd.DataFrame]) -> np.ndarray:
    truth = tables["truth_leads"].set_index("lead_id")["p_won"]
    ids = channel.data.leads["lead_id"].iloc[channel.split.validation]
    return truth.loc[ids].to_numpy()


@pytest.mark.slow
@pytest.mark.parametrize("name", CHANNELS)
def test_model_comes_within_003_auc_of_the_truth_and_beats_the_baseline(
    fitted: dict[str, FittedChannel], quality_tables: dict[str, pd.DataFrame], name: str
) -> None:
    channel = fitted[name]
    y = channel.data.y[channel.split.validation]
    validation = take(channel.data.columns, channel.split.validation)
    evaluated = channel.evaluated  # the production model learnt the validation rows too
    model_auc = roc_auc_score(y, evaluated.score(validation).probability)
    baseline = channel.evaluated_baseline.predict_proba(evaluated.spec.transform(validation))[:, 1]
    truth_auc = roc_auc_score(y, _validation_truth(channel, quality_tables))
    assert model_auc >= truth_auc - 0.03, (model_auc, truth_auc)
    assert model_auc > roc_auc_score(y, baseline)


@pytest.mark.slow
@pytest.mark.parametrize("name", CHANNELS)
def test_probabilities_are_calibrated_on_the_newest_period(
    fitted: dict[str, FittedChannel], name: str
) -> None:
    channel = fitted[name]
    y = channel.data.y[channel.split.validation]
    probability = channel.evaluated.score(take(channel.data.columns, channel.split.validation))
    metrics = evaluate(y, probability.probability)
    assert metrics["ece"] < 0.02
    assert abs(probability.probability.mean() - y.mean()) < 0.2 * y.mean()


def _leads(channel: FittedChannel, rows: int = 500) -> pd.DataFrame:
    return channel.data.leads.iloc[channel.split.validation[:rows]].reset_index(drop=True)


def _probability(channel: FittedChannel, leads: pd.DataFrame) -> np.ndarray:
    model = channel.model
    return model.score(from_frame(leads, model.spec.input_fields)).probability


@pytest.mark.parametrize(
    ("name", "signal"),
    [
        ("inbound", "demo_requested"),
        ("inbound", "webinar_attended"),
        ("outbound", "meeting_booked"),
    ],
)
def test_a_buying_signal_never_lowers_a_score(
    fitted: dict[str, FittedChannel], name: str, signal: str
) -> None:
    leads = _leads(fitted[name])
    without = _probability(fitted[name], leads.assign(**{signal: False}))
    with_signal = _probability(fitted[name], leads.assign(**{signal: True}))
    assert np.all(with_signal >= without)
    assert np.mean(with_signal > without) > 0.5


def test_more_replies_never_lower_an_outbound_score(fitted: dict[str, FittedChannel]) -> None:
    leads = _leads(fitted["outbound"])
    few = _probability(fitted["outbound"], leads.assign(replies=0))
    many = _probability(fitted["outbound"], leads.assign(replies=3))
    assert np.all(many >= few)


@pytest.mark.parametrize("name", CHANNELS)
def test_lead_id_and_company_name_do_not_change_the_score(
    fitted: dict[str, FittedChannel], name: str
) -> None:
    leads = _leads(fitted[name])
    renamed = leads.assign(
        lead_id=[f"other-{i}" for i in range(len(leads))], company_name="Renamed Corp"
    )
    np.testing.assert_array_equal(
        _probability(fitted[name], leads), _probability(fitted[name], renamed)
    )
