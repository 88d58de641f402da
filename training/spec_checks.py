"""What a channel's data can support, checked before fitting: enough outcomes, fields
that hold values, calendar features the dates can carry, and no leaking columns."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from features.spec import FeatureSpec
from training.channel_data import ChannelData
from training.leakage import LeakageReport, check_leakage
from training.splits import check_enough, make_split
from training.time_features import time_feature_plan, without_calendar
from training.training_config import NotEnoughDataError, TrainingConfig


def checked_spec(
    spec: FeatureSpec,
    data: ChannelData,
    config: TrainingConfig,
    say: Callable[[str], None],
    undecided: pd.DataFrame | None = None,
) -> tuple[FeatureSpec, list[str], LeakageReport]:
    """`spec` less what this data cannot support: fields with no values, calendar
    features the dates cannot carry (`time_feature_plan`), and columns the leakage guard
    drops. Refuses too few outcomes first."""
    channel = data.channel
    if len(data.y) == 0:  # a young store: splitting nothing by time would be an IndexError
        raise NotEnoughDataError(
            f"{channel}: 0 converted and 0 other leads, every outcome still undecided; at "
            f"least {config.min_positives} of each are needed in each period for a "
            "trustworthy model"
        )
    split = make_split(data, config)
    check_enough(data.y, split, channel, config.min_positives)
    spec, unused = _without_empty_fields(spec, data)
    if unused:
        say(f"{channel}: no values for {', '.join(unused)}; not used")
    learning = data.leads.iloc[split.earlier]
    dropped, time_notes = time_feature_plan(learning["created_at"], config)
    spec = without_calendar(spec, dropped)
    for note in time_notes:
        say(f"{channel}: {note}")
    leakage = check_leakage(
        learning,
        data.y[split.earlier],
        spec.input_fields,
        keep=config.keep_columns,
        max_auc=config.leakage_auc,
        seed=config.seed,
        undecided=undecided,
        held_out=data.leads.iloc[split.validation],
        dates=config.dated,
    )
    for check in leakage.suspicious:
        verdict = "DROPPED" if check.decision == "dropped" else "kept (--keep-column)"
        say(f"{channel}: leakage guard: {check.column} {verdict}: {check.reason}")
    return spec.without(leakage.dropped), unused, leakage


def _without_empty_fields(spec: FeatureSpec, data: ChannelData) -> tuple[FeatureSpec, list[str]]:
    """Drop features whose fields never hold a value here (an export has few of the contract's)."""
    empty = [
        name
        for name, values in data.columns.items()
        if name != "created_at" and _all_missing(values)
    ]
    return (spec.without(empty), empty) if empty else (spec, [])


def _all_missing(values: np.ndarray) -> bool:
    if values.dtype == object:
        return bool(all(v is None for v in values))
    if values.dtype.kind == "M":
        return bool(np.isnat(values).all())
    return bool(np.isnan(values).all())
