"""Small vectorised helpers every step of the generator shares."""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function; every hidden probability is one of log-odds."""
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def ids(prefix: str, numbers: np.ndarray, width: int = 7) -> np.ndarray:
    """Ids like L0000042, vectorised (and fine with no rows)."""
    if numbers.size == 0:
        return np.array([], dtype=object)
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width))
