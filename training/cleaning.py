"""Rules that drop implausible or unusable training rows, and the report that says which and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.location import parse_location
from features.population import HIGH_INCOME
from training.sources import SOURCES, SourceFrame
from training.sources.base import TARGET
from training.sources.reading import EXAMPLES_PER_REASON, UNREADABLE, value_examples
from training.sources.reading import REASONS as ADAPTER_REASONS

US_FLOOR_USD = 15_000.0  # US federal minimum wage, $7.25 x 2080 h = $15,080, rounded down
HIGH_INCOME_FLOOR_USD = 10_000.0
OTHER_FLOOR_USD = 3_000.0  # real full-time pay in lower-income countries goes this low
US_CEILING_USD = 2_000_000.0
OTHER_CEILING_USD = 1_000_000.0
SALARY_FLOOR_USD = US_FLOOR_USD  # kept for callers of the first version
SALARY_CEILING_USD = US_CEILING_USD
DEFAULT_MAX_REJECTED = 0.05  # share of rows read with an unreadable value that stops a run
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
# The JobRecord column each rule looks at, shown with its examples (None: the whole row).
RULE_COLUMNS: dict[str, str | None] = {
    "missing_salary": TARGET,
    "salary_below_floor": TARGET,
    "salary_above_ceiling": TARGET,
    "part_time_not_annualised": "employment_type",
    "duplicate_row": None,
}
EXAMPLE_CONTEXT = ("title", "country", "location")


class TooManyRejected(ValueError):
    """The data is not fit to train on: too many unreadable values, or no row left; carries the report."""

    def __init__(self, message: str, report: CleaningReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class CleaningReport:
    """Every row read, accounted for: rejected by the adapter or a cleaning rule (why, examples), or kept.

    rows_in = sum(rejected) + rows_parsed, and rows_parsed = sum(dropped) + rows_out.
    """

    source: str
    rows_in: int = 0  # rows read from the file (for a frame cleaned directly, its rows)
    rows_out: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # by cleaning rule
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rows_parsed: int = 0  # rows the adapter turned into records, which the cleaning rules saw
    rejected: dict[str, int] = field(default_factory=dict)  # by the adapter, reason -> rows
    rejected_examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def merge(cls, parts: Iterable[CleaningReport], source: str) -> CleaningReport:
        """One report of several parts' (a cluster's partitions, in file order): counts add up, and each
        reason shows the first parts' examples, as many as one part shows."""
        out = cls(source=source)
        for part in parts:
            out.rows_in += part.rows_in
            out.rows_out += part.rows_out
            out.rows_parsed += part.rows_parsed
            for total, counts in ((out.dropped, part.dropped), (out.rejected, part.rejected)):
                for reason, n in counts.items():
                    total[reason] = total.get(reason, 0) + n
            pairs = ((out.examples, part.examples), (out.rejected_examples, part.rejected_examples))
            for examples, more in pairs:
                for reason, shown in more.items():
                    kept = examples.setdefault(reason, [])
                    kept.extend(shown[: max(EXAMPLES_PER_REASON - len(kept), 0)])
        return out

    def drop(self, rule: str, frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> pd.DataFrame:
        """Remove the rows where `mask` holds, recording the count and a few examples."""
        mask = pd.Series(np.asarray(mask, dtype=bool), index=frame.index)
        count = int(mask.sum())
        if count:
            self.dropped[rule] = self.dropped.get(rule, 0) + count
            self.examples[rule] = value_examples(frame, mask, RULE_COLUMNS.get(rule), EXAMPLE_CONTEXT)
        return frame.loc[~mask]

    def count_read(self, source: SourceFrame) -> None:
        """Start the report from the rows the adapter read, with the ones it rejected and why."""
        self.rows_in = source.rows_read or self.rows_parsed
        self.rejected = dict(source.rejected)
        self.rejected_examples = {k: list(v) for k, v in source.rejected_examples.items()}

    def unaccounted(self) -> int:
        """Rows read that are neither kept nor counted under a reason: zero when the report is whole."""
        return self.rows_in - self.rows_out - sum(self.rejected.values()) - sum(self.dropped.values())

    def unreadable(self) -> int:
        """Rows the adapter rejected for a value it could not read (what --max-rejected limits)."""
        return sum(n for reason, n in self.rejected.items() if reason in UNREADABLE)

    def reasons(self) -> list[dict[str, Any]]:
        """Every reason a row was not used, adapter rejections first, with its column and examples."""
        out = []
        for reason, count in self.rejected.items():
            examples = self.rejected_examples.get(reason, [])
            out.append({"reason": reason, "stage": "read", "rows": count, "unreadable": reason in UNREADABLE,
                        "what": ADAPTER_REASONS.get(reason, ""),
                        "column": examples[0]["column"] if examples else None, "examples": examples})
        for rule, count in self.dropped.items():
            out.append({"reason": rule, "stage": "clean", "rows": count, "unreadable": False,
                        "what": RULES.get(rule, ""), "column": RULE_COLUMNS.get(rule),
                        "examples": self.examples.get(rule, [])})
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the MLflow artifact."""
        return {
            "source": self.source,
            "rows_in": self.rows_in,
            "rows_rejected_by_adapter": sum(self.rejected.values()),
            "rows_parsed": self.rows_parsed,
            "rows_dropped_by_cleaning": sum(self.dropped.values()),
            "rows_out": self.rows_out,
            "rows_unreadable": self.unreadable(),
            "reasons": self.reasons(),
        }

    def to_text(self) -> str:
        """A short human-readable summary for the console, one example per reason."""
        unused = self.rows_in - self.rows_out
        share = f" ({unused / self.rows_in:.1%})" if self.rows_in else ""
        lines = [f"cleaning report for {self.source}: {self.rows_in} rows read, {self.rows_out} rows out, "
                 f"{unused}{share} not used:"]
        for entry in self.reasons():
            verb = "rejected" if entry["stage"] == "read" else "dropped"
            lines.append(f"  {verb} {entry['rows']:>7} by {entry['reason']}: {entry['what']}")
            if entry["examples"]:
                lines.append(f"          e.g. {describe_example(entry['examples'][0])}")
        return "\n".join(lines)

    def check_usable(self, max_rejected: float) -> None:
        """Refuse data with more unreadable values than `max_rejected` of the rows read, or no row left."""
        if not 0 <= max_rejected <= 1:
            raise ValueError(f"max_rejected must be between 0 and 1, got {max_rejected}")
        unreadable = self.unreadable()
        worst = max((e for e in self.reasons() if e["unreadable"]), key=lambda e: e["rows"], default=None)
        share = unreadable / self.rows_in if self.rows_in else 0.0
        if worst is not None and share > max_rejected:
            raise TooManyRejected(
                f"{unreadable} of {self.rows_in} rows read ({share:.1%}) have a value the {self.source} "
                f"adapter cannot read, more than --max-rejected {max_rejected:.1%}: "
                f"{_what_went_wrong(worst, self.rows_in)}",
                self,
            )
        if self.rows_out == 0:
            top = max(self.reasons(), key=lambda e: e["rows"], default=None)
            why = _what_went_wrong(top, self.rows_in) if top else "the file has no rows"
            raise TooManyRejected(f"no usable rows: all {self.rows_in} rows read were rejected; {why}", self)


def describe_example(example: dict[str, Any]) -> str:
    """One example as `column='value' (row n, title ...)`, for messages and the console."""
    context = ", ".join(f"{k} {example[k]!r}" for k in EXAMPLE_CONTEXT if example.get(k) is not None)
    where = f"row {example['row']}" + (f", {context}" if context else "")
    if example.get("column") is None:  # a rule about the whole row, e.g. a repeat
        return where
    return f"{example['column']}={example.get('value')!r} ({where})"


def _what_went_wrong(entry: dict[str, Any], rows_in: int) -> str:
    """The biggest reason in words: every value of a column unreadable, or how many, with an example."""
    column = entry["column"] or "row"
    example = f", e.g. {describe_example(entry['examples'][0])}" if entry["examples"] else ""
    if entry["rows"] == rows_in:
        return f"every {column} value is unusable ({entry['reason']}: {entry['what']}){example}"
    return f"{entry['rows']} rows by {entry['reason']} in column {column} ({entry['what']}){example}"


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
    report = CleaningReport(source=source, rows_in=len(frame), rows_parsed=len(frame))
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


def clean_source(source: SourceFrame) -> tuple[pd.DataFrame, CleaningReport]:
    """Clean an adapter's output, the report starting from the rows read and examples naming file rows."""
    frame = source.frame
    if source.kept_rows is not None:  # index by position in the file, so examples name the file's row
        frame = frame.set_axis(pd.Index(source.kept_rows), axis=0)
    cleaned, report = clean(frame, source.source)
    report.count_read(source)
    return cleaned, report


def _duplicated(frame: pd.DataFrame) -> pd.Series:
    """Every repeat of an earlier identical row (list columns compared by their contents)."""
    hashable = frame.astype(object).map(lambda v: tuple(v) if isinstance(v, list) else v)
    return hashable.astype(str).duplicated()
