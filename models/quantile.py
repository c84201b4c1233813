"""LightGBM quantile boosters on log salary, one per quantile, with non-crossing predictions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np

QUANTILES: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)
DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.9,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "cat_smooth": 10.0,
    "max_cat_to_onehot": 8,
    "verbose": -1,
    "seed": 42,
    "deterministic": True,
}


class QuantileModel:
    """One booster per quantile on log salary; predictions are sorted per row so they never cross."""

    def __init__(
        self,
        quantiles: Sequence[float] = QUANTILES,
        params: dict[str, Any] | None = None,
        num_boost_round: int = 400,
    ) -> None:
        self.quantiles = tuple(quantiles)
        self.params = params
        self.num_boost_round = num_boost_round

    def fit(
        self,
        X: np.ndarray,
        y_log: np.ndarray,
        feature_names: Sequence[str],
        categorical_features: Sequence[str] = (),
        monotone_increasing: Sequence[str] = (),
    ) -> QuantileModel:
        """Train the boosters (LightGBM rejects monotone constraints with the quantile objective)."""
        if X.shape[0] != len(y_log):
            raise ValueError(f"X has {X.shape[0]} rows but y has {len(y_log)}")
        if 0.5 not in self.quantiles:
            raise ValueError(f"quantiles must include 0.5, got {self.quantiles}")
        names = list(feature_names)
        self.feature_names_ = names
        base = {**DEFAULT_PARAMS, **(self.params or {})}
        self.boosters_: dict[float, lgb.Booster] = {}
        for q in self.quantiles:
            params = {**base, "objective": "quantile", "alpha": q}
            data = lgb.Dataset(
                X,
                label=y_log,
                feature_name=names,
                categorical_feature=[c for c in categorical_features if c in names],
                free_raw_data=False,
            )
            self.boosters_[q] = lgb.train(params, data, num_boost_round=self.num_boost_round)
        return self

    def predict(self, X: np.ndarray, num_threads: int | None = None) -> np.ndarray:
        """Log-salary quantiles, one column per quantile, sorted along each row."""
        if num_threads:
            cols = [self.boosters_[q].predict(X, num_threads=num_threads) for q in self.quantiles]
        else:
            cols = [self.boosters_[q].predict(X) for q in self.quantiles]
        return np.sort(np.column_stack(cols), axis=1)
