"""Ask A Manager salary survey 2021: free-text answers, many currencies, experience in bands."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from features.location import resolve_country
from training.currency import normalize_currencies, usd_per_unit
from training.sources.base import TARGET, Source, SourceFrame
from training.sources.reading import (
    Rejections,
    map_distinct,
    read_csv,
    require_columns,
    source_frame,
    to_number,
)

# The survey's headers are whole questions; each field is found by how its question starts.
QUESTIONS = {
    "timestamp": "Timestamp",
    "industry": "What industry do you work in",
    "title": "Job title",
    "title_context": "If your job title needs additional context",
    "salary": "What is your annual salary",
    "bonus": "How much additional monetary compensation",
    "currency": "Please indicate the currency",
    "currency_other": 'If "Other," please indicate the currency',
    "country": "What country do you work in",
    "state": "If you're in the U.S., what state",
    "city": "What city do you work in",
    "experience": "How many years of professional work experience do you have overall",
    "experience_field": "How many years of professional work experience do you have in your field",
    "education": "What is your highest level of education",
}
REQUIRED = ("timestamp", "title", "salary", "currency", "country")
OPEN_BAND_EXTRA_YEARS = 4.0  # "41 years or more" -> 45: the open band's start plus half a band
_NUMBERS = re.compile(r"\d+(?:\.\d+)?")


def experience_band_years(band: str) -> float | None:
    """Midpoint of a band: '5-7 years' -> 6, '1 year or less' -> 0.5, '41 or more' -> 45."""
    numbers = [float(n) for n in _NUMBERS.findall(band)]
    text = band.lower()
    if not numbers:
        return None
    if "less" in text or "under" in text:
        return numbers[0] / 2
    if "more" in text or "+" in text:
        return numbers[0] + OPEN_BAND_EXTRA_YEARS
    return sum(numbers[:2]) / len(numbers[:2])


def _find_columns(columns: list[str]) -> dict[str, str]:
    """Map our field names to the file's question headers by prefix."""
    found: dict[str, str] = {}
    for field, prefix in QUESTIONS.items():
        for col in columns:
            if col.strip().lower().startswith(prefix.lower()):
                found[field] = col
                break
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        require_columns(columns, [QUESTIONS[f] + "..." for f in missing], "askamanager")
    return found


def _currency_codes(raw: pd.DataFrame, cols: dict[str, str]) -> pd.Series:
    """ISO codes per row: 'Other' uses the free-text answer, 'AUD/NZD' the country; else None."""
    chosen = raw[cols["currency"]].astype("string").str.strip()
    if "currency_other" in cols:
        chosen = chosen.mask(chosen.str.lower() == "other", raw[cols["currency_other"]])
    country = map_distinct(raw[cols["country"]], resolve_country)
    pair = chosen.str.upper().isin(["AUD/NZD", "NZD/AUD"]).fillna(False)
    chosen = chosen.mask(pair & (country == "AU"), "AUD").mask(pair & (country == "NZ"), "NZD")
    return normalize_currencies(chosen.astype(object))


class AskAManagerSource(Source):
    """Free-text location and title go through as typed; base pay is converted to USD here."""

    name = "askamanager"
    default_path = "askamanager/aam2021.csv"
    description = "Ask A Manager salary survey 2021; base salary at documented exchange rates."
    identical_rows_are_distinct = False
    part_time_is_annualised = True  # the survey asked part-time people for a 40 h x 52 week figure

    def read(self, path: Path | None = None) -> SourceFrame:
        """Convert base salary at the response year's average rate; reject unknown currencies."""
        path = self.resolve_path(path)
        raw = read_csv(path, self.name)
        cols = _find_columns(list(raw.columns))
        rejections = Rejections(raw)
        year = pd.to_datetime(raw[cols["timestamp"]], errors="coerce", format="mixed").dt.year
        salary = to_number(raw[cols["salary"]])
        rejections.reject("unparseable_salary", salary.isna() & raw[cols["salary"]].notna(), cols["salary"])
        codes = _currency_codes(raw, cols)
        rate = usd_per_unit(codes.fillna("?"), year.fillna(2021))
        rejections.reject("unknown_currency", rate.isna().to_numpy(), cols["currency"])
        out = pd.DataFrame(
            {
                "title": raw[cols["title"]],
                "country": raw[cols["country"]],
                "work_year": year.astype(float),
                TARGET: salary * rate,
            }
        )
        optional = {"title_context": "description", "industry": "industry", "state": "region",
                    "city": "city", "education": "education"}
        for field, target in optional.items():
            if field in cols:
                out[target] = raw[cols[field]]
        # Years in the field predict pay better than years overall (MAE 21,183 -> 20,681 on the
        # 2021 survey); the overall band fills in where the field answer is blank.
        out["years_experience"] = np.nan
        for field in ("experience", "experience_field"):
            if field in cols:
                years = map_distinct(raw[cols[field]], experience_band_years)
                out["years_experience"] = years.where(years.notna(), out["years_experience"])
        notes = [
            "salary_usd is base salary; additional compensation (bonus) is left out of the target",
            "currencies converted with training/currency_rates.csv at the response year's average",
            "'AUD/NZD' answers are resolved by the country answer; elsewhere they are rejected",
        ]
        return source_frame(self.name, out, rejections, path, notes)
