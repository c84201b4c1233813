"""The adapter contract: one dataset's file in, JobRecord columns plus an annual USD salary out."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from features.schema import JOB_RECORD_FIELDS

TARGET = "salary_usd"
OPTIONAL_TARGET_COLUMNS = ("salary_min_usd", "salary_max_usd")
DATA_DIR_ENV = "SALARY_DATA_DIR"


def data_root() -> Path:
    """Where adapters look for their default files: $SALARY_DATA_DIR, else ./data."""
    return Path(os.environ.get(DATA_DIR_ENV) or "data")


@dataclass
class SourceFrame:
    """An adapter's output: JobRecord columns plus `salary_usd`, and what it had to reject."""

    source: str
    frame: pd.DataFrame
    path: str | None = None
    rows_read: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rejected_examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Positions in the file of the rows kept, so raw columns can be lined up with `frame`.
    kept_rows: list[int] | None = None


class Source(ABC):
    """One adapter per dataset; it alone knows that dataset's quirks."""

    name: ClassVar[str]
    default_path: ClassVar[str | None] = None
    description: ClassVar[str] = ""
    # Identical rows can be different people (aijobs has no respondent id); cleaning keeps them.
    identical_rows_are_distinct: ClassVar[bool] = True
    # The adapter compares rows with each other (e.g. drops a repeated case number), so a file it
    # reads cannot be split into parts read apart (training/dask_data.py).
    compares_rows: ClassVar[bool] = False
    # Part-time salaries are full-time equivalents (survey asked so, or a wage rate annualised).
    part_time_is_annualised: ClassVar[bool] = False

    def resolve_path(self, path: Path | None) -> Path:
        """The given path, or `default_path` under the data root ($SALARY_DATA_DIR, else ./data)."""
        if path is not None:
            return Path(path)
        if self.default_path is None:
            raise ValueError(f"source {self.name!r} has no default path; pass the file's path")
        return data_root() / self.default_path

    @abstractmethod
    def read(self, path: Path | None = None) -> SourceFrame:
        """Read the dataset at `path` (or the adapter's default) into JobRecord columns."""


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a frame exactly the JobRecord columns plus targets, in order, missing as None/NaN."""
    out = frame.copy()
    for name in JOB_RECORD_FIELDS:
        if name not in out.columns:
            out[name] = None
    if TARGET not in out.columns:
        raise ValueError(f"adapter output has no {TARGET!r} column; got {sorted(out.columns)}")
    extra = [c for c in OPTIONAL_TARGET_COLUMNS if c in out.columns]
    return out[[*JOB_RECORD_FIELDS, TARGET, *extra]].reset_index(drop=True)
