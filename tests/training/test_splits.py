"""Splits are temporal only when the latest year is a fair share, and digests identify eval sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.sources.base import TARGET
from training.splits import calibration_fold, frame_digest, hold_out, split_frame


def _years(counts: dict[int, int]) -> pd.DataFrame:
    years = [y for y, n in counts.items() for _ in range(n)]
    return pd.DataFrame({"title": "Dev", "work_year": years, TARGET: range(len(years))})


def test_temporal_split_evaluates_on_the_latest_year() -> None:
    split = split_frame(_years({2022: 30, 2023: 50, 2024: 20}))
    assert split.kind == "temporal"
    assert set(split.evaluation["work_year"]) == {2024}
    assert set(split.train["work_year"]) == {2022, 2023}


def test_a_few_stray_later_years_fall_back_to_random() -> None:
    split = split_frame(_years({2021: 970, 2022: 20, 2023: 10}), seed=3)
    assert split.kind == "random"
    assert "1.0%" in split.description
    assert 120 < len(split.evaluation) < 280


def test_single_year_and_forced_random_are_seeded_and_reproducible() -> None:
    frame = _years({2021: 200})
    a, b = split_frame(frame, seed=5), split_frame(frame, seed=5)
    assert a.kind == "random" and a.digest == b.digest
    assert split_frame(frame, seed=6).digest != a.digest
    forced = split_frame(_years({2022: 50, 2023: 50}), temporal=False)
    assert forced.kind == "random" and "requested" in forced.description


def test_digest_ignores_column_order_and_sees_content() -> None:
    frame = _years({2021: 5})
    assert frame_digest(frame) == frame_digest(frame[list(reversed(frame.columns))])
    assert frame_digest(frame) != frame_digest(frame.assign(title="Analyst"))


def test_bad_test_size_is_refused() -> None:
    with pytest.raises(ValueError, match="test_size"):
        split_frame(_years({2021: 10}), test_size=1.5)


def test_calibration_fold_is_the_latest_year_when_it_is_a_fair_share() -> None:
    years = np.array([2022.0] * 700 + [2023.0] * 300)
    fold = calibration_fold(years, seed=42)
    assert fold.temporal and fold.mask.sum() == 300 and np.all(years[fold.mask] == 2023)
    assert "2023" in fold.description


def test_calibration_fold_is_a_seeded_sample_when_the_newest_year_is_not_a_fair_share() -> None:
    one_year = np.full(1000, 2021.0)
    fold = calibration_fold(one_year, seed=3)
    assert not fold.temporal and 100 < fold.mask.sum() < 300 and "seeded" in fold.description
    np.testing.assert_array_equal(fold.mask, calibration_fold(one_year, seed=3).mask)
    too_big = np.array([2022.0] * 50 + [2023.0] * 950)  # 95% > 90%
    too_few = np.array([2022.0] * 1000 + [2023.0] * 150)  # 13% of rows but 150 < 200
    assert "> 90%" in calibration_fold(too_big, seed=3).description
    assert "150 rows" in calibration_fold(too_few, seed=3).description
    # The evaluation split takes the same rule with its own bounds: no upper share, no row minimum.
    assert hold_out(too_big, fraction=0.2, seed=3, purpose="evaluation").temporal


def test_calibration_fold_and_evaluation_split_draw_from_independent_streams() -> None:
    frame = _years({2021: 5000})
    split = split_frame(frame, seed=7)
    evaluated = np.random.default_rng(7).random(len(frame)) < 0.2
    # The evaluation set is what `default_rng(seed)` always picked, so digests of old runs still match.
    assert split.digest == frame_digest(frame.loc[evaluated].reset_index(drop=True))
    fold = calibration_fold(split.train["work_year"].to_numpy(dtype=float), seed=7).mask
    # One shared stream put training row j in the fold exactly when row j of the frame was evaluated.
    same = float(np.mean(fold == evaluated[: len(fold)]))
    assert 0.64 < same < 0.72  # independent draws of 20% agree on 0.2^2 + 0.8^2 = 68% of rows
