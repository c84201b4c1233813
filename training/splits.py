"""Train/evaluation splits that make runs comparable: temporal when the data has years, else seeded.

One rule picks both the evaluation set and, inside the training rows, the calibration fold: the newest
year when it is a fair share of the rows, else a seeded random sample (`hold_out`).

Every random choice of a run comes from the run's one seed, through independent streams: the
evaluation split draws from `SeedSequence(seed)` itself (the same numbers as `default_rng(seed)`
always drew, so evaluation sets and their digests are unchanged), the calibration fold and the
tuning validation slice from children of it (`spawn_key` 1 and 2). Before, all three drew from
`default_rng(seed)`, so a training row fell in the calibration fold exactly when the row at the same
position of the full frame had gone to evaluation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.quantile import MIN_CALIBRATION_ROWS
from training.sources.base import TARGET

MIN_LATEST_YEAR_SHARE = 0.10  # a temporal evaluation set smaller than this is too noisy to compare
CALIBRATION_SHARE = 0.2  # a random calibration fold takes this share of the training rows
CALIBRATION_MIN_SHARE = 0.10  # a newest-year fold holds 10-90% of the training rows...
CALIBRATION_MAX_SHARE = 0.90
# Which child of the run's SeedSequence each random choice draws from (None: the root itself).
STREAMS: dict[str, tuple[int, ...]] = {
    "evaluation": (),
    "calibration": (1,),
    "validation": (2,),
    "copies": (3,),  # which parts each partial training copy leaves out (training/augment.py)
    "centers": (4,),  # which five skills a dedicated center's rows keep (training/augment.py)
}
PARTITIONS = 7  # spawn-key level below a purpose for one partition of a cluster's data (partition_stream)


@dataclass
class Split:
    """The two frames, how they were cut, and a digest that identifies the evaluation set."""

    train: pd.DataFrame
    evaluation: pd.DataFrame
    kind: str
    description: str
    digest: str


@dataclass(frozen=True)
class Holdout:
    """Rows held out (evaluation set or calibration fold), whether they are the newest year, and how."""

    mask: np.ndarray
    temporal: bool
    description: str


def random_stream(seed: int, purpose: str) -> np.random.Generator:
    """The generator of one purpose (a key of STREAMS), independent of the other purposes' generators."""
    if purpose not in STREAMS:
        raise ValueError(f"random stream {purpose!r} is not one of {sorted(STREAMS)}")
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=STREAMS[purpose]))


def seeded_sample(n: int, fraction: float, seed: int, purpose: str, why: str) -> Holdout:
    """A seeded random `fraction` of `n` rows from the purpose's own stream, saying why it is random."""
    mask = random_stream(seed, purpose).random(n) < fraction
    return Holdout(mask, False, f"seeded random {fraction:.0%} of rows, seed={seed} ({why})")


def hold_out(years: np.ndarray | None, **rule: Any) -> Holdout:
    """The newest year if every row has one and it is a fair share, else a sample (`holdout_rule` options)."""
    values = None if years is None else np.asarray(years, dtype=float)
    return apply_rule(holdout_rule(YearCounts.of(values), **rule), values)


def apply_rule(rule: HoldoutRule, years: np.ndarray | None) -> Holdout:
    """The rows of a whole frame (one process) that a rule holds out: a sample from the purpose's stream."""
    n = 0 if years is None else len(years)
    if rule.newest is None or years is None:
        return seeded_sample(n, rule.fraction, rule.seed, rule.purpose, rule.why)
    return Holdout(years == rule.newest, True, rule.description)


@dataclass(frozen=True)
class YearCounts:
    """Rows per work year and rows without one: all a hold-out rule needs, and they add across partitions."""

    counts: dict[float, int]
    missing: int = 0

    @classmethod
    def of(cls, years: np.ndarray | None) -> YearCounts:
        """Count an array of years (NaN: missing)."""
        if years is None:
            return cls({}, 0)
        values = np.asarray(years, dtype=float)
        ok = np.isfinite(values)
        distinct, counts = np.unique(values[ok], return_counts=True)
        return cls(dict(zip(distinct.tolist(), counts.tolist(), strict=True)), int((~ok).sum()))

    def __add__(self, other: YearCounts) -> YearCounts:
        """Counts of both partitions together."""
        counts = dict(self.counts)
        for year, n in other.counts.items():
            counts[year] = counts.get(year, 0) + n
        return YearCounts(counts, self.missing + other.missing)

    @property
    def rows(self) -> int:
        """Every row counted, with a year or without."""
        return sum(self.counts.values()) + self.missing


@dataclass(frozen=True)
class HoldoutRule:
    """Which rows a hold-out takes, decided from counts, applied to any partition of the rows on its own.

    `newest` set: the rows of that year. Else a seeded random `fraction`; partition `i` of a cluster's data
    draws from its own child stream (`partition_stream`), so the rows differ from a one-process sample.
    """

    newest: float | None
    fraction: float
    seed: int
    purpose: str
    why: str  # why the newest year was not held out ('' when it was)
    description: str

    def mask(self, years: np.ndarray, partition: int) -> np.ndarray:
        """The rows of one partition that are held out."""
        if self.newest is not None:
            return np.asarray(years, dtype=float) == self.newest
        return partition_stream(self.seed, self.purpose, partition).random(len(years)) < self.fraction


