"""Train/evaluation splits that make runs comparable: temporal when the data has years, else seeded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.sources.base import TARGET


@dataclass
class Split:
    """The two frames, how they were cut, and a digest that identifies the evaluation set."""

    train: pd.DataFrame
    evaluation: pd.DataFrame
    kind: str
    description: str
    digest: str


def frame_digest(frame: pd.DataFrame) -> str:
    """A stable content hash of a frame, so two runs can prove they used the same evaluation rows."""
    hashed = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def split_frame(
    frame: pd.DataFrame, *, seed: int = 42, test_size: float = 0.2, temporal: bool = True
) -> Split:
    """Evaluate on the latest work year when there are at least two years, else on a seeded random fifth."""
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    years = pd.to_numeric(frame.get("work_year"), errors="coerce") if "work_year" in frame else None
    if temporal and years is not None and years.nunique() >= 2:
        latest = int(years.max())
        is_eval = (years == latest).to_numpy()
        kind, description = "temporal", f"train on work_year < {latest}, evaluate on {latest}"
    else:
        rng = np.random.default_rng(seed)
        is_eval = rng.random(len(frame)) < test_size
        kind, description = "random", f"seeded random split, seed={seed}, test_size={test_size}"
    train = frame.loc[~is_eval].reset_index(drop=True)
    evaluation = frame.loc[is_eval].reset_index(drop=True)
    if train.empty or evaluation.empty:
        raise ValueError(f"split left an empty side ({len(train)} train, {len(evaluation)} eval rows)")
    return Split(train, evaluation, kind, description, frame_digest(evaluation[[TARGET, *sorted(
        c for c in evaluation.columns if c != TARGET)]]))
