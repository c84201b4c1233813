"""Fixtures shared by every test tier: demo data, a small trained bundle, an isolated MLflow store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from models.baselines import BASELINES
from models.bundle import SalaryModel
from training.sources.demo import generate_demo
from training.train import TrainConfig, fit_bundle


@pytest.fixture(scope="session")
def demo_frame() -> pd.DataFrame:
    """A few thousand synthetic records with the planted effects."""
    return generate_demo(n=3000, seed=11)


@pytest.fixture(scope="session")
def small_config() -> TrainConfig:
    """Settings small enough to train in seconds on two cores."""
    return TrainConfig(num_boost_round=120, params={"num_threads": 1})


@pytest.fixture(scope="session")
def demo_bundle(demo_frame: pd.DataFrame, small_config: TrainConfig) -> SalaryModel:
    """A bundle trained once per session on the demo data."""
    return fit_bundle(demo_frame, small_config)


@pytest.fixture(scope="session")
def baseline_bundles(demo_frame: pd.DataFrame, small_config: TrainConfig) -> dict[str, SalaryModel]:
    """One bundle per baseline kind, fitted on the first 2,400 demo rows (the rest is for scoring)."""
    train = demo_frame.iloc[:2400]
    return {kind: fit_bundle(train, replace(small_config, model_kind=kind)) for kind in BASELINES}


@pytest.fixture()
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty local MLflow store in a temporary working directory, as a fresh clone would have."""
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    yield uri
