"""Baselines that slot in where QuantileModel does, so a SalaryModel wraps them with the same interface.

Each takes the JobFeatures matrix and returns log-salary quantiles, so a baseline bundle predicts from
records, saves, loads, logs to MLflow and goes through the evaluation loop exactly like LightGBM.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import Ridge
from sklearn.preprocessing import OneHotEncoder

from models.quantile import QUANTILES

GROUP_COLUMNS: tuple[tuple[str, ...], ...] = (
    ("role", "seniority_rank", "country"),
    ("role", "seniority_rank"),
    ("role",),
    (),
)
ONE_HOT_EXTRA = ("seniority_rank", "company_size_rank")
NUMERIC_INPUTS = ("years_experience", "work_year", "remote", "remote_ratio")


class Baseline:
    """Shared fit signature with QuantileModel; subclasses learn from the feature matrix."""

    kind = "baseline"

    def __init__(self, quantiles: Sequence[float] = QUANTILES) -> None:
        self.quantiles = tuple(quantiles)

    def fit(
        self,
        X: np.ndarray,
        y_log: np.ndarray,
        feature_names: Sequence[str],
        categorical_features: Sequence[str] = (),
        **_: Any,
    ) -> Baseline:
        """Check shapes, remember the columns, and learn."""
        if X.shape[0] != len(y_log) or not len(y_log):
            raise ValueError(f"X has {X.shape[0]} rows but y has {len(y_log)}; expected equal and > 0")
        self.feature_names_ = list(feature_names)
        self.categorical_ = [c for c in categorical_features if c in self.feature_names_]
        self._learn(X, y_log)
        return self

    def _learn(self, X: np.ndarray, y_log: np.ndarray) -> None:
        raise NotImplementedError

    def predict(self, X: np.ndarray, num_threads: int | None = None) -> np.ndarray:
        """Log-salary quantiles, one column per quantile."""
        raise NotImplementedError

    def _columns(self, names: Sequence[str]) -> list[int]:
        return [self.feature_names_.index(n) for n in names if n in self.feature_names_]


class GlobalMedian(Baseline):
    """The training quantiles for everyone: the floor any model must clear."""

    kind = "global_median"

    def _learn(self, X: np.ndarray, y_log: np.ndarray) -> None:
        self.values_ = np.quantile(y_log, self.quantiles)

    def predict(self, X: np.ndarray, num_threads: int | None = None) -> np.ndarray:
        """The same quantiles for every row."""
        return np.tile(self.values_, (len(X), 1))


class GroupMedian(Baseline):
    """Quantiles of role × seniority × country, falling back to coarser groups when one is sparse."""

    kind = "group_median"

    def __init__(self, quantiles: Sequence[float] = QUANTILES, min_rows: int = 20) -> None:
        super().__init__(quantiles)
        self.min_rows = min_rows

    def _keys(self, X: np.ndarray, names: Sequence[str]) -> list[tuple[float, ...]]:
        sub = np.nan_to_num(X[:, self._columns(names)], nan=-1.0)
        return [tuple(row) for row in sub.tolist()]

    def _learn(self, X: np.ndarray, y_log: np.ndarray) -> None:
        self.tables_: list[dict[tuple[float, ...], np.ndarray]] = []
        for level in GROUP_COLUMNS:
            members: dict[tuple[float, ...], list[int]] = {}
            for i, key in enumerate(self._keys(X, level)):
                members.setdefault(key, []).append(i)
            self.tables_.append(
                {
                    key: np.quantile(y_log[idx], self.quantiles)
                    for key, idx in members.items()
                    if len(idx) >= self.min_rows or not level
                }
            )

    def predict(self, X: np.ndarray, num_threads: int | None = None) -> np.ndarray:
        """The quantiles of the finest group with at least `min_rows` training rows."""
        out = np.empty((len(X), len(self.quantiles)))
        found = np.zeros(len(X), dtype=bool)
        for level, table in zip(GROUP_COLUMNS, self.tables_, strict=True):
            for i, key in enumerate(self._keys(X, level)):
                if not found[i] and key in table:
                    out[i], found[i] = table[key], True
        return out


class RidgeBaseline(Baseline):
    """Ridge regression of log salary on one-hot categories and the binary and numeric columns."""

    kind = "ridge"

    def __init__(self, quantiles: Sequence[float] = QUANTILES, alpha: float = 1.0) -> None:
        super().__init__(quantiles)
        self.alpha = alpha

    def _design(self, X: np.ndarray) -> sp.csr_matrix:
        cats = np.nan_to_num(X[:, self.one_hot_columns_], nan=-1.0)
        numeric = X[:, self.numeric_columns_]
        missing = np.isnan(numeric).astype(float)
        filled = np.where(np.isnan(numeric), self.numeric_fill_, numeric)
        scaled = (filled - self.numeric_fill_) / self.numeric_scale_
        rest = np.nan_to_num(X[:, self.binary_columns_], nan=0.0)
        return sp.hstack(
            [self.encoder_.transform(cats), sp.csr_matrix(np.hstack([scaled, missing])), sp.csr_matrix(rest)]
        ).tocsr()

    def _learn(self, X: np.ndarray, y_log: np.ndarray) -> None:
        self.one_hot_columns_ = self._columns([*self.categorical_, *ONE_HOT_EXTRA])
        self.numeric_columns_ = self._columns(NUMERIC_INPUTS)
        taken = {*self.one_hot_columns_, *self.numeric_columns_}
        self.binary_columns_ = [i for i in range(X.shape[1]) if i not in taken]
        numeric = X[:, self.numeric_columns_]
        with warnings.catch_warnings():  # an all-missing column is expected (e.g. no remote ratio)
            warnings.simplefilter("ignore", RuntimeWarning)
            self.numeric_fill_ = np.nan_to_num(np.nanmedian(numeric, axis=0), nan=0.0)
            self.numeric_scale_ = np.nan_to_num(np.nanstd(numeric, axis=0), nan=1.0) + 1e-9
        self.encoder_ = OneHotEncoder(handle_unknown="ignore").fit(
            np.nan_to_num(X[:, self.one_hot_columns_], nan=-1.0)
        )
        design = self._design(X)
        self.ridge_ = Ridge(alpha=self.alpha).fit(design, y_log)
        self.residual_quantiles_ = np.quantile(y_log - self.ridge_.predict(design), self.quantiles)

    def predict(self, X: np.ndarray, num_threads: int | None = None) -> np.ndarray:
        """Ridge prediction plus the training residual quantiles."""
        return np.asarray(self.ridge_.predict(self._design(X)))[:, None] + self.residual_quantiles_[None, :]


BASELINES: dict[str, type[Baseline]] = {cls.kind: cls for cls in (GlobalMedian, GroupMedian, RidgeBaseline)}
