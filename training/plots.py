"""Evaluation figures, logged as MLflow artifacts when models are trained and compared.

Figures are plain `matplotlib.figure.Figure` objects on an Agg canvas, never pyplot: no
global figure state, safe to build from several threads, and no display needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from training.evaluation_metrics import calibration_table, cumulative_gains


def _new_figure(title: str, height: float = 5.0) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(6.5, height), layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself: savefig and canvas.draw work without pyplot
    axes = figure.add_subplot()
    axes.set_title(title)
    return figure, axes


def _require_models(predictions: Mapping[str, npt.ArrayLike]) -> None:
    if not predictions:
        raise ValueError("predictions is empty: pass at least one {model name: probabilities}")


def calibration_figure(
    y_true: npt.ArrayLike,
    predictions: Mapping[str, npt.ArrayLike],
    title: str = "Calibration",
    n_bins: int = 10,
) -> Figure:
    """Reliability diagram: observed positive rate against mean predicted probability.

    One line per model over the same equal-frequency bins as `ece`. The axes stop a little
    above the largest value rather than at 1, since lead scores are mostly small.
    """
    _require_models(predictions)
    figure, axes = _new_figure(title)
    upper = 0.0
    for name, probability in predictions.items():
        table = calibration_table(y_true, probability, n_bins)
        axes.plot(table["mean_predicted"], table["observed_rate"], marker="o", label=name)
        upper = max(upper, table["mean_predicted"].max(), table["observed_rate"].max())
    upper = min(1.0, 1.05 * upper) or 1.0
    axes.plot([0, upper], [0, upper], linestyle="--", color="grey", label="perfectly calibrated")
    axes.set_xlim(0, upper)
    axes.set_ylim(0, upper)
    axes.set_xlabel("Mean predicted probability")
    axes.set_ylabel("Observed positive rate")
    axes.legend(loc="upper left")
    return figure


def gains_figure(
    y_true: npt.ArrayLike,
    predictions: Mapping[str, npt.ArrayLike],
    title: str = "Cumulative gains",
) -> Figure:
    """Share of all positives reached when contacting the best-scored leads first.

    The legend gives each model's share at 10% contacted (`gains_top_decile`).
    """
    _require_models(predictions)
    figure, axes = _new_figure(title)
    for name, probability in predictions.items():
        contacted, captured = cumulative_gains(y_true, probability)
        at_decile = captured[-(-(len(contacted) - 1) // 10)]
        axes.plot(contacted, captured, label=f"{name} (top 10%: {at_decile:.0%})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("Share of leads contacted, best scores first")
    axes.set_ylabel("Share of positives captured")
    axes.legend(loc="lower right")
    return figure


def importance_figure(
    names: Sequence[str],
    importance: npt.ArrayLike,
    top: int = 20,
    title: str = "Feature importance",
) -> Figure:
    """Horizontal bars of the `top` most important features, largest on top."""
    values = np.asarray(importance, dtype=np.float64)
    if values.ndim != 1 or len(values) != len(names):
        raise ValueError(
            f"length mismatch: {len(names)} names but importance has shape {values.shape}"
        )
    if len(names) == 0:
        raise ValueError("no features: names and importance are empty")
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    order = np.argsort(-values, kind="stable")[:top]
    figure, axes = _new_figure(title, height=max(3.0, 1.2 + 0.3 * len(order)))
    positions = np.arange(len(order))
    axes.barh(positions, values[order])
    axes.set_yticks(positions, labels=[names[i] for i in order])
    axes.invert_yaxis()  # bar 0 (the largest) at the top
    axes.set_xlabel("Importance")
    return figure
