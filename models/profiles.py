"""Which parts of a job a record stated, read off its feature row: the key of its calibration group.

A range must keep its promise for every kind of call, and a title alone leaves more unsaid than a full
survey row, so the conformal shifts are measured per pattern of stated parts (Mondrian conformal).
A pattern with too few calibration rows borrows the shifts of a coarser one: the parts in `COARSEN`
are forgotten one at a time, least telling first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from features.pipeline import EMPLOYEES, LEVEL_RANK, SKILL_PREFIX, TITLE_PREFIX

PARTS: dict[str, tuple[str, ...]] = {
    "role": ("role",),
    "location": ("country",),
    "experience": ("seniority_rank", "years_experience", "experience_level", LEVEL_RANK),
    "skills": (),  # every skill column; missing together when no skills are listed
    "details": (
        "employment_type",
        "remote_ratio",
        "company_size_rank",
        "industry",
        "education",
        EMPLOYEES,
    ),
}
BITS = {part: 1 << i for i, part in enumerate(PARTS)}
COARSEN = ("details", "skills", "experience", "location", "role")


def masks() -> list[int]:
    """Bit masks from the full pattern to none, forgetting the parts of COARSEN in order."""
    mask = sum(BITS.values())
    out = [mask]
    for part in COARSEN:
        mask &= ~BITS[part]
        out.append(mask)
    return out


def _stating(
    feature_names: Sequence[str], bits: dict[str, int], named: dict[str, tuple[str, ...]]
) -> dict[int, list[int]]:
    """For each bit, the feature columns that state its part: skills and title words by prefix."""
    prefixes = {"skills": SKILL_PREFIX, "title_words": TITLE_PREFIX}
    out: dict[int, list[int]] = {}
    for name, bit in bits.items():
        if name in prefixes:
            cols = [i for i, n in enumerate(feature_names) if n.startswith(prefixes[name])]
        else:
            cols = [i for i, n in enumerate(feature_names) if n in named[name]]
        if cols:
            out[bit] = cols
    return out


def profile_columns(feature_names: Sequence[str]) -> dict[int, list[int]]:
    """For each part's bit, the feature columns that state it (computed once per model)."""
    return _stating(feature_names, BITS, PARTS)


def profile_keys(X: np.ndarray, columns: dict[int, list[int]]) -> np.ndarray:
    """One integer per row: a bit for each part with at least one stated (non-missing) column."""
    keys = np.zeros(len(X), dtype=np.int64)
    for bit, cols in columns.items():
        stated = ~np.isnan(X[:, cols]).all(axis=1)
        keys |= np.where(stated, bit, 0)
    return keys


# Finer than a pattern: which columns state each part, so a center fitted on one kind of call answers
# only rows stated the same way (a seniority read off the title is not a level the client sent). Each
# detail has a bit of its own: a center fitted on complete rows never saw a company size without an
# employment type, and answered such a call as if the type were the rarest one (aijobs: P50 $135k
# against $203k with the type and $203k without any detail).
ROUTE_BITS: dict[str, int] = {
    name: 1 << i
    for i, name in enumerate(
        ("role", "title_words", "location", "seniority", "years", "level", "skills", *PARTS["details"])
    )
}
ROUTE_COLUMNS: dict[str, tuple[str, ...]] = {
    "role": ("role",),
    "location": ("country",),
    "seniority": ("seniority_rank",),
    "years": ("years_experience",),
    "level": ("experience_level", LEVEL_RANK),
    **{detail: (detail,) for detail in PARTS["details"]},
}
# A center fitted on calls that state a part answers only rows that state it, by any of these columns.
PART_ROUTES: dict[str, int] = {
    "role": ROUTE_BITS["role"] | ROUTE_BITS["title_words"],
    "location": ROUTE_BITS["location"],
    "experience": ROUTE_BITS["seniority"] | ROUTE_BITS["years"] | ROUTE_BITS["level"],
    "skills": ROUTE_BITS["skills"],
    "details": sum(ROUTE_BITS[detail] for detail in PARTS["details"]),
}
ROUTES = 1 << len(ROUTE_BITS)


def route_columns(feature_names: Sequence[str]) -> dict[int, list[int]]:
    """For each route bit, the feature columns that state it (computed once per model)."""
    return _stating(feature_names, ROUTE_BITS, ROUTE_COLUMNS)


@dataclass(frozen=True)
class RouteIndex:
    """The route columns laid out flat, so one row's key costs a handful of array operations."""

    columns: np.ndarray  # every route column, group after group
    starts: np.ndarray  # where each group starts in `columns`
    bits: np.ndarray  # each group's bit
    words: np.ndarray  # which of `columns` are title words (stated when present, not when non-missing)


def route_index(columns: dict[int, list[int]]) -> RouteIndex:
    """The flat layout of a model's route columns (computed once per model and process)."""
    groups = [(bit, cols) for bit, cols in columns.items() if cols]
    flat = [c for _, cols in groups for c in cols]
    sizes = [len(cols) for _, cols in groups]
    words = [bit == ROUTE_BITS["title_words"] for bit, cols in groups for _ in cols]
    return RouteIndex(
        columns=np.asarray(flat, dtype=np.intp),
        starts=np.cumsum([0, *sizes[:-1]]).astype(np.intp),
        bits=np.asarray([bit for bit, _ in groups], dtype=np.int64),
        words=np.asarray(words, dtype=bool),
    )


def route_keys(X: np.ndarray, index: RouteIndex) -> np.ndarray:
    """One integer per row: a bit per route column group that is stated (title words: any word present)."""
    if not len(index.columns):
        return np.zeros(len(X), dtype=np.int64)
    values = X[:, index.columns]
    stated = np.where(index.words, np.nan_to_num(values) != 0, ~np.isnan(values))
    keys: np.ndarray = np.logical_or.reduceat(stated, index.starts, axis=1).astype(np.int64) @ index.bits
    return keys


def states(keys: np.ndarray, parts: Sequence[str]) -> np.ndarray:
    """Which route keys state every one of `parts` (names of PARTS) by at least one of its columns."""
    ok = np.ones(len(keys), dtype=bool)
    for part in parts:
        ok &= (keys & PART_ROUTES[part]) != 0
    return ok
