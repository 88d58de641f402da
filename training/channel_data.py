"""A channel's labelled leads: the rows a lead-score model learns and is judged on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.labels import LABELS, lead_outcomes
from features.columns import Columns, from_frame
from features.spec import FeatureSpec


@dataclass
class ChannelData:
    channel: str
    leads: pd.DataFrame
    columns: Columns
    y: np.ndarray


def channel_data(
    leads: pd.DataFrame, opportunities: pd.DataFrame, channel: str, target: str, spec: FeatureSpec
) -> ChannelData:
    """A channel's leads with known outcomes, oldest first, and their labels."""
    if target not in LABELS:
        raise ValueError(f"target must be one of {list(LABELS)}, got {target!r}")
    return labelled_channel(leads, lead_outcomes(leads, opportunities), channel, target, spec)


def labelled_channel(
    leads: pd.DataFrame, outcomes: pd.DataFrame, channel: str, target: str, spec: FeatureSpec
) -> ChannelData:
    """`channel_data` from outcomes (`lead_id`, `resolved`, `target`) aligned with `leads`."""
    keep = (leads["channel"].to_numpy() == channel) & outcomes["resolved"].to_numpy()
    rows = leads[keep].sort_values("created_at", kind="stable").reset_index(drop=True)
    labels = outcomes[keep].set_index("lead_id").loc[rows["lead_id"], target].to_numpy()
    return ChannelData(
        channel=channel,
        leads=rows,
        columns=from_frame(rows, spec.input_fields),
        y=labels.astype(np.int8),
    )
