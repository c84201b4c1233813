"""LightGBM's single-row fast path for contributions: one prepared C config per booster.

`Booster.predict(pred_contrib=True)` spends part of a one-row call in Python (input checks, array
conversion, a new predictor); LightGBM's C API has a path for exactly this case
(`LGBM_BoosterPredictForMatSingleRowFast`), which the Python package does not wrap. The results are
the same numbers: tests compare both. Plain one-row predictions use the packed trees (models/forest.py).
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _LIB, _c_str, _safe_call

PREDICT_CONTRIB = 3  # C_API_PREDICT_CONTRIB: SHAP values, one per feature plus the expected value
DTYPE_FLOAT64 = 1  # C_API_DTYPE_FLOAT64


class RowContributions:
    """One booster's SHAP contributions for one float64 row, safe to call from many threads."""

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster = booster
        self.ncol = booster.num_feature()
        self.width = self.ncol + 1  # one per feature, then the expected value
        # The prepared config keeps one scratch buffer; concurrent calls on it would race (LightGBM #5482).
        self._lock = threading.Lock()
        self._handle: ctypes.c_void_p | None = None

    def _prepare(self) -> ctypes.c_void_p:
        handle = ctypes.c_void_p()
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                self.booster._handle,
                ctypes.c_int(PREDICT_CONTRIB),
                ctypes.c_int(0),  # start iteration
                ctypes.c_int(-1),  # all iterations
                ctypes.c_int(DTYPE_FLOAT64),
                ctypes.c_int32(self.ncol),
                _c_str("num_threads=1"),
                ctypes.byref(handle),
            )
        )
        return handle

    def __call__(self, row: np.ndarray) -> np.ndarray:
        """Contributions (shape (ncol + 1,), the expected value last) for one row of `ncol` values."""
        data = np.ascontiguousarray(row, dtype=np.float64)
        if data.shape != (self.ncol,):
            raise ValueError(f"expected one row of {self.ncol} features, got shape {data.shape}")
        out = np.empty(self.width, dtype=np.float64)
        written = ctypes.c_int64()
        with self._lock:
            if self._handle is None:
                self._handle = self._prepare()
            _safe_call(
                _LIB.LGBM_BoosterPredictForMatSingleRowFast(
                    self._handle,
                    data.ctypes.data_as(ctypes.c_void_p),
                    ctypes.byref(written),
                    out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                )
            )
        if written.value != self.width:
            raise RuntimeError(f"LightGBM wrote {written.value} values, expected {self.width}")
        return out

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and _LIB is not None:
            _LIB.LGBM_FastConfigFree(handle)

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("RowContributions holds a C handle; rebuild it from the booster instead of pickling")