def holdout_rule(
    years: YearCounts,
    *,
    fraction: float,
    seed: int,
    purpose: str,
    min_share: float = MIN_LATEST_YEAR_SHARE,
    max_share: float = 1.0,
    min_rows: int = 0,
) -> HoldoutRule:
    """The rule `hold_out` applies, from year counts: the newest year when a fair share, else a sample."""
    why = _why_not_newest_year(years, min_share, max_share, min_rows)
    if why:
        text = f"seeded random {fraction:.0%} of rows, seed={seed} ({why})"
        return HoldoutRule(None, fraction, seed, purpose, why, text)
    latest = max(years.counts)
    share = years.counts[latest] / years.rows
    description = f"newest work_year {int(latest)} ({share:.1%} of rows)"
    return HoldoutRule(latest, fraction, seed, purpose, "", description)


def partition_stream(seed: int, purpose: str, partition: int) -> np.random.Generator:
    """The generator of one purpose in one partition of a cluster's data, independent of the others."""
    random_stream(seed, purpose)  # refuses an unknown purpose
    key = (*STREAMS[purpose], PARTITIONS, partition)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _why_not_newest_year(years: YearCounts, min_share: float, max_share: float, min_rows: int) -> str:
    """Why the newest year cannot be held out, or '' when it can."""
    if not years.rows:
        return "no work_year"
    if years.missing:
        return f"{years.missing} rows have no work_year"
    if len(years.counts) < 2:
        return "fewer than two work years"
    latest = max(years.counts)
    rows = years.counts[latest]
    share = rows / years.rows
    if share < min_share:
        return f"latest year {int(latest)} holds {share:.1%} of rows (< {min_share:.0%})"
    if share > max_share:
        return f"latest year {int(latest)} holds {share:.1%} of rows (> {max_share:.0%})"
    if rows < min_rows:
        return f"latest year {int(latest)} has {rows} rows (< {min_rows})"
    return ""


def calibration_rule(years: YearCounts, seed: int) -> HoldoutRule:
    """The rule for the calibration fold: the newest year when it is a fair share, else 20%."""
    return holdout_rule(
        years,
        fraction=CALIBRATION_SHARE,
        seed=seed,
        purpose="calibration",
        min_share=CALIBRATION_MIN_SHARE,
        max_share=CALIBRATION_MAX_SHARE,
        min_rows=MIN_CALIBRATION_ROWS,
    )


def calibration_fold(years: np.ndarray | None, seed: int) -> Holdout:
    """The training rows that calibrate the range: the newest year when it is a fair share, else 20%."""
    values = None if years is None else np.asarray(years, dtype=float)
    return apply_rule(calibration_rule(YearCounts.of(values), seed), values)


def digest_bytes(frame: pd.DataFrame) -> bytes:
    """What `frame_digest` hashes for these rows; consecutive parts of a frame concatenate to the frame's."""
    ordered = frame[[c for c in (TARGET, *sorted(c for c in frame.columns if c != TARGET))
                     if c in frame.columns]]
    return bytes(pd.util.hash_pandas_object(ordered.astype(str), index=False).to_numpy().tobytes())


def digest_of(parts: Iterable[bytes]) -> str:
    """The digest of a frame from its parts' `digest_bytes`, in order, one part in memory at a time."""
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(part)
    return hashed.hexdigest()[:16]


def frame_digest(frame: pd.DataFrame) -> str:
    """A stable content hash of a frame, so two runs can prove they used the same rows."""
    return digest_of([digest_bytes(frame)])


def split_frame(
    frame: pd.DataFrame, *, seed: int = 42, test_size: float = 0.2, temporal: bool = True
) -> Split:
    """Evaluate on the latest year when it holds a fair share of rows, else on a seeded sample."""
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    if not temporal:
        held = seeded_sample(len(frame), test_size, seed, "evaluation", "random split requested")
    elif "work_year" not in frame.columns:
        held = seeded_sample(len(frame), test_size, seed, "evaluation", "no work_year column")
    else:
        years = pd.to_numeric(frame["work_year"], errors="coerce").to_numpy(dtype=float)
        held = hold_out(years, fraction=test_size, seed=seed, purpose="evaluation")
    is_eval = held.mask
    description = f"evaluate on {held.description}" + (", train on earlier years" if held.temporal else "")
    train = frame.loc[~is_eval].reset_index(drop=True)
    evaluation = frame.loc[is_eval].reset_index(drop=True)
    if train.empty or evaluation.empty:
        raise ValueError(
            f"split left an empty side ({len(train)} train, {len(evaluation)} eval rows); "
            f"expected at least one row on each side"
        )
    return Split(train, evaluation, "temporal" if held.temporal else "random", description,
                 frame_digest(evaluation))
