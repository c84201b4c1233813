"""QuantileModel on small literal data: center refit on a random fold, full refit on a newest-year fold."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from models.quantile import QuantileModel
from training.splits import calibration_fold

NAMES = ["years_experience", "size", "work_year"]


def draw(n: int, seed: int, years: tuple[float, ...] = (2022.0,)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(0, 20, n), rng.integers(0, 3, n), rng.choice(years, n)])
    y = 11.0 + 0.03 * X[:, 0] + 0.1 * X[:, 1] + 0.04 * (X[:, 2] - 2022) + rng.normal(0, 0.25, n)
    return X, y


def fit(X: np.ndarray, y: np.ndarray, **params: object) -> QuantileModel:
    fold = calibration_fold(X[:, 2], seed=1)
    model = QuantileModel(params={"num_threads": 1, **params}, num_boost_round=60)
    return model.fit(
        X, y, NAMES, monotone_increasing=["years_experience"], calibration=fold.mask,
        calibration_note=fold.description,
    )


def rows_seen(booster: lgb.Booster) -> int:
    """Rows under the first tree's root: all training rows when bagging is off."""
    return int(booster.dump_model()["tree_info"][0]["tree_structure"]["internal_count"])


def test_exchangeable_fold_refits_only_the_center_and_covers_nominally() -> None:
    X, y = draw(6000, seed=1)
    model = fit(X, y)
    assert model.calibration_["refit"] == "center"
    X_new, y_new = draw(4000, seed=2)
    q = model.predict(X_new)
    assert 0.76 <= np.mean((y_new >= q[:, 0]) & (y_new <= q[:, 4])) <= 0.84
    assert 0.46 <= np.mean((y_new >= q[:, 1]) & (y_new <= q[:, 3])) <= 0.54


def test_newest_year_fold_is_refitted_and_the_trend_carries_on() -> None:
    X, y = draw(3000, seed=3, years=(2021.0, 2022.0, 2023.0))
    model = fit(X, y)
    assert model.calibration_["refit"] == "all"
    assert 0.0 < model.slope_ < 0.1
    row = np.array([[5.0, 1.0, 2023.0], [5.0, 1.0, 2025.0]])
    assert np.diff(model.predict(row)[:, 2])[0] > 0


def test_exchangeable_fold_center_sees_every_row_and_the_residual_boosters_the_split() -> None:
    X, y = draw(3000, seed=4)
    model = fit(X, y, bagging_fraction=1.0)
    fold = calibration_fold(X[:, 2], seed=1).mask
    assert rows_seen(model.center_) == len(y)
    assert all(rows_seen(b) == int((~fold).sum()) for b in model.boosters_.values())
    assert model.shifts_[0.5] == 0.0


def test_newest_year_fold_refits_every_booster_on_every_row() -> None:
    X, y = draw(3000, seed=5, years=(2021.0, 2022.0, 2023.0))
    model = fit(X, y, bagging_fraction=1.0)
    assert rows_seen(model.center_) == len(y)
    assert all(rows_seen(b) == len(y) for b in model.boosters_.values())


def test_center_refit_keeps_quantiles_ordered_and_monotone_in_experience() -> None:
    X, y = draw(4000, seed=6)
    model = fit(X, y)
    grid = np.linspace(0, 30, 61)
    for size in (0.0, 1.0, 2.0):
        rows = np.column_stack([grid, np.full_like(grid, size), np.full_like(grid, 2022.0)])
        q = model.predict(rows)
        assert (np.diff(q, axis=1) >= 0).all()
        assert (np.diff(q, axis=0) >= -1e-12).all()
        one = np.vstack([model.predict(rows[i : i + 1]) for i in (0, 30, 60)])
        np.testing.assert_allclose(one, q[[0, 30, 60]], atol=1e-9)


def test_newest_year_miss_of_the_center_does_not_move_the_range_off_p50() -> None:
    # 2023 jumps 0.3 above the 2021-2022 line: the split center misses the fold by about that much.
    X, y = draw(4000, seed=7, years=(2021.0, 2022.0, 2023.0))
    y = y + 0.3 * (X[:, 2] == 2023.0)
    model = fit(X, y)
    assert model.calibration_["refit"] == "all"
    assert 0.2 < model.calibration_["center_offset"] < 0.4
    q = model.predict(np.column_stack([np.full(50, 10.0), np.arange(50) % 3, np.full(50, 2023.0)]))
    below, above = q[:, 2] - q[:, 0], q[:, 4] - q[:, 2]
    # Normal noise of sd 0.25: P50 to P10 and P50 to P90 are both about 1.28 sd on the fold.
    np.testing.assert_allclose(below.mean(), above.mean(), rtol=0.25)
    assert 0.2 < below.mean() < 0.45


def test_a_refit_that_learns_a_narrower_newest_year_does_not_narrow_the_range_twice() -> None:
    # Older years are a wide mix; the newest year is narrow. The shifts, measured around boosters fitted
    # without the newest year, narrow their range to it; the refitted boosters learn the narrow year
    # too. Counted twice here, the shifts crossed the quantiles and every range shrank to a point.
    X, _ = draw(6000, seed=8, years=(2021.0, 2022.0, 2023.0))
    rng = np.random.default_rng(8)
    sd = np.where(X[:, 2] == 2023.0, 0.15, 0.45)
    y = 11.0 + 0.03 * X[:, 0] + 0.1 * X[:, 1] + rng.normal(0, 1, len(X)) * sd
    model = fit(X, y)
    assert model.calibration_["refit"] == "all"
    assert model.calibration_["widened_patterns"] >= 1
    X_new, _ = draw(4000, seed=9, years=(2024.0,))
    y_new = 11.0 + 0.03 * X_new[:, 0] + 0.1 * X_new[:, 1] + rng.normal(0, 0.15, len(X_new))
    q = model.predict(X_new)
    assert 0.76 <= np.mean((y_new >= q[:, 0]) & (y_new <= q[:, 4])) <= 0.90


def test_keeping_the_width_only_ever_widens_a_pattern() -> None:
    X, y = draw(3000, seed=10, years=(2021.0, 2022.0, 2023.0))
    model = fit(X, y)
    before = model.pattern_shifts_.copy()
    keys = np.repeat([0, 1], 200)
    narrower = np.tile([-0.3, -0.2, 0.0, 0.2, 0.3], (400, 1))  # the split's spread on the fold
    refitted = narrower.copy()
    refitted[:200] *= 0.5  # pattern 0: the refit narrowed it by half
    refitted[200:] *= 2.0  # pattern 1: the refit widened it
    model.keep_width(narrower, refitted, keys)
    np.testing.assert_allclose(model.pattern_shifts_[0] - before[0], [-0.15, -0.1, 0.0, 0.1, 0.15])
    np.testing.assert_allclose(model.pattern_shifts_[1], before[1])
    assert model.calibration_["widened_patterns"] >= 1
