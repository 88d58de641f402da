"""Figures of training.plots: the right lines and bars, and they render to PNG."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from training.plots import calibration_figure, gains_figure, importance_figure


@pytest.fixture
def outcomes() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(11)
    probability = rng.beta(1, 6, 2_000)
    y = (rng.random(2_000) < probability).astype(np.int64)
    return y, {"lightgbm": probability, "baseline": np.full(2_000, y.mean())}


def legend_labels(axes: Axes) -> list[str]:
    legend = axes.get_legend()
    assert legend is not None
    return [text.get_text() for text in legend.get_texts()]


def test_calibration_figure_has_a_line_per_model_and_the_diagonal(outcomes):
    y, predictions = outcomes
    axes = calibration_figure(y, predictions).axes[0]

    assert len(axes.lines) == 3
    assert legend_labels(axes) == [
        "lightgbm",
        "baseline",
        "perfectly calibrated",
    ]
    assert axes.get_title() == "Calibration"
    assert axes.get_xlabel()
    assert axes.get_ylabel()


def test_gains_figure_has_a_curve_per_model_and_the_random_line(outcomes):
    y, predictions = outcomes
    axes = gains_figure(y, predictions, title="Holdout gains").axes[0]

    assert len(axes.lines) == 3
    labels = legend_labels(axes)
    assert labels[0].startswith("lightgbm")
    assert labels[-1] == "random"
    assert axes.get_title() == "Holdout gains"


def test_importance_figure_shows_the_top_features_largest_first():
    names = [f"feature_{i}" for i in range(30)]
    importance = np.arange(30, dtype=np.float64)  # feature_29 is the most important

    axes = importance_figure(names, importance, top=20).axes[0]

    assert len(axes.patches) == 20
    assert axes.yaxis_inverted()  # so the first bar, the largest, is drawn at the top
    assert axes.get_yticklabels()[0].get_text() == "feature_29"
    assert axes.get_yticklabels()[-1].get_text() == "feature_10"


def test_importance_figure_with_fewer_features_than_top():
    axes = importance_figure(["a", "b"], np.array([1.0, 3.0])).axes[0]
    assert len(axes.patches) == 2


@pytest.mark.parametrize(
    "build",
    [
        lambda y, predictions: calibration_figure(y, predictions),
        lambda y, predictions: gains_figure(y, predictions),
        lambda y, predictions: importance_figure(["a", "b", "c"], np.array([0.2, 0.5, 0.3])),
    ],
    ids=["calibration", "gains", "importance"],
)
def test_figures_save_to_png(outcomes, tmp_path, build: Callable[..., Figure]):
    figure = build(*outcomes)
    path = tmp_path / "figure.png"

    figure.savefig(path)

    assert isinstance(figure, Figure)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5_000


def test_figures_reject_empty_predictions(outcomes):
    with pytest.raises(ValueError, match="predictions is empty"):
        calibration_figure(outcomes[0], {})
    with pytest.raises(ValueError, match="predictions is empty"):
        gains_figure(outcomes[0], {})


def test_importance_figure_rejects_mismatched_names():
    with pytest.raises(ValueError, match="length mismatch"):
        importance_figure(["a", "b"], np.array([1.0]))
