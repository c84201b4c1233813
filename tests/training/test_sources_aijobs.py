"""The aijobs adapter maps codes, keeps identical rows and rejects unparseable salaries."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from data_files import FIXTURES, shared_data_file

from features.schema import JOB_RECORD_FIELDS, record_from_mapping
from training.sources import SOURCES, get_source
from training.sources.base import TARGET


def test_fixture_maps_codes_to_job_record_values() -> None:
    result = get_source("aijobs").read(FIXTURES / "aijobs.csv")
    frame = result.frame
    assert list(frame.columns)[: len(JOB_RECORD_FIELDS)] == list(JOB_RECORD_FIELDS)
    assert result.rows_read == 6
    assert result.rejected == {"unparseable_salary": 1}
    assert result.kept_rows == [0, 1, 2, 3, 5]
    unreadable = {"row": 5, "column": "salary_in_usd", "value": "n/a"}  # row 5 of the data, after the header
    assert result.rejected_examples["unparseable_salary"] == [unreadable]
    assert frame["experience_level"].tolist()[:4] == ["senior", "senior", "entry", "mid"]
    assert frame["employment_type"].tolist()[:4] == ["full_time", "full_time", "part_time", "contract"]
    assert frame["country"].tolist()[:4] == ["US", "US", "DE", "GB"]
    assert frame.loc[2, TARGET] == 32400


def test_unknown_codes_become_missing_not_errors() -> None:
    frame = get_source("aijobs").read(FIXTURES / "aijobs.csv").frame
    odd = frame[frame["title"] == "Data Scientist"].iloc[0]
    assert pd.isna(odd["experience_level"]) and pd.isna(odd["company_size"])
    record = record_from_mapping(odd.to_dict())
    assert record.title == "Data Scientist" and record.work_year == 2022


def test_identical_rows_are_kept() -> None:
    frame = get_source("aijobs").read(FIXTURES / "aijobs.csv").frame
    assert frame.duplicated().sum() == 1
    assert SOURCES["aijobs"].identical_rows_are_distinct


def test_wrong_columns_name_what_was_expected(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("year,title,pay\n2024,Analyst,100\n")
    with pytest.raises(ValueError, match=r"expected \[.*salary_in_usd.*found \['year'"):
        get_source("aijobs").read(path)


@pytest.mark.realdata
def test_real_file_reads_every_row() -> None:
    result = get_source("aijobs").read(shared_data_file("aijobs/salaries.csv"))
    assert result.rows_read == len(result.frame) > 70_000
    assert set(result.frame["experience_level"].dropna()) == {"entry", "mid", "senior", "executive"}
    assert result.frame["work_year"].between(2020, 2030).all()
