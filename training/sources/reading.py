"""Shared steps of every adapter: read a CSV, check its header, count and show rejected rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.sources.base import SourceFrame, conform

EXAMPLES_PER_REASON = 3
EXAMPLE_TEXT_CHARS = 120
# Why an adapter rejects a row. The unreadable ones (a value that is there but cannot be read) count
# toward `salary train --max-rejected`; a repeat filing is a legitimate drop, not a broken file.
REASONS = {
    "unparseable_salary": "the salary is there but is not a number (e.g. '$100k', 'competitive')",
    "unparseable_work_year": "the work year is not a year between 1990 and 2100",
    "unknown_currency": "a currency with no rate in training/currency_rates.csv",
    "unknown_pay_period": "pay without a pay period we can annualise",
    "duplicate_case_number": "a repeat of an earlier filing's case number",
}
UNREADABLE = frozenset(
    ("unparseable_salary", "unparseable_work_year", "unknown_currency", "unknown_pay_period")
)
HOURS_PER_YEAR = 2080  # 40 hours x 52 weeks, the usual full-time annualisation
PERIODS_PER_YEAR = {
    "hourly": HOURS_PER_YEAR, "hour": HOURS_PER_YEAR, "daily": 260, "day": 260,
    "weekly": 52, "week": 52, "biweekly": 26, "bi-weekly": 26,
    "monthly": 12, "month": 12, "yearly": 1, "year": 1, "annual": 1, "annually": 1,
}


def read_csv(path: Path, source: str) -> pd.DataFrame:
    """Read a dataset as text (adapters parse numbers themselves), naming a missing file."""
    if not path.exists():
        raise FileNotFoundError(f"{source}: no file at {path}")
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], low_memory=False)


def require_columns(found: Iterable[str], expected: Sequence[str], source: str) -> None:
    """Stop with a clear message when a file is not in the layout this adapter reads."""
    found = list(found)
    missing = [c for c in expected if c not in found]
    if missing:
        raise ValueError(
            f"{source}: file does not have the expected columns; expected {list(expected)}, "
            f"missing {missing}, found {found[:40]}"
        )


def to_number(values: pd.Series) -> pd.Series:
    """Numbers written as text ('120,000', ' 95000 ', '$80k' stays NaN), NaN where not a number."""
    text = values.astype("string").str.strip().str.replace(r"[,\s]", "", regex=True)
    return pd.to_numeric(text, errors="coerce").astype(float)


def split_answers(*columns: pd.Series, sep: str = ";") -> pd.Series:
    """Join multi-answer columns into one list per row, dropping empty answers and repeats."""
    joined = columns[0].fillna("").astype(str)
    for col in columns[1:]:
        joined = joined + sep + col.fillna("").astype(str)
    return joined.map(lambda s: list(dict.fromkeys(a.strip() for a in s.split(sep) if a.strip())))


def map_distinct(values: pd.Series, func: Any) -> pd.Series:
    """Apply a scalar parser once per distinct value: fast on columns with few distinct answers."""
    lookup = {v: func(v) for v in values.dropna().unique()}
    return values.map(lookup)


def annualise(amount: pd.Series, period: pd.Series) -> pd.Series:
    """Pay per period to pay per year (hourly x 2080); NaN for periods we do not recognise."""
    factor = period.astype("string").str.strip().str.lower().map(PERIODS_PER_YEAR)
    return amount * pd.to_numeric(factor, errors="coerce")


def _shown(value: Any) -> Any:
    """A value as JSON shows it: numbers and text (cut short), None for missing."""
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str) and len(value) > EXAMPLE_TEXT_CHARS:
        return value[:EXAMPLE_TEXT_CHARS] + "..."
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return _shown(str(value))


def value_examples(
    frame: pd.DataFrame, mask: pd.Series, column: str | None, context: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The first few masked rows as {row, column, value} (row: 1-based data row of the file) + context."""
    picked = frame.loc[mask].head(EXAMPLES_PER_REASON)
    examples = []
    for index, row in zip(picked.index, picked.to_dict("records"), strict=True):
        number = int(index) + 1 if isinstance(index, int | np.integer) else str(index)
        example: dict[str, Any] = {"row": number, "column": column}
        example["value"] = _shown(row[column]) if column is not None and column in row else None
        shown = {c: _shown(row[c]) for c in context if c in row and c != column}
        example.update({c: v for c, v in shown.items() if v is not None})
        examples.append(example)
    return examples


class Rejections:
    """Counts and examples of rows an adapter could not use, by reason; the rest go on."""

    def __init__(self, raw: pd.DataFrame) -> None:
        self.raw = raw
        self.keep = pd.Series(True, index=raw.index)
        self.counts: dict[str, int] = {}
        self.examples: dict[str, list[dict[str, Any]]] = {}

    def reject(self, reason: str, mask: pd.Series | np.ndarray, column: str) -> None:
        """Mark rows where `mask` holds (and not already rejected) as rejected for `reason`.

        `column` is the file's column whose value could not be used; the examples show it.
        """
        mask = pd.Series(np.asarray(mask, dtype=bool), index=self.raw.index) & self.keep
        count = int(mask.sum())
        if not count:
            return
        self.counts[reason] = self.counts.get(reason, 0) + count
        self.examples.setdefault(reason, []).extend(value_examples(self.raw, mask, column))
        self.keep &= ~mask


def source_frame(
    name: str,
    out: pd.DataFrame,
    rejections: Rejections,
    path: Path,
    notes: Sequence[str] = (),
) -> SourceFrame:
    """The adapter's result: kept rows in JobRecord columns, with rejection counts and examples."""
    return SourceFrame(
        source=name,
        frame=conform(out.loc[rejections.keep.to_numpy()]),
        path=str(path),
        rows_read=len(rejections.raw),
        rejected=dict(rejections.counts),
        notes=list(notes),
        rejected_examples=dict(rejections.examples),
        kept_rows=[int(i) for i in np.flatnonzero(rejections.keep.to_numpy())],
    )
