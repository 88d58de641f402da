"""One lead through a LightGBM booster without the Python wrapper's per-call set-up.

`Booster.predict` on one row spends most of its time in Python: it checks and
converts the input, builds a predictor, allocates the output. LightGBM's C API
has a path made for online serving, `LGBM_BoosterPredictForMatSingleRowFast`:
the configuration is prepared once, and each call only hands over a pointer to
the row. The numbers are LightGBM's own (the same trees walked by the same C++
code), which `tests/models/test_single_row.py` checks value by value against
`Booster.predict` on raw scores and on contributions.

The prepared configuration holds a scratch buffer, so it is per thread.
Anything unexpected in the library (an older build without the fast API)
makes `SingleRowPredictor.for_booster` return None, and scoring keeps using
`Booster.predict`.
"""

from __future__ import annotations

import ctypes
import threading
import weakref
from functools import cache
from typing import Any, Final

import numpy as np

_PREDICT_RAW_SCORE: Final = 1
_PREDICT_CONTRIB: Final = 3
_DTYPE_FLOAT64: Final = 1


@cache
def _library() -> Any:
    try:
        from lightgbm import basic

        # The library LightGBM loaded, opened again as a PyDLL: its calls keep the GIL.
        # A call takes microseconds; releasing the GIL for it would let any other
        # thread (the history writer, the alias watcher) hold the request up for
        # a whole switch interval.
        lib = ctypes.PyDLL(basic._LIB._name)  # type: ignore[attr-defined]
        lib.LGBM_BoosterPredictForMatSingleRowFastInit  # noqa: B018 - present in this build?
        lib.LGBM_BoosterPredictForMatSingleRowFast  # noqa: B018
        lib.LGBM_FastConfigFree  # noqa: B018
        lib.LGBM_BoosterPredictForMat  # noqa: B018
    except (ImportError, AttributeError, OSError):
        return None
    return lib


class _Prepared:
    """One thread's prepared configuration and output buffer for one kind of prediction."""

    def __init__(self, lib: Any, handle: ctypes.c_void_p, kind: int, features: int) -> None:
        self.config = ctypes.c_void_p()
        status = lib.LGBM_BoosterPredictForMatSingleRowFastInit(
            handle,
            ctypes.c_int(kind),
            ctypes.c_int(0),  # start iteration
            ctypes.c_int(-1),  # all iterations (the booster keeps only its best)
            ctypes.c_int(_DTYPE_FLOAT64),
            ctypes.c_int32(features),
            ctypes.c_char_p(b"num_threads=1"),
            ctypes.byref(self.config),
        )
        if status != 0:
            raise RuntimeError(lib.LGBM_GetLastError().decode())
        size = features + 1 if kind == _PREDICT_CONTRIB else 1
        self.out = np.empty(size, dtype=np.float64)
        self.out_pointer = self.out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self.out_length = ctypes.c_int64()
        self._finalizer = weakref.finalize(self, lib.LGBM_FastConfigFree, self.config)


class SingleRowPredictor:
    """Raw score and contributions of one row, equal to `Booster.predict` on it."""

    def __init__(self, lib: Any, booster: Any) -> None:
        self._lib = lib
        self._booster = booster  # keeps the C booster alive as long as this predictor
        self._handle = booster._handle
        self.features = int(booster.num_feature())
        self._local = threading.local()
        self._predict = lib.LGBM_BoosterPredictForMatSingleRowFast

    @classmethod
    def for_booster(cls, booster: Any) -> SingleRowPredictor | None:
        """A predictor for a LightGBM booster, or None where the fast path is unavailable."""
        lib = _library()
        if lib is None or getattr(booster, "_handle", None) is None:
            return None
        try:
            predictor = cls(lib, booster)
            predictor._prepared(_PREDICT_RAW_SCORE)
        except (RuntimeError, AttributeError, TypeError):
            return None
        return predictor

    def _prepared(self, kind: int) -> _Prepared:
        prepared: _Prepared | None = getattr(self._local, f"kind{kind}", None)
        if prepared is None:
            prepared = _Prepared(self._lib, self._handle, kind, self.features)
            setattr(self._local, f"kind{kind}", prepared)
        return prepared

    def _run(self, row: np.ndarray, kind: int) -> np.ndarray:
        if row.dtype != np.float64 or row.size != self.features or not row.flags.c_contiguous:
            raise ValueError(f"a row is {self.features} contiguous float64 values, got {row!r}")
        prepared = self._prepared(kind)
        status = self._predict(
            prepared.config,
            ctypes.c_void_p(row.ctypes.data),
            ctypes.byref(prepared.out_length),
            prepared.out_pointer,
        )
        if status != 0:
            raise RuntimeError(self._lib.LGBM_GetLastError().decode())
        return prepared.out

    def raw_score(self, row: np.ndarray) -> float:
        """Log-odds of one row (`Booster.predict(raw_score=True)`)."""
        return float(self._run(row, _PREDICT_RAW_SCORE)[0])

    def contributions(self, row: np.ndarray) -> np.ndarray:
        """SHAP contributions of one row and the bias last (`pred_contrib=True`), a copy."""
        return self._run(row, _PREDICT_CONTRIB).copy()

    def contributions_of_rows(self, rows: np.ndarray, trees: slice) -> np.ndarray:
        """SHAP contributions of many rows by the iterations `trees` alone (step 1), in one
        call of LightGBM's matrix API on one thread: how the SHAP table asks each tree."""
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != self.features:
            raise ValueError(f"rows are (n, {self.features}) float64 values, got {rows.shape}")
        out = np.empty((len(rows), self.features + 1), dtype=np.float64)
        length = ctypes.c_int64()
        start, stop = trees.start or 0, trees.stop
        status = self._lib.LGBM_BoosterPredictForMat(
            self._handle,
            ctypes.c_void_p(rows.ctypes.data),
            ctypes.c_int(_DTYPE_FLOAT64),
            ctypes.c_int32(len(rows)),
            ctypes.c_int32(self.features),
            ctypes.c_int(1),  # row major
            ctypes.c_int(_PREDICT_CONTRIB),
            ctypes.c_int(start),
            ctypes.c_int(-1 if stop is None else stop - start),
            ctypes.c_char_p(b"num_threads=1"),
            ctypes.byref(length),
            out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        )
        if status != 0:
            raise RuntimeError(self._lib.LGBM_GetLastError().decode())
        return out
