"""The H-1B adapter uses the offered wage when present and says when it falls back to a floor."""

from __future__ import annotations

import pytest
from data_files import FIXTURES, shared_data_file

from training.sources import get_source
from training.sources.base import TARGET


def test_prevailing_wage_layout_is_flagged_as_a_floor() -> None:
    result = get_source("h1b").read(FIXTURES / "h1b.csv")
    assert result.rejected == {"duplicate_case_number": 1, "unparseable_salary": 1}
    assert any("not the wage offered" in note for note in result.notes)
    frame = result.frame
    assert frame[TARGET].tolist() == [95_000, 61_000]
    assert frame["employment_type"].tolist() == ["full_time", "part_time"]
    assert frame.loc[0, ["country", "region", "city"]].tolist() == ["US", "WASHINGTON", "SEATTLE"]
    assert frame["work_year"].tolist() == [2018, 2019]


def test_offered_wage_layout_uses_the_range() -> None:
    result = get_source("h1b").read(FIXTURES / "h1b_offered.csv")
    frame = result.frame
    assert frame[TARGET].tolist() == [130_000, 45 * 2080]
    assert frame["salary_min_usd"].tolist() == [120_000, 45 * 2080]
    assert frame["work_year"].tolist() == [2021, 2021]
    assert not any("not the wage offered" in note for note in result.notes)


@pytest.mark.realdata
def test_real_sample() -> None:
    result = get_source("h1b").read(shared_data_file("h1b/h1b_sample.csv"))
    assert len(result.frame) >= 9_990
    assert result.frame[TARGET].between(10_000, 200_000).all()
