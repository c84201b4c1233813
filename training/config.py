"""The typed configuration of a training run, in its own module so train, tune and tuned_params share it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models import registry
from models.quantile import QUANTILES
from training.cleaning import DEFAULT_MAX_REJECTED

# LightGBM's names for its master seed; when `params` sets one, the run's seed does not override it.
LIGHTGBM_SEED_KEYS = ("seed", "random_seed", "random_state")


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one, else all), at least one."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)


@dataclass
class TrainConfig:
    """Everything a training run depends on; logged as the run's parameters."""

    source: str = "demo"
    data: Path | None = None
    # Seeds every random choice: a random evaluation split, a random calibration fold and LightGBM's
    # bagging and feature sampling (unless `params` sets LightGBM's own `seed`); see training/splits.py.
    seed: int = 42
    test_size: float = 0.2
    temporal: bool = True
    num_boost_round: int = 400
    params: dict[str, Any] = field(default_factory=dict)
    quantiles: tuple[float, ...] = QUANTILES
    min_count: int = 5
    register: bool = True
    tracking_uri: str | None = None
    experiment: str = registry.EXPERIMENT
    model_kind: str = "lightgbm"  # or a baseline: global_median, group_median, ridge
    tuned_params: Path | None = None  # JSON written by `salary tune`; default: beside the tracking store
    # Stop when more than this share of the rows read has a value the adapter cannot read.
    max_rejected: float = DEFAULT_MAX_REJECTED
    num_threads: int | None = None  # LightGBM threads; None: the cores available (params' num_threads wins)
    augment_copies: int = 3  # partial copies of each training row (training/augment.py); 0: none
    centers: bool = True  # a dedicated center per common kind of call (models/centers.py); needs copies
    refit_all: bool = True  # after the backtest, fit the registered model on every cleaned row
    baselines: bool = True  # log the global- and group-median baselines beside the run, same evaluation set

    def threads(self) -> int:
        """LightGBM's thread count: params' `num_threads`, else this config's, else the cores available."""
        explicit = self.params.get("num_threads") or self.num_threads
        return int(explicit) if explicit else available_cores()

    def lightgbm_params(self) -> dict[str, Any]:
        """`params` with the run's thread count, and its seed as LightGBM's unless `params` name one."""
        seed = {} if any(key in self.params for key in LIGHTGBM_SEED_KEYS) else {"seed": self.seed}
        return {**seed, **self.params, "num_threads": self.threads()}
