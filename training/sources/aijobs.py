"""aijobs.net salaries.csv (CC0): one row per reported salary, converted to USD by aijobs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from training.sources.base import TARGET, Source, SourceFrame
from training.sources.reading import Rejections, read_csv, require_columns, source_frame, to_number

EXPECTED = (
    "work_year",
    "experience_level",
    "employment_type",
    "job_title",
    "salary_in_usd",
    "company_location",
)
LEVELS = {"EN": "entry", "MI": "mid", "SE": "senior", "EX": "executive"}
EMPLOYMENT = {"FT": "full_time", "PT": "part_time", "CT": "contract", "FL": "freelance"}


class AijobsSource(Source):
    """aijobs.net survey of AI/ML/data salaries; identical rows are different people."""

    name = "aijobs"
    default_path = "aijobs/salaries.csv"
    description = "aijobs.net salary survey (CC0), salary_in_usd as reported by aijobs."
    identical_rows_are_distinct = True

    def read(self, path: Path | None = None) -> SourceFrame:
        """Map the aijobs codes to JobRecord values; the company's country is the job's country."""
        path = self.resolve_path(path)
        raw = read_csv(path, self.name)
        require_columns(raw.columns, EXPECTED, self.name)
        rejections = Rejections(raw)
        salary = to_number(raw["salary_in_usd"])
        rejections.reject("unparseable_salary", salary.isna() & raw["salary_in_usd"].notna())
        year = to_number(raw["work_year"])
        rejections.reject("unparseable_work_year", year.isna() | (year < 1990) | (year > 2100))
        out = pd.DataFrame(
            {
                "title": raw["job_title"],
                "country": raw["company_location"].str.strip().str.upper(),
                "experience_level": raw["experience_level"].str.strip().str.upper().map(LEVELS),
                "employment_type": raw["employment_type"].str.strip().str.upper().map(EMPLOYMENT),
                "work_year": year,
                TARGET: salary,
            }
        )
        if "remote_ratio" in raw:
            ratio = to_number(raw["remote_ratio"])
            out["remote_ratio"] = ratio.where(ratio.between(0, 100))
        if "company_size" in raw:
            size = raw["company_size"].str.strip().str.upper()
            out["company_size"] = size.where(size.isin(["S", "M", "L"]))
        notes = [
            "country is company_location; employee_residence is not used (JobRecord has no field "
            "for where the employee lives, and it equals company_location on most rows)",
        ]
        return source_frame(self.name, out, rejections, path, notes)
