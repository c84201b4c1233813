"""Job postings with a salary or range: Glassdoor, LinkedIn and Adzuna layouts, told by header."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.currency import normalize_currencies, usd_per_unit
from training.sources.base import TARGET, Source, SourceFrame
from training.sources.reading import (
    HOURS_PER_YEAR,
    Rejections,
    annualise,
    read_csv,
    source_frame,
    to_number,
)

GLASSDOOR = ("Job Title", "Salary Estimate", "Job Description", "Location")
LINKEDIN = ("title", "description", "location", "pay_period")
ADZUNA = ("Title", "FullDescription", "LocationRaw", "SalaryNormalized")
ADZUNA_CURRENCY, ADZUNA_YEAR, ADZUNA_COUNTRY = "GBP", 2013, "GB"
_RANGE = r"\$(?P<lo>\d+(?:\.\d+)?)(?P<lo_k>[kK]?)\s*-\s*\$(?P<hi>\d+(?:\.\d+)?)(?P<hi_k>[kK]?)"
GLASSDOOR_SIZE = {
    "1 to 50 employees": "S",
    "51 to 200 employees": "M",
    "201 to 500 employees": "L",
    "501 to 1000 employees": "L",
    "1001 to 5000 employees": "L",
    "5001 to 10000 employees": "L",
    "10000+ employees": "L",
}
LINKEDIN_LEVEL = {
    "internship": "entry",
    "entry level": "entry",
    "associate": "mid",
    "mid-senior level": "senior",
    "director": "executive",
    "executive": "executive",
}
LINKEDIN_WORK_TYPE = {
    "full-time": "full_time",
    "part-time": "part_time",
    "contract": "contract",
    "temporary": "contract",
}
ADZUNA_CONTRACT = {"full_time": "full_time", "part_time": "part_time"}


def _missing(values: pd.Series) -> pd.Series:
    """Glassdoor writes -1 for a missing value."""
    return values.where(~values.astype("string").str.strip().isin(["-1", "-1.0"]).fillna(False))


def _glassdoor(raw: pd.DataFrame, rejections: Rejections) -> tuple[pd.DataFrame, list[str]]:
    estimate = _missing(raw["Salary Estimate"])
    parts = estimate.astype("string").str.extract(_RANGE)
    lo = to_number(parts["lo"]) * np.where(parts["lo_k"].fillna("") != "", 1000, 1)
    hi = to_number(parts["hi"]) * np.where(parts["hi_k"].fillna("") != "", 1000, 1)
    hourly = estimate.astype("string").str.contains("per hour", case=False).fillna(False)
    scale = np.where(hourly, HOURS_PER_YEAR, 1)
    lo, hi = lo * scale, hi * scale
    rejections.reject("unparseable_salary", estimate.notna() & (lo.isna() | hi.isna()), "Salary Estimate")
    out = pd.DataFrame(
        {
            "title": raw["Job Title"],
            "description": raw["Job Description"],
            "location": _missing(raw["Location"]),
            "salary_min_usd": lo,
            "salary_max_usd": hi,
            TARGET: (lo + hi) / 2,
        }
    )
    if "Industry" in raw:
        out["industry"] = _missing(raw["Industry"])
    if "Size" in raw:
        out["company_size"] = raw["Size"].str.strip().str.lower().map(GLASSDOOR_SIZE)
    notes = [
        "Glassdoor layout: midpoint of the estimate range; hourly ranges x 2080 h; -1 is missing",
        "Glassdoor files carry no posting date: work_year is left empty",
    ]
    return out, notes


def _linkedin(raw: pd.DataFrame, rejections: Rejections) -> tuple[pd.DataFrame, list[str]]:
    period = raw["pay_period"]
    lo = annualise(to_number(raw.get("min_salary", pd.Series(np.nan, index=raw.index))), period)
    hi = annualise(to_number(raw.get("max_salary", pd.Series(np.nan, index=raw.index))), period)
    med = annualise(to_number(raw.get("med_salary", pd.Series(np.nan, index=raw.index))), period)
    mid = ((lo + hi) / 2).fillna(med)
    if "normalized_salary" in raw:
        mid = mid.fillna(to_number(raw["normalized_salary"]))
    has_pay = raw[[c for c in ("min_salary", "max_salary", "med_salary") if c in raw]].notna().any(
        axis=1
    )
    rejections.reject("unknown_pay_period", has_pay & mid.isna(), "pay_period")
    listed = to_number(raw.get("listed_time", pd.Series(np.nan, index=raw.index)))
    year = pd.to_datetime(listed, unit="ms", errors="coerce").dt.year.astype(float)
    currency = raw.get("currency", pd.Series("USD", index=raw.index)).fillna("USD")
    rate = usd_per_unit(normalize_currencies(currency).fillna("?"), year)
    rejections.reject("unknown_currency", rate.isna().to_numpy(), "currency")
    out = pd.DataFrame(
        {
            "title": raw["title"],
            "description": raw["description"],
            "location": raw["location"],
            "work_year": year,
            "salary_min_usd": lo * rate,
            "salary_max_usd": hi * rate,
            TARGET: mid * rate,
        }
    )
    if "formatted_experience_level" in raw:
        level = raw["formatted_experience_level"].str.strip().str.lower()
        out["experience_level"] = level.map(LINKEDIN_LEVEL)
    if "formatted_work_type" in raw:
        work = raw["formatted_work_type"].str.strip().str.lower()
        out["employment_type"] = work.map(LINKEDIN_WORK_TYPE)
    if "remote_allowed" in raw:
        out["remote_ratio"] = np.where(to_number(raw["remote_allowed"]) == 1, 100.0, np.nan)
    notes = ["LinkedIn layout: min/max/med pay annualised by pay_period (hourly x 2080 h)"]
    return out, notes


def _adzuna(raw: pd.DataFrame, rejections: Rejections) -> tuple[pd.DataFrame, list[str]]:
    salary = to_number(raw["SalaryNormalized"])
    unreadable = salary.isna() & raw["SalaryNormalized"].notna()
    rejections.reject("unparseable_salary", unreadable, "SalaryNormalized")
    rate = usd_per_unit(pd.Series(ADZUNA_CURRENCY, index=raw.index), ADZUNA_YEAR)
    out = pd.DataFrame(
        {
            "title": raw["Title"],
            "description": raw["FullDescription"],
            "location": raw["LocationRaw"],
            "country": ADZUNA_COUNTRY,
            TARGET: salary * rate,
        }
    )
    if "Category" in raw:
        out["industry"] = raw["Category"]
    empty = pd.Series("", index=raw.index)
    contract_type = raw.get("ContractType", empty).fillna("").str.strip().str.lower()
    contract_time = raw.get("ContractTime", empty).fillna("").str.strip().str.lower()
    employment = contract_type.map(ADZUNA_CONTRACT)
    out["employment_type"] = employment.mask(contract_time == "contract", "contract")
    notes = [
        f"Adzuna layout: SalaryNormalized is annual {ADZUNA_CURRENCY} (the public file is UK "
        f"postings from {ADZUNA_YEAR}), converted at the {ADZUNA_YEAR} average rate",
    ]
    return out, notes


class PostingsSource(Source):
    """Postings: title, description and location as written; the range's midpoint is the target."""

    name = "postings"
    default_path = "glassdoor/glassdoor_jobs.csv"
    description = "Job postings with a salary (Glassdoor, LinkedIn or Adzuna layout)."
    identical_rows_are_distinct = False  # the same posting is often scraped more than once
    part_time_is_annualised = True  # ranges are per-year or hourly rates annualised at 2080 h

    def read(self, path: Path | None = None) -> SourceFrame:
        """Pick the layout from the header; a file in none of them stops, naming the columns."""
        path = self.resolve_path(path)
        raw = read_csv(path, self.name)
        layouts = {"glassdoor": (GLASSDOOR, _glassdoor), "linkedin": (LINKEDIN, _linkedin),
                   "adzuna": (ADZUNA, _adzuna)}
        for columns, parse in layouts.values():
            if all(c in raw.columns for c in columns):
                rejections = Rejections(raw)
                out, notes = parse(raw, rejections)
                return source_frame(self.name, out, rejections, path, notes)
        expected = {name: list(cols) for name, (cols, _) in layouts.items()}
        raise ValueError(
            f"{self.name}: unknown layout; expected one of {expected}, "
            f"found {list(raw.columns)[:40]}"
        )
