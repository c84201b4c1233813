"""The single-process training path refuses, up front and saying why, data that will not fit in memory."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from training import memory
from training.config import TrainConfig
from training.memory import NotEnoughMemory, available_memory, training_bytes
from training.train import fit_bundle, train

GiB = 2**30


def test_fit_refuses_when_the_machine_has_too_little_memory(
    demo_frame: pd.DataFrame, small_config: TrainConfig
) -> None:
    with pytest.raises(NotEnoughMemory) as refused:
        fit_bundle(demo_frame.iloc[:800], small_config, available=lambda: 2**20)
    message = str(refused.value)
    assert "800 rows" in message and "0.0 GiB available" in message
    assert "needs about" in message and "salary train --cluster local" in message


def test_fit_runs_when_memory_suffices(demo_frame: pd.DataFrame, small_config: TrainConfig) -> None:
    config = replace(small_config, num_boost_round=10)
    bundle = fit_bundle(demo_frame.iloc[:800], config, available=lambda: 64 * GiB)
    assert bundle.predict(demo_frame.iloc[:3]).shape == (3, 5)


def test_train_refuses_before_any_run_is_logged(mlflow_store: str, demo_csv: Path) -> None:
    config = TrainConfig(data=demo_csv, num_boost_round=10, params={"num_threads": 1})
    with pytest.raises(NotEnoughMemory, match="1,500 rows"):
        train(config, available=lambda: 2**20)
    assert mlflow.search_runs(search_all_experiments=True).empty


def test_training_reports_rows_read_and_boosters_fitted(
    demo_frame: pd.DataFrame, small_config: TrainConfig, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        fit_bundle(demo_frame.iloc[:400], replace(small_config, num_boost_round=5, augment_copies=0))
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("fitting on 400 rows") and "0 partial copies" in m for m in messages)
    assert sum("booster on" in m for m in messages) >= 6  # the center and five quantiles, at least once


def test_the_estimate_grows_with_rows_copies_and_columns() -> None:
    base = training_bytes(100_000, 40, 3)
    assert training_bytes(200_000, 40, 3) == pytest.approx(2 * base, rel=1e-6)
    assert training_bytes(100_000, 40, 0) < base / 4  # copies add their rows and their objects
    assert training_bytes(100_000, 80, 3) > base
    assert training_bytes(100_000, 40, 3, centers=4) > base  # each center's rows as its call states them


def test_available_memory_is_the_smaller_of_meminfo_and_the_cgroup_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    8000000 kB\n")
    limit, usage = tmp_path / "memory.max", tmp_path / "memory.current"
    limit.write_text("3000000000\n")
    usage.write_text("1000000000\n")
    monkeypatch.setattr(memory, "MEMINFO", meminfo)
    monkeypatch.setattr(memory, "CGROUP_FILES", ((limit, usage),))
    assert available_memory() == 2_000_000_000
    limit.write_text("max\n")  # no cgroup limit: the machine's available memory
    assert available_memory() == 8_000_000 * 1024
