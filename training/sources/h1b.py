"""US H-1B LCA disclosures: job title, occupation code, worksite and a wage (public domain)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.sources.base import TARGET, Source, SourceFrame
from training.sources.reading import (
    Rejections,
    annualise,
    read_csv,
    require_columns,
    source_frame,
    to_number,
)

REQUIRED = ("JOB_TITLE", "WORKSITE_CITY", "PREVAILING_WAGE")
OFFERED = ("WAGE_RATE_OF_PAY_FROM", "WAGE_UNIT_OF_PAY")
STATE_COLUMNS = ("WORKSITE_STATE_FULL", "WORKSITE_STATE", "WORKSITE_STATE_ABB")
FULL_TIME = {"Y": "full_time", "N": "part_time"}
PREVAILING_NOTE = (
    "PREVAILING_WAGE is the legal minimum for the occupation and area, not the wage offered: "
    "a model trained on it estimates a floor, and sits below market pay"
)


def _first(raw: pd.DataFrame, *names: str) -> pd.Series:
    """The first of several alternative columns present in the file (layouts differ by year)."""
    for name in names:
        if name in raw:
            return raw[name]
    return pd.Series(np.nan, index=raw.index, dtype=object)


class H1BSource(Source):
    """One row per filing; the offered wage when the file has it, else the prevailing wage."""

    name = "h1b"
    default_path = "h1b/h1b_sample.csv"
    description = "US H-1B LCA disclosures (public domain); prevailing wage is a legal floor."
    identical_rows_are_distinct = True  # case numbers are unique; one position, many filings
    compares_rows = True  # a repeated case number is rejected
    part_time_is_annualised = True  # wages are rates for the position, annualised by unit of pay

    def read(self, path: Path | None = None) -> SourceFrame:
        """Map a filing to a JobRecord; duplicate case numbers are one filing and counted once."""
        path = self.resolve_path(path)
        raw = read_csv(path, self.name)
        require_columns(raw.columns, REQUIRED, self.name)
        rejections = Rejections(raw)
        if "CASE_NUMBER" in raw:
            repeats = raw["CASE_NUMBER"].duplicated().to_numpy()
            rejections.reject("duplicate_case_number", repeats, "CASE_NUMBER")
        notes: list[str] = []
        if all(c in raw for c in OFFERED):
            low = annualise(to_number(raw["WAGE_RATE_OF_PAY_FROM"]), raw["WAGE_UNIT_OF_PAY"])
            high = annualise(to_number(_first(raw, "WAGE_RATE_OF_PAY_TO")), raw["WAGE_UNIT_OF_PAY"])
            high = high.where(high >= low)
            salary, source_col = ((low + high) / 2).fillna(low), "WAGE_RATE_OF_PAY_FROM"
            notes.append("salary is the offered wage (midpoint of WAGE_RATE_OF_PAY_FROM/TO)")
        else:
            low = high = pd.Series(np.nan, index=raw.index)
            wage = to_number(raw["PREVAILING_WAGE"])
            unit = _first(raw, "PW_UNIT_OF_PAY", "PW_UNIT").fillna("Year")
            salary, source_col = annualise(wage, unit), "PREVAILING_WAGE"
            notes.append(PREVAILING_NOTE)
        rejections.reject("unparseable_salary", salary.isna() & raw[source_col].notna(), source_col)
        year = to_number(_first(raw, "YEAR"))
        if year.isna().all():
            decided = _first(raw, "DECISION_DATE", "RECEIVED_DATE", "CASE_SUBMITTED")
            year = pd.to_datetime(decided, errors="coerce", format="mixed").dt.year.astype(float)
        full_time = _first(raw, "FULL_TIME_POSITION").astype("string").str.strip().str.upper()
        out = pd.DataFrame(
            {
                "title": raw["JOB_TITLE"],
                "country": "US",
                "region": _first(raw, *STATE_COLUMNS),
                "city": raw["WORKSITE_CITY"],
                "employment_type": full_time.map(FULL_TIME).astype(object),
                "work_year": year,
                TARGET: salary,
            }
        )
        if low.notna().any():
            out["salary_min_usd"], out["salary_max_usd"] = low, high.fillna(low)
        notes.append("SOC_CODE is not passed on (JobRecord has no field); it can check roles")
        return source_frame(self.name, out, rejections, path, notes)
