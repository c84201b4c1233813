"""One booster's SHAP contributions for one row, through LightGBM's public `Booster.predict`.

Plain one-row predictions use the packed trees (models/forest.py); this is the drivers' path.
"""

from __future__ import annotations

import threading

import lightgbm as lgb
import numpy as np


class RowContributions:
    """One booster's SHAP contributions for one float64 row, safe to call from many threads."""

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster = booster
        self.ncol = booster.num_feature()
        self.width = self.ncol + 1  # one per feature, then the expected value
        # pred_contrib is not safe under concurrent calls on one booster (LightGBM #5482).
        self._lock = threading.Lock()

    def __call__(self, row: np.ndarray) -> np.ndarray:
        """Contributions (shape (ncol + 1,), the expected value last) for one row of `ncol` values."""
        data = np.asarray(row, dtype=np.float64)
        if data.shape != (self.ncol,):
            raise ValueError(f"expected one row of {self.ncol} features, got shape {data.shape}")
        with self._lock:
            out = self.booster.predict(data[None, :], pred_contrib=True, num_threads=1)
        values = np.asarray(out, dtype=np.float64).reshape(-1)
        if values.shape != (self.width,):
            raise RuntimeError(f"LightGBM gave {values.shape[0]} contributions, expected {self.width}")
        return values
