"""A frame of records read one distinct field value at a time, with the answers `interpret` gives per row.

`interpret` reads a record's fields in independent parts: the title with the experience level, the
skills, the years, the place with the remote ratio, the company size with its headcount, and so on.
Each part depends on its own fields only, so a frame is read by calling `interpret` once per distinct
value of each part and assembling the rows from the parts. Where values repeat (a few thousand titles,
a few hundred places) this is a fraction of reading every distinct record. A description feeds the
level, the skills and the years at once, and stands in for a missing title and place, so frames with
descriptions read those fields as one part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.interpret import Interpretation, interpret
from features.pipeline import JobFeatures

SKILL_SEPARATOR = ";"  # skills in a CSV cell, as `salary data demo` writes them


@dataclass(frozen=True)
class Part:
    """Record fields read together, and the Interpretation attributes that depend on them alone."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


TITLE = Part(
    ("title", "experience_level"),
    ("role", "role_soc", "seniority", "experience_level", "title_tokens", "role_score", "role_group",
     "seniority_source"),
)
PLACE = Part(("location", "country", "region", "city", "remote_ratio"),
             ("country", "region", "city", "metro", "remote", "remote_ratio"))
DETAILS = (
    Part(("company_size", "company_employees"), ("company_size", "company_employees")),
    Part(("employment_type",), ("employment_type",)),
    Part(("work_year",), ("work_year",)),
    Part(("industry",), ("industry",)),
    Part(("education",), ("education",)),
)
# Warnings are joined in part order, which is the order `interpret` writes them in.
PARTS = (TITLE, Part(("skills",), ("skills",)), Part(("years_experience",), ("years_experience",)), PLACE,
         *DETAILS)
# A description also stands in for a missing title and place (features/posting.py), so it is read with them.
WITH_DESCRIPTION = (
    Part((*TITLE.inputs, "description", "skills", "years_experience", *PLACE.inputs),
         (*TITLE.outputs, "skills", "years_experience", *PLACE.outputs)),
    *DETAILS,
)


@dataclass
class FrameReading:
    """Each row's distinct record, and each distinct record's part readings."""

    rows: np.ndarray  # per input row: index of its distinct record
    parts: tuple[Part, ...]
    codes: list[np.ndarray]  # per part, per distinct record: index into that part's readings
    readings: list[list[Interpretation]]  # per part, one per distinct value of its fields
    notes: list[list[tuple[str, ...]]]  # per part, per reading: the warnings that part owns

    def __len__(self) -> int:
        """The number of distinct records."""
        return len(self.codes[0]) if self.codes else 0

    def warnings(self, record: int) -> list[str]:
        """A distinct record's warnings, in the order `interpret` gives them."""
        return [w for notes, codes in zip(self.notes, self.codes, strict=True) for w in notes[codes[record]]]

    def assemble(self, record: int, attributes: tuple[str, ...]) -> Interpretation:
        """A distinct record's Interpretation holding the named attributes (the others at their defaults)."""
        values: dict[str, Any] = {}
        for part, readings, codes in zip(self.parts, self.readings, self.codes, strict=True):
            own = [a for a in attributes if a in part.outputs]
            if own:
                reading = readings[codes[record]]
                values.update((a, getattr(reading, a)) for a in own)
        return Interpretation(**values)


def _skills(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [s for s in value.split(SKILL_SEPARATOR) if s]
    if isinstance(value, list | tuple | np.ndarray):
        return [str(s) for s in value if s is not None]
    return None


def _plain(value: Any) -> Any:
    """A cell as a record holds it: missing as None, skills as a list."""
    if isinstance(value, list | tuple | np.ndarray):
        return value
    return None if pd.isna(value) else value


def combine(codes: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each of `n` rows' index into the distinct combinations of its codes, and one row of each."""
    combined = np.zeros(n, dtype=np.int64)
    for column in codes:
        combined = combined * (int(column.max()) + 1 if len(column) else 1) + column
        combined, _ = pd.factorize(combined)  # renumber, so the product never overflows
    if not len(combined):
        return combined, combined
    # factorize numbers in order of first appearance: a row whose code beats every earlier one is new
    seen = np.maximum.accumulate(combined)
    return combined, np.flatnonzero(np.r_[True, combined[1:] > seen[:-1]])


def _codes(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's index into the distinct value combinations of `columns`, and one row of each."""
    codes = []
    for name in columns:
        values = frame[name]
        if name == "skills" and values.dtype == object:  # lists are not hashable: compare joined text
            values = values.map(
                lambda v: SKILL_SEPARATOR.join(map(str, v)) if isinstance(v, list | tuple | np.ndarray) else v
            )
        codes.append(pd.factorize(values, use_na_sentinel=False)[0].astype(np.int64))
    return combine(codes, len(frame))


def read_frame(frame: pd.DataFrame) -> FrameReading:
    """Read a frame of JobRecord columns part by part, each distinct value of a part once."""
    text = frame["description"].dropna() if "description" in frame.columns else pd.Series()
    has_text = bool(text.map(lambda v: bool(str(v).strip())).any()) if len(text) else False
    parts = WITH_DESCRIPTION if has_text else PARTS
    per_row: list[np.ndarray] = []
    readings: list[list[Interpretation]] = []
    for part in parts:
        columns = [c for c in part.inputs if c in frame.columns]
        codes, first = _codes(frame, columns)
        records = [{c: _plain(frame[c].iloc[i]) for c in columns} for i in first]
        for record in records:
            if "skills" in record:
                record["skills"] = _skills(record["skills"])
        per_row.append(codes)
        readings.append([interpret(r) for r in records])
    rows, first = combine(per_row, len(frame))
    # A part read without a title says so ("no title given"): only the title's part owns that warning.
    untitled = set(interpret({}).warnings)
    notes = [
        [tuple(w for w in r.warnings if "title" in part.inputs or w not in untitled) for r in part_readings]
        for part, part_readings in zip(parts, readings, strict=True)
    ]
    return FrameReading(rows, parts, [c[first] for c in per_row], readings, notes)


def matrix(features: JobFeatures, reading: FrameReading) -> np.ndarray:
    """The feature matrix of the distinct records, each part's columns taken from its own readings."""
    out = np.full((len(reading), len(features.feature_names_)), np.nan)
    filled = 0
    for part, readings, codes in zip(reading.parts, reading.readings, reading.codes, strict=True):
        columns = features.columns_of(part.outputs)
        if columns:
            out[:, columns] = features.transform_interpretations(readings)[:, columns][codes]
            filled += len(columns)
    if filled != out.shape[1]:
        raise ValueError(f"the parts fill {filled} of {out.shape[1]} feature columns; expected each once")
    return out
