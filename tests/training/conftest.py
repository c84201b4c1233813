"""A real `mlflow server` process for the registry and retraining tests, and a small demo dataset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow_process import MlflowServer

from models import registry
from training.sources.demo import write_demo


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """One server per test module, stopped at its end; tests may stop and restart it."""
    with MlflowServer(tmp_path_factory.mktemp("mlflow-server")).running() as server:
        yield server


@pytest.fixture()
def server_store(
    mlflow_server: MlflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Point MLFLOW_TRACKING_URI at the module's server, from a clean working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    registry.configure()
    return mlflow_server.uri


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic dataset on disk, as `salary retrain --data` reads it."""
    return write_demo(tmp_path_factory.mktemp("data") / "demo.csv", n=1500, seed=5)


@pytest.fixture(scope="session")
def two_model_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A local store with a LightGBM champion (v1) and a group-median challenger (v2) on the same data."""
    from training import promote
    from training.train import TrainConfig, train

    root = tmp_path_factory.mktemp("two-model-store")
    data = write_demo(root / "demo.csv", n=1500, seed=5)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        for kind in ("lightgbm", "group_median"):
            train(TrainConfig(data=data, num_boost_round=20, params={"num_threads": 1}, model_kind=kind))
        promote.move_alias(registry.CHALLENGER, "2", "baseline for comparison")
    yield root


@pytest.fixture()
def in_two_model_store(two_model_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run a test from the two-model store, as a user who trained there would."""
    monkeypatch.chdir(two_model_store)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{two_model_store / 'mlflow.db'}")
    registry.configure()  # an earlier test may have left MLflow pointing at another store
    return two_model_store
