"""The postings adapter reads Glassdoor, LinkedIn and Adzuna layouts into ranges and midpoints."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from data_files import FIXTURES, shared_data_file

from training.sources import get_source
from training.sources.base import TARGET


def test_glassdoor_ranges_hourly_and_missing() -> None:
    result = get_source("postings").read(FIXTURES / "postings_glassdoor.csv")
    frame = result.frame
    assert result.rejected == {"unparseable_salary": 1}
    assert frame.loc[0, ["salary_min_usd", "salary_max_usd", TARGET]].tolist() == [60e3, 100e3, 80e3]
    assert frame.loc[2, TARGET] == 35 * 2080
    assert pd.isna(frame.loc[3, TARGET])  # -1 means missing: cleaning drops it
    assert frame.loc[0, "location"] == "Denver, CO" and frame.loc[0, "company_size"] == "M"
    assert pd.isna(frame.loc[4, "industry"])


def test_linkedin_annualises_by_pay_period_and_converts() -> None:
    result = get_source("postings").read(FIXTURES / "postings_linkedin.csv")
    frame = result.frame.set_index("title")
    assert result.rejected == {"unknown_pay_period": 1, "unknown_currency": 1}
    assert frame.loc["Senior Data Engineer", TARGET] == 160_000
    assert frame.loc["Senior Data Engineer", "experience_level"] == "senior"
    assert frame.loc["Senior Data Engineer", "remote_ratio"] == 100
    assert frame.loc["Senior Data Engineer", "work_year"] == 2024
    assert frame.loc["Support Specialist", TARGET] == 22.5 * 2080
    assert frame.loc["Support Specialist", "employment_type"] == "part_time"
    assert frame.loc["Product Manager", TARGET] == pytest.approx(6000 * 12 * 1.0817)  # EUR 2023


def test_adzuna_is_uk_pounds() -> None:
    frame = get_source("postings").read(FIXTURES / "postings_adzuna.csv").frame
    assert frame[TARGET].tolist() == pytest.approx([50_000 * 1.5642, 18_720 * 1.5642, 72_000 * 1.5642])
    assert frame["employment_type"].tolist() == ["full_time", "part_time", "contract"]
    assert set(frame["country"]) == {"GB"}


def test_unknown_layout_lists_every_expected_layout(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text("name,pay\nAnalyst,100\n")
    with pytest.raises(ValueError, match=r"glassdoor.*linkedin.*adzuna.*found"):
        get_source("postings").read(path)


@pytest.mark.realdata
def test_real_glassdoor_file() -> None:
    result = get_source("postings").read(shared_data_file("glassdoor/glassdoor_jobs.csv"))
    frame = result.frame
    assert result.rows_read == len(frame)
    with_salary = frame[frame[TARGET].notna()]
    assert (with_salary["salary_min_usd"] <= with_salary["salary_max_usd"]).all()
    assert with_salary[TARGET].median() > 50_000
