"""Rules that drop implausible or unusable training rows, and the report that says which and why."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from training.sources.base import TARGET

SALARY_FLOOR_USD = 10_000.0
SALARY_CEILING_USD = 2_000_000.0
EXAMPLES_PER_RULE = 3


@dataclass
class CleaningReport:
    """Rows in, rows dropped per rule with examples, rows out: printed by training and logged to MLflow."""

    source: str
    rows_in: int = 0
    rows_out: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def drop(self, rule: str, frame: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
        """Remove the rows where `mask` holds, recording the count and a few examples under `rule`."""
        count = int(mask.sum())
        if count:
            self.dropped[rule] = self.dropped.get(rule, 0) + count
            sample = frame.loc[mask].head(EXAMPLES_PER_RULE)
            self.examples[rule] = json.loads(sample.to_json(orient="records", default_handler=str))
        return frame.loc[~mask]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the MLflow artifact."""
        return {
            "source": self.source,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "dropped": self.dropped,
            "examples": self.examples,
        }

    def to_text(self) -> str:
        """A short human-readable summary for the console."""
        lines = [f"cleaning report for {self.source}: {self.rows_in} rows in, {self.rows_out} rows out"]
        for rule, count in self.dropped.items():
            lines.append(f"  dropped {count:>7} by {rule}")
        return "\n".join(lines)


def clean(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, CleaningReport]:
    """Apply the cleaning rules in order; never drops identical rows, which can be different people."""
    report = CleaningReport(source=source, rows_in=len(frame))
    salary = pd.to_numeric(frame[TARGET], errors="coerce")
    frame = report.drop("missing_salary", frame, salary.isna())
    salary = pd.to_numeric(frame[TARGET], errors="coerce")
    frame = report.drop("salary_below_floor", frame, salary < SALARY_FLOOR_USD)
    salary = pd.to_numeric(frame[TARGET], errors="coerce")
    frame = report.drop("salary_above_ceiling", frame, salary > SALARY_CEILING_USD)
    frame = frame.assign(**{TARGET: pd.to_numeric(frame[TARGET])}).reset_index(drop=True)
    report.rows_out = len(frame)
    return frame, report
