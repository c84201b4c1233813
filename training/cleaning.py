"""Rules that drop implausible or unusable training rows, and the report that says which and why."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.location import parse_location
from features.population import HIGH_INCOME
from training.sources import SOURCES
from training.sources.base import TARGET

US_FLOOR_USD = 15_000.0  # US federal minimum wage, $7.25 x 2080 h = $15,080, rounded down
HIGH_INCOME_FLOOR_USD = 10_000.0
OTHER_FLOOR_USD = 3_000.0  # real full-time pay in lower-income countries goes this low
US_CEILING_USD = 2_000_000.0
OTHER_CEILING_USD = 1_000_000.0
SALARY_FLOOR_USD = US_FLOOR_USD  # kept for callers of the first version
SALARY_CEILING_USD = US_CEILING_USD
EXAMPLES_PER_RULE = 3
EXAMPLE_TEXT_CHARS = 80
RULES = {
    "missing_salary": "no salary, or not a number",
    "salary_below_floor": f"below ${US_FLOOR_USD:,.0f} (US), ${HIGH_INCOME_FLOOR_USD:,.0f} "
    f"(high-income countries), ${OTHER_FLOOR_USD:,.0f} (elsewhere or unknown)",
    "salary_above_ceiling": f"above ${US_CEILING_USD:,.0f} (US) or ${OTHER_CEILING_USD:,.0f} "
    "(elsewhere)",
    "part_time_not_annualised": "part-time pay that the source does not give as a full-time "
    "equivalent (aijobs, Stack Overflow): hours unknown, so it cannot be annualised",
    "duplicate_row": "identical rows in sources where a row is one respondent, posting or filing "
    "(never for aijobs, where identical answers come from different people)",
}


def _example(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v[:EXAMPLE_TEXT_CHARS] + "..." if isinstance(v, str) and len(v) > EXAMPLE_TEXT_CHARS else v
        for k, v in row.items()
        if v is not None and v == v
    }


@dataclass
class CleaningReport:
    """Rows in, rows dropped per rule with examples, rows out: printed and logged with every run."""

    source: str
    rows_in: int = 0
    rows_out: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def drop(self, rule: str, frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> pd.DataFrame:
        """Remove the rows where `mask` holds, recording the count and a few examples."""
        mask = pd.Series(np.asarray(mask, dtype=bool), index=frame.index)
        count = int(mask.sum())
        if count:
            self.dropped[rule] = self.dropped.get(rule, 0) + count
            sample = frame.loc[mask].head(EXAMPLES_PER_RULE)
            records = json.loads(sample.to_json(orient="records", default_handler=str))
            self.examples[rule] = [_example(r) for r in records]
        return frame.loc[~mask]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the MLflow artifact."""
        return {
            "source": self.source,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "dropped": self.dropped,
            "examples": self.examples,
            "rules": {rule: RULES[rule] for rule in self.dropped if rule in RULES},
        }

    def to_text(self) -> str:
        """A short human-readable summary for the console, one example per rule."""
        lines = [f"cleaning report for {self.source}: {self.rows_in} rows in, "
                 f"{self.rows_out} rows out"]
        for rule, count in self.dropped.items():
            lines.append(f"  dropped {count:>7} by {rule}: {RULES.get(rule, '')}")
            if self.examples.get(rule):
                first = self.examples[rule][0]
                shown = {k: first[k] for k in ("title", "country", "location", TARGET) if k in first}
                lines.append(f"          e.g. {shown}")
        return "\n".join(lines)


def resolved_countries(frame: pd.DataFrame) -> pd.Series:
    """ISO country per row as the feature pipeline reads it, computed once per distinct location."""
    cols = ["location", "country", "region", "city"]
    parts = frame.reindex(columns=cols)
    columns = [[str(v) if isinstance(v, str) and v else None for v in parts[c]] for c in cols]
    keys = list(zip(*columns, strict=True))
    lookup = {key: parse_location(*key).country for key in set(keys)}
    return pd.Series([lookup[k] for k in keys], index=frame.index, dtype=object)


def salary_bounds(countries: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per-row floor and ceiling in USD for the resolved countries."""
    us = (countries == "US").to_numpy()
    high = countries.isin(HIGH_INCOME).to_numpy()
    floor = np.where(us, US_FLOOR_USD, np.where(high, HIGH_INCOME_FLOOR_USD, OTHER_FLOOR_USD))
    ceiling = np.where(us, US_CEILING_USD, OTHER_CEILING_USD)
    return floor, ceiling


def clean(
    frame: pd.DataFrame, source: str, *, keep_index: bool = False
) -> tuple[pd.DataFrame, CleaningReport]:
    """Apply the rules in order; identical rows are dropped only where a row is one respondent.

    `keep_index=True` leaves the input's index on the kept rows, to trace them back.
    """
    adapter = SOURCES.get(source)
    report = CleaningReport(source=source, rows_in=len(frame))
    salary = pd.to_numeric(frame[TARGET], errors="coerce")
    frame = report.drop("missing_salary", frame, salary.isna() | ~np.isfinite(salary))
    frame = frame.assign(**{TARGET: pd.to_numeric(frame[TARGET])})
    floor, ceiling = salary_bounds(resolved_countries(frame))
    salary_now = frame[TARGET].to_numpy()
    frame = report.drop("salary_below_floor", frame, salary_now < floor)
    frame = report.drop("salary_above_ceiling", frame, (salary_now > ceiling)[salary_now >= floor])
    if adapter is not None and not adapter.part_time_is_annualised:
        part_time = frame["employment_type"].astype(object) == "part_time"
        frame = report.drop("part_time_not_annualised", frame, part_time)
    if adapter is not None and not adapter.identical_rows_are_distinct:
        frame = report.drop("duplicate_row", frame, _duplicated(frame))
    if not keep_index:
        frame = frame.reset_index(drop=True)
    report.rows_out = len(frame)
    return frame, report


def _duplicated(frame: pd.DataFrame) -> pd.Series:
    """Every repeat of an earlier identical row (list columns compared by their contents)."""
    hashable = frame.astype(object).map(lambda v: tuple(v) if isinstance(v, list) else v)
    return hashable.astype(str).duplicated()
