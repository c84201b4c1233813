"""aijobs.net salaries.csv (CC0): one row per reported salary, converted to USD by aijobs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from features.schema import (
    EMPLOYMENT_TYPES,
    EXPERIENCE_LEVELS,
    normalize_employment_type,
    normalize_experience_level,
)
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


def known_codes(column: pd.Series, normalize: Callable[[str], str], known: tuple[str, ...]) -> pd.Series:
    """Codes through JobRecord's own normaliser; values it does not know become missing."""
    values = column.map(normalize, na_action="ignore")
    return values.where(values.isin(known))


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
        rejections.reject("unparseable_salary", salary.isna() & raw["salary_in_usd"].notna(), "salary_in_usd")
        year = to_number(raw["work_year"])
        rejections.reject("unparseable_work_year", year.isna() | (year < 1990) | (year > 2100), "work_year")
        out = pd.DataFrame(
            {
                "title": raw["job_title"],
                "country": raw["company_location"].str.strip().str.upper(),
                "experience_level": known_codes(
                    raw["experience_level"], normalize_experience_level, EXPERIENCE_LEVELS
                ),
                "employment_type": known_codes(
                    raw["employment_type"], normalize_employment_type, EMPLOYMENT_TYPES
                ),
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
