"""Hot reload against a real registry: bad versions never serve, and a moving alias drops no request."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import mlflow
import pytest
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient
from serve_process import salary_serve, wait_for

from models import registry
from serving.app import create_app
from serving.settings import Settings
from training.sources.demo import write_demo
from training.train import TrainConfig, train

RECORD = {"title": "Senior Data Scientist", "location": "Austin, TX", "years_experience": 4}


@pytest.fixture(scope="module")
def registry_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local store with two registered versions (one training run, to keep it fast); 1 is champion."""
    root = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        csv = write_demo(root / "demo.csv", n=1200, seed=5)
        trained = train(TrainConfig(source="demo", data=csv, num_boost_round=25, tracking_uri=uri))
        mlflow.register_model(trained.model_uri, registry.MODEL_NAME)  # version 2: the same run again
        yield uri


@pytest.fixture()
def move_alias(registry_store: str) -> Iterator[Callable[[str], None]]:
    """Point the champion alias at a version; it is back on version 1 after the test."""
    registry.configure(registry_store)
    client = MlflowClient()

    def move(version: str) -> None:
        client.set_registered_model_alias(registry.MODEL_NAME, registry.CHAMPION, version)

    yield move
    move("1")


def test_a_version_that_fails_to_load_never_replaces_the_served_one(
    registry_store: str,
    move_alias: Callable[[str], None],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    broken = MlflowClient().create_model_version(registry.MODEL_NAME, source=str(empty))
    settings = Settings(tracking_uri=registry_store, reload_interval_s=0.1)
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/model").json()["version"] == "1"
        move_alias(str(broken.version))
        wait_for(
            lambda: "salary_model_reload_failures_total 0.0" not in client.get("/metrics").text, "a failure"
        )
        response = client.post("/v1/estimates", json=RECORD)
        assert response.status_code == 200
        assert response.json()["model"]["version"] == "1"
        assert client.get("/readyz").json()["model_version"] == "1"
        assert f"could not load {registry.alias_uri()} (serving version 1)" in caplog.text
        move_alias("2")
        wait_for(lambda: client.get("/readyz").json()["model_version"] == "2", "version 2")
        model = client.get("/v1/model").json()
    assert model["training"]["source"] == "demo"
    assert model["training"]["rows_train"] > 0
    assert model["metrics"]["mae"] > 0


def test_reloads_are_logged_with_the_target_version_and_the_exception_type(
    registry_store: str,
    move_alias: Callable[[str], None],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{registry.MODEL_NAME}/1"))
    copy = tmp_path / "model"
    shutil.copytree(good, copy)
    center = next(copy.rglob("center.txt"))
    center.write_bytes(center.read_bytes()[:100])  # a truncated booster: the checksum refuses it
    truncated = MlflowClient().create_model_version(registry.MODEL_NAME, source=str(copy)).version
    settings = Settings(tracking_uri=registry_store, reload_interval_s=0.1)
    with caplog.at_level(logging.INFO, logger="serving"), TestClient(create_app(settings)) as client:
        move_alias(str(truncated))
        wait_for(lambda: f"loading version {truncated} failed" in caplog.text, "the failure to be logged")
        move_alias("2")
        wait_for(lambda: client.get("/readyz").json()["model_version"] == "2", "version 2")
    assert f"(serving version 1): loading version {truncated} failed with ValueError" in caplog.text
    assert "now serving version 2 (salary-estimator" in caplog.text


@pytest.fixture()
def server(registry_store: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    """`salary serve` (two uvicorn workers) on a free port, following the champion alias every 0.5 s."""
    env = {
        **os.environ,
        "SALARY_TRACKING_URI": registry_store,
        "SALARY_MODEL_URI": registry.alias_uri(),
        "SALARY_RELOAD_INTERVAL_S": "0.5",
    }
    log = tmp_path / "server.log"
    with salary_serve(["--workers", "2"], env, log) as (base, process):
        yield base, process, log


@pytest.mark.slow
def test_moving_the_alias_under_load_fails_no_request(
    server: tuple[str, subprocess.Popen[str], Path], move_alias: Callable[[str], None]
) -> None:
    base, process, log = server
    stop = threading.Event()
    answers: list[tuple[int, str | None]] = []
    errors: list[BaseException] = []

    def hammer() -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            while not stop.is_set():
                try:
                    response = http.post("/v1/estimates", json=RECORD)
                    version = response.json()["model"]["version"] if response.status_code == 200 else None
                    answers.append((response.status_code, version))
                except Exception as exc:  # any transport error is a failed request
                    errors.append(exc)

    def seen_since(start: int, version: str) -> bool:
        return any(v == version for _, v in answers[start:])

    with ThreadPoolExecutor(4) as pool:
        for _ in range(4):
            pool.submit(hammer)
        try:
            wait_for(lambda: seen_since(0, "1"), "answers from version 1")
            move_alias("2")
            wait_for(lambda: seen_since(0, "2"), "answers from version 2")
            mark = len(answers)
            move_alias("1")
            wait_for(lambda: seen_since(mark, "1"), "answers from version 1 again")
        finally:
            stop.set()

    assert not errors
    assert {status for status, _ in answers} == {200}
    assert {version for _, version in answers} == {"1", "2"}
    # /metrics adds up both workers: every estimate answered is counted, whichever worker answered it.
    metrics = httpx.get(f"{base}/metrics").text.splitlines()
    counted = [float(line.split()[-1]) for line in metrics if line.startswith("salary_estimates_total{")]
    assert sum(counted) == len(answers)
    assert "salary_model_reload_failures_total 0.0" in metrics
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    assert process.returncode == 0
    assert "Traceback" not in log.read_text()
