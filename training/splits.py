"""Train/evaluation splits that make runs comparable: temporal when the data has years, else seeded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.sources.base import TARGET

MIN_LATEST_YEAR_SHARE = 0.10  # a temporal evaluation set smaller than this is too noisy to compare


@dataclass
class Split:
    """The two frames, how they were cut, and a digest that identifies the evaluation set."""

    train: pd.DataFrame
    evaluation: pd.DataFrame
    kind: str
    description: str
    digest: str


def frame_digest(frame: pd.DataFrame) -> str:
    """A stable content hash of a frame, so two runs can prove they used the same rows."""
    ordered = frame[[c for c in (TARGET, *sorted(c for c in frame.columns if c != TARGET))
                     if c in frame.columns]]
    hashed = pd.util.hash_pandas_object(ordered.astype(str), index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def _temporal_mask(frame: pd.DataFrame) -> tuple[np.ndarray | None, str]:
    """Rows of the latest year, or None with the reason a temporal split is not sound here."""
    if "work_year" not in frame.columns:
        return None, "no work_year column"
    years = pd.to_numeric(frame["work_year"], errors="coerce")
    if years.nunique() < 2:
        return None, "fewer than two work years"
    latest = int(years.max())
    is_latest = (years == latest).to_numpy()
    share = float(is_latest.mean())
    if share < MIN_LATEST_YEAR_SHARE:
        return None, f"latest year {latest} holds {share:.1%} of rows (< {MIN_LATEST_YEAR_SHARE:.0%})"
    if years.isna().any():
        return None, f"{int(years.isna().sum())} rows have no work_year"
    return is_latest, f"train on work_year < {latest}, evaluate on {latest} ({share:.1%} of rows)"


def split_frame(
    frame: pd.DataFrame, *, seed: int = 42, test_size: float = 0.2, temporal: bool = True
) -> Split:
    """Evaluate on the latest year when it holds a fair share of rows, else on a seeded sample."""
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    is_eval, why = _temporal_mask(frame) if temporal else (None, "random split requested")
    if is_eval is not None:
        kind, description = "temporal", why
    else:
        rng = np.random.default_rng(seed)
        is_eval = rng.random(len(frame)) < test_size
        kind = "random"
        description = f"seeded random split, seed={seed}, test_size={test_size} ({why})"
    train = frame.loc[~is_eval].reset_index(drop=True)
    evaluation = frame.loc[is_eval].reset_index(drop=True)
    if train.empty or evaluation.empty:
        raise ValueError(
            f"split left an empty side ({len(train)} train, {len(evaluation)} eval rows); "
            f"expected at least one row on each side"
        )
    return Split(train, evaluation, kind, description, frame_digest(evaluation))
