"""Real server processes (`mlflow server`, an S3-compatible store), a small demo dataset, a Dask cluster."""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from distributed import Client
from mlflow_process import MlflowServer
from s3_process import UNSET, MotoServer

from models import registry
from models.bundle import SalaryModel
from training.cluster import connect
from training.sources.demo import write_demo, write_demo_parquet

S3_MODULES = {"s3fs": "s3fs", "moto": "moto[server]", "flask": "moto[server]"}  # module: package


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


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 demo rows as three Parquet partitions, as `salary data demo --format parquet` writes them."""
    folder = tmp_path_factory.mktemp("parts")
    write_demo_parquet(folder, 3000, seed=5, partition_rows=1000)
    return folder


@pytest.fixture(scope="module")
def cluster() -> Iterator[Client]:
    """A LocalCluster of two worker processes, shared by the tests of a module."""
    with connect("local", workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def cluster_address(cluster: Client) -> str:
    """The scheduler address of the module's cluster, as `--cluster ADDRESS` takes it."""
    return str(cluster.scheduler_info()["address"])


@pytest.fixture(scope="module")
def bundle_dir(demo_bundle: SalaryModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's demo bundle saved as a folder, as `--model PATH` loads it."""
    return demo_bundle.save(tmp_path_factory.mktemp("model") / "bundle")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One S3-compatible server (moto) for the session, started by the first test that needs it.

    In CI the absence of its packages fails the tests (they are dev dependencies); elsewhere it skips them.
    """
    missing = sorted({name for module, name in S3_MODULES.items() if not importlib.util.find_spec(module)})
    if missing:
        why = f"needs {' and '.join(missing)} for the object storage tests (pip install -e '.[dev]')"
        if os.environ.get("CI"):
            pytest.fail(f"{why}, and CI must run them")
        pytest.skip(why)
    with MotoServer(tmp_path_factory.mktemp("s3-server")).running() as server:
        yield server


@pytest.fixture(scope="module")
def s3_settings(s3_server: MotoServer) -> Iterator[dict[str, str]]:
    """The S3 server's endpoint and dummy credentials in the environment for the rest of a module.

    Processes started meanwhile (a LocalCluster's workers) inherit them; s3fs's cached filesystems are
    dropped on both sides, so none points at another endpoint.
    """
    from s3fs import S3FileSystem

    settings = s3_server.settings()
    with pytest.MonkeyPatch.context() as patch:
        for name in UNSET:
            patch.delenv(name, raising=False)
        for name, value in settings.items():
            patch.setenv(name, value)
        S3FileSystem.clear_instance_cache()
        yield settings
    S3FileSystem.clear_instance_cache()


@pytest.fixture()
def s3_root(s3_settings: dict[str, str]) -> Iterator[str]:
    """A fresh bucket on the S3 server, as s3://NAME, removed afterwards."""
    bucket = f"jobs-{uuid.uuid4().hex[:12]}"
    fs = fsspec.filesystem("s3")
    fs.mkdir(bucket)
    yield f"s3://{bucket}"
    fs.rm(bucket, recursive=True)
