"""Splits are temporal only when the latest year is a fair share, and digests identify eval sets."""

from __future__ import annotations

import pandas as pd
import pytest

from training.sources.base import TARGET
from training.splits import frame_digest, split_frame


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
