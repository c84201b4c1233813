"""Stack Overflow Developer Survey (ODbL): the 2023 US extract and the 2024/2025 public layout."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from features.schema import company_size_of
from training.sources.base import TARGET, Source, SourceFrame
from training.sources.reading import (
    Rejections,
    map_distinct,
    read_csv,
    require_columns,
    source_frame,
    split_answers,
    to_number,
)

LAYOUT_2023_US = ("Salary", "DevType")
LAYOUT_PUBLIC = ("ConvertedCompYearly", "Country", "DevType")
SKILL_COLUMNS = (
    "LanguageHaveWorkedWith",
    "DatabaseHaveWorkedWith",
    "PlatformHaveWorkedWith",
    "WebframeHaveWorkedWith",
    "MiscTechHaveWorkedWith",
    "ToolsTechHaveWorkedWith",
    "NEWCollabToolsHaveWorkedWith",
    "OfficeStackAsyncHaveWorkedWith",
    "AISearchHaveWorkedWith",
    "OfficeStackSyncHaveWorkedWith",
    "OpSysProfessional use",
)
# Headcount for each bucket: the geometric middle of its bounds (a bucket spans a ratio, not a
# difference); "10,000 or more" is taken as 20,000 and a sole proprietor as 1. The S/M/L code follows
# from it, so each bucket's code is where most of the bucket lies (20-99 is S, 500-999 is L).
ORG_EMPLOYEES = {
    "just me - i am a freelancer, sole proprietor, etc.": 1,
    "2 to 9 employees": 4, "2-9": 4,
    "10 to 19 employees": 14, "10-19": 14,
    "20 to 99 employees": 44, "20-99": 44,
    "100 to 499 employees": 224, "100-499": 224,
    "500 to 999 employees": 707, "500-999": 707,
    "1,000 to 4,999 employees": 2_236, "1,000-4,999": 2_236,
    "5,000 to 9,999 employees": 7_071, "5,000-9,999": 7_071,
    "10,000 or more employees": 20_000, "10,000 or more": 20_000,
}
REMOTE = {"remote": 100.0, "hybrid (some remote, some in-person)": 50.0, "in-person": 0.0}
YEARS_TEXT = {"less than 1 year": 0.5, "more than 50 years": 50.0}
MAX_YEARS = 70.0
_YEAR_IN_PATH = re.compile(r"(20[12]\d)")


def _employment(answer: str) -> str | None:
    """The main job from a multi-answer Employment: full-time employment wins over side work."""
    if "Employed, full-time" in answer:
        return "full_time"
    if "Independent contractor" in answer:
        return "freelance"
    if "Employed, part-time" in answer:
        return "part_time"
    return None


def _years(values: pd.Series) -> pd.Series:
    """Years as numbers; 'Less than 1 year' and 'More than 50 years' become 0.5 and 50."""
    text = values.astype("string").str.strip().str.lower()
    years = to_number(values).fillna(text.map(YEARS_TEXT).astype(float))
    return years.where(years.between(0, MAX_YEARS))


def _with_people_manager(dev_type: pd.Series, ic_or_pm: pd.Series) -> pd.Series:
    """Prefix 'Manager, ' for people managers so the title's seniority reads manager (ICorPM)."""
    manages = ic_or_pm.astype("string").str.strip().str.lower().eq("people manager").fillna(False)
    already = dev_type.str.lower().str.contains("manager").fillna(False)
    prefix = manages.to_numpy(dtype=bool) & ~already.to_numpy(dtype=bool) & dev_type.notna().to_numpy()
    return dev_type.where(~prefix, "Manager, " + dev_type)


def _survey_year(path: Path) -> float:
    """The public files do not carry their year; take it from the folder or file name if present."""
    found = _YEAR_IN_PATH.findall(str(path))
    return float(found[-1]) if found else np.nan


class StackOverflowSource(Source):
    """One row per respondent; Salary (2023 extract) or ConvertedCompYearly (public), in USD."""

    name = "stackoverflow"
    default_path = "stackoverflow/so2023_us.csv"
    description = "Stack Overflow Developer Survey (ODbL 1.0); yearly compensation in USD."
    identical_rows_are_distinct = False

    def read(self, path: Path | None = None) -> SourceFrame:
        """Detect the layout from the header, then map answers to JobRecord fields."""
        path = self.resolve_path(path)
        raw = read_csv(path, self.name)
        notes: list[str] = []
        if all(c in raw.columns for c in LAYOUT_PUBLIC):
            salary_col = "ConvertedCompYearly"
            country = raw["Country"]
            work_year = _survey_year(path)
            notes.append("public layout: ConvertedCompYearly (USD, converted by Stack Overflow)")
        elif "Salary" in raw.columns:
            require_columns(raw.columns, LAYOUT_2023_US, self.name)
            salary_col = "Salary"
            country = pd.Series("US", index=raw.index)
            work_year = 2023.0
            notes.append("2023 US extract: every respondent works in the US")
        else:
            raise ValueError(
                f"{self.name}: unknown layout; expected {list(LAYOUT_2023_US)} (2023 US) or "
                f"{list(LAYOUT_PUBLIC)} (2024/2025 public), found {list(raw.columns)[:40]}"
            )
        rejections = Rejections(raw)
        salary = to_number(raw[salary_col])
        rejections.reject("unparseable_salary", salary.isna() & raw[salary_col].notna(), salary_col)
        years = pd.Series(np.nan, index=raw.index)
        for col in ("WorkExp", "YearsCodePro"):  # YearsCodePro (99.8% answered) wins
            if col in raw:
                years = _years(raw[col]).fillna(years)
        skill_cols = [raw[c] for c in SKILL_COLUMNS if c in raw]
        if not skill_cols:
            notes.append("no *HaveWorkedWith columns: skills left empty")
        dev_type = raw["DevType"].astype("string").str.split(";").str[0].str.strip()
        if "ICorPM" in raw:
            dev_type = _with_people_manager(dev_type, raw["ICorPM"])
        out = pd.DataFrame(
            {
                "title": dev_type.astype(object).where(dev_type.notna(), None),
                "country": country,
                "years_experience": years,
                "work_year": work_year,
                TARGET: salary,
            }
        )
        if skill_cols:
            out["skills"] = split_answers(*skill_cols)
        if "OrgSize" in raw:
            org_size = raw["OrgSize"].str.strip().str.lower()
            out["company_employees"] = org_size.map(ORG_EMPLOYEES)
            out["company_size"] = out["company_employees"].map(company_size_of, na_action="ignore")
        if "RemoteWork" in raw:
            out["remote_ratio"] = raw["RemoteWork"].str.strip().str.lower().map(REMOTE)
        if "Employment" in raw:
            out["employment_type"] = map_distinct(raw["Employment"], _employment)
        for col, field in (("EdLevel", "education"), ("Industry", "industry")):
            if col in raw:
                out[field] = raw[col]
        return source_frame(self.name, out, rejections, path, notes)
