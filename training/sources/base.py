"""The adapter contract: one dataset's file in, JobRecord columns plus an annual USD salary out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pandas as pd

from features.schema import JOB_RECORD_FIELDS

TARGET = "salary_usd"
OPTIONAL_TARGET_COLUMNS = ("salary_min_usd", "salary_max_usd")


@dataclass
class SourceFrame:
    """An adapter's output: rows in JobRecord columns plus `salary_usd`, and what it had to reject."""

    source: str
    frame: pd.DataFrame
    path: str | None = None
    rows_read: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Source(ABC):
    """One adapter per dataset; it alone knows that dataset's quirks."""

    name: ClassVar[str]
    default_path: ClassVar[str | None] = None
    description: ClassVar[str] = ""

    @abstractmethod
    def read(self, path: Path | None = None) -> SourceFrame:
        """Read the dataset at `path` (or the adapter's default) into JobRecord columns."""


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a frame exactly the JobRecord columns plus targets, in a fixed order, missing as None/NaN."""
    out = frame.copy()
    for name in JOB_RECORD_FIELDS:
        if name not in out.columns:
            out[name] = None
    if TARGET not in out.columns:
        raise ValueError(f"adapter output has no {TARGET!r} column; got {sorted(out.columns)}")
    extra = [c for c in OPTIONAL_TARGET_COLUMNS if c in out.columns]
    return out[[*JOB_RECORD_FIELDS, TARGET, *extra]].reset_index(drop=True)
