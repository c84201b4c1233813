"""QuantileModel on small literal data: split conformal on exchangeable folds, refit on a newest-year fold."""

from __future__ import annotations

import numpy as np

from models.quantile import QuantileModel, choose_calibration_fold

NAMES = ["years_experience", "size", "work_year"]


def draw(n: int, seed: int, years: tuple[float, ...] = (2022.0,)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(0, 20, n), rng.integers(0, 3, n), rng.choice(years, n)])
    y = 11.0 + 0.03 * X[:, 0] + 0.1 * X[:, 1] + 0.04 * (X[:, 2] - 2022) + rng.normal(0, 0.25, n)
    return X, y


def fit(X: np.ndarray, y: np.ndarray) -> QuantileModel:
    fold, note = choose_calibration_fold(X[:, 2], seed=1)
    model = QuantileModel(params={"num_threads": 1}, num_boost_round=60)
    return model.fit(
        X, y, NAMES, monotone_increasing=["years_experience"], calibration=fold, calibration_note=note
    )


def test_exchangeable_fold_keeps_the_split_conformal_boosters_and_covers_nominally() -> None:
    X, y = draw(6000, seed=1)
    model = fit(X, y)
    assert model.calibration_["refit"] is False
    X_new, y_new = draw(4000, seed=2)
    q = model.predict(X_new)
    assert 0.76 <= np.mean((y_new >= q[:, 0]) & (y_new <= q[:, 4])) <= 0.84
    assert 0.46 <= np.mean((y_new >= q[:, 1]) & (y_new <= q[:, 3])) <= 0.54


def test_newest_year_fold_is_refitted_and_the_trend_carries_on() -> None:
    X, y = draw(3000, seed=3, years=(2021.0, 2022.0, 2023.0))
    model = fit(X, y)
    assert model.calibration_["refit"] is True
    assert 0.0 < model.slope_ < 0.1
    row = np.array([[5.0, 1.0, 2023.0], [5.0, 1.0, 2025.0]])
    assert np.diff(model.predict(row)[:, 2])[0] > 0
