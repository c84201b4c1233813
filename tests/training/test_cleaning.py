"""Cleaning drops implausible salaries per country, unannualised part-time pay and true repeats."""

from __future__ import annotations

import pandas as pd
import pytest
from data_files import shared_data_file

from training.cleaning import clean
from training.sources import get_source
from training.sources.base import TARGET, conform


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    return conform(pd.DataFrame(rows))


def test_floors_and_ceilings_depend_on_country() -> None:
    frame = _frame([
        {"title": "Dev", "country": "US", TARGET: 0.0},
        {"title": "Dev", "country": "USA", TARGET: 12_000.0},
        {"title": "Dev", "country": "India", TARGET: 6_000.0},
        {"title": "Dev", "country": "United Kingdom", TARGET: 6_000.0},
        {"title": "Dev", "location": "Austin, TX", TARGET: 1e16},
        {"title": "Dev", "country": "DE", TARGET: 1_500_000.0},
        {"title": "Dev", "country": "US", TARGET: 1_500_000.0},
        {"title": "Dev", "country": "US", TARGET: None},
        {"title": "Dev", "country": "US", TARGET: 120_000.0},
    ])
    out, report = clean(frame, "stackoverflow")
    assert report.dropped == {"missing_salary": 1, "salary_below_floor": 3,
                              "salary_above_ceiling": 2}
    assert sorted(out[TARGET]) == [6_000, 120_000, 1_500_000]
    assert (report.rows_in, report.rows_out) == (9, 3)
    assert report.examples["salary_above_ceiling"][0][TARGET] == 1e16
    text = report.to_text()
    assert "salary_below_floor" in text and "9 rows in, 3 rows out" in text
    assert report.to_dict()["rules"]["missing_salary"]


def test_part_time_is_dropped_only_where_not_annualised() -> None:
    frame = _frame([
        {"title": "Analyst", "country": "US", "employment_type": "part_time", TARGET: 40_000.0},
        {"title": "Analyst", "country": "US", "employment_type": "full_time", TARGET: 80_000.0},
    ])
    assert clean(frame, "aijobs")[1].dropped == {"part_time_not_annualised": 1}
    assert clean(frame, "askamanager")[1].dropped == {}


def test_identical_rows_kept_for_aijobs_dropped_for_respondent_sources() -> None:
    row = {"title": "Data Scientist", "country": "US", "skills": ["Python"], TARGET: 150_000.0}
    frame = _frame([row, row, {**row, "skills": ["SQL"]}])
    assert len(clean(frame, "aijobs")[0]) == 3
    out, report = clean(frame, "askamanager")
    assert len(out) == 2 and report.dropped == {"duplicate_row": 1}


def test_unknown_source_gets_salary_rules_only() -> None:
    row = {"title": "Nurse", "country": "US", "employment_type": "part_time", TARGET: 50_000.0}
    out, report = clean(_frame([row, row]), "my_company_export")
    assert len(out) == 2 and report.dropped == {}


@pytest.mark.realdata
def test_real_stackoverflow_absurd_answers_are_dropped() -> None:
    path = shared_data_file("stackoverflow/so2023_us.csv")
    out, report = clean(get_source("stackoverflow").read(path).frame, "stackoverflow")
    assert out[TARGET].between(15_000, 2_000_000).all()
    assert report.dropped["salary_below_floor"] > 0 and report.dropped["salary_above_ceiling"] > 0


def test_keep_index_traces_rows_back_to_the_adapter_frame() -> None:
    frame = _frame([
        {"title": "A", "country": "US", TARGET: 1.0},
        {"title": "B", "country": "US", TARGET: 90_000.0},
    ])
    out, _ = clean(frame, "aijobs", keep_index=True)
    assert out.index.tolist() == [1]
