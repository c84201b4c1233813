"""Cleaning drops implausible salaries per country, unannualised part-time pay and true repeats."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from data_files import FIXTURES, shared_data_file

from training.cleaning import DEFAULT_MAX_REJECTED, TooManyRejected, clean, clean_source
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
    assert report.examples["salary_above_ceiling"][0]["value"] == 1e16
    text = report.to_text()
    assert "salary_below_floor" in text and "9 rows read, 3 rows out" in text
    reasons = {r["reason"]: r for r in report.to_dict()["reasons"]}
    assert reasons["missing_salary"]["what"] and reasons["missing_salary"]["column"] == TARGET


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


UNREADABLE_CSV = FIXTURES / "aijobs_unreadable.csv"  # invented rows: 8 of 40 salaries are text


def test_report_starts_from_the_rows_read_and_accounts_for_every_row() -> None:
    frame, report = clean_source(get_source("aijobs").read(UNREADABLE_CSV))
    assert (report.rows_in, report.rows_parsed, report.rows_out) == (40, 32, 29) == (40, 32, len(frame))
    assert report.rejected == {"unparseable_salary": 8}
    assert report.dropped == {"missing_salary": 1, "salary_below_floor": 1, "part_time_not_annualised": 1}
    assert report.unaccounted() == 0
    reasons = report.to_dict()["reasons"]
    assert sum(r["rows"] for r in reasons) + report.rows_out == report.rows_in
    assert reasons[0]["examples"][:2] == [
        {"row": 4, "column": "salary_in_usd", "value": "$100k"},
        {"row": 8, "column": "salary_in_usd", "value": "competitive"},
    ]
    below = next(r for r in reasons if r["reason"] == "salary_below_floor")
    assert below["examples"] == [
        {"row": 10, "column": TARGET, "value": 900.0, "title": "Research Scientist", "country": "GB"}
    ]
    text = report.to_text()
    assert "40 rows read, 29 rows out" in text and "rejected       8 by unparseable_salary" in text
    assert "salary_in_usd='$100k' (row 4)" in text


def test_too_many_unreadable_values_stop_naming_the_column_and_an_example() -> None:
    _, report = clean_source(get_source("aijobs").read(UNREADABLE_CSV))
    with pytest.raises(TooManyRejected, match=r"8 of 40 rows read \(20.0%\).*salary_in_usd='\$100k'") as err:
        report.check_usable(DEFAULT_MAX_REJECTED)
    assert err.value.report is report
    report.check_usable(0.25)  # the legitimate drops (missing, below floor, part-time) never count


def test_every_salary_unreadable_is_said_so(tmp_path: Path) -> None:
    raw = pd.read_csv(UNREADABLE_CSV, dtype=str)
    path = tmp_path / "salaries.csv"
    raw.assign(salary_in_usd="competitive").to_csv(path, index=False)
    _, report = clean_source(get_source("aijobs").read(path))
    for limit in (DEFAULT_MAX_REJECTED, 1.0):  # over the limit, or allowed but nothing left to train on
        with pytest.raises(TooManyRejected, match=r"every salary_in_usd value is unusable.*'competitive'"):
            report.check_usable(limit)


@pytest.mark.parametrize("name", ["aijobs", "stackoverflow", "askamanager", "postings", "h1b"])
def test_real_datasets_pass_the_default_limit_and_account_for_every_row(name: str) -> None:
    source = get_source(name)
    assert source.default_path is not None
    path = shared_data_file(source.default_path)
    _, report = clean_source(source.read(path))
    assert report.unaccounted() == 0
    report.check_usable(DEFAULT_MAX_REJECTED)
    assert report.unreadable() <= 0.01 * report.rows_in  # measured: 0.18% at most (askamanager)
