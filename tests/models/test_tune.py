"""`salary tune` logs a parent run with nested trials and leaves parameters that `salary train` uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import optuna
import pytest
from typer.testing import CliRunner

from training import tune
from training.cli import app
from training.sources.demo import write_demo


def tiny_space(trial: optuna.Trial) -> tuple[dict[str, Any], int]:
    """A search space small enough for a test: two leaf counts, a few rounds."""
    return {"num_leaves": trial.suggest_categorical("num_leaves", [7, 15]), "num_threads": 2}, (
        trial.suggest_int("num_boost_round", 20, 30, step=10)
    )


def test_tune_writes_best_params_and_nests_trials(
    mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tune, "suggest", tiny_space)
    data = write_demo(tmp_path / "demo.csv", n=900, seed=5)
    result = CliRunner().invoke(app, ["tune", "--source", "demo", "--data", str(data), "--trials", "2"])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "tuned_params.json").read_text())["demo"]
    assert saved["params"]["num_leaves"] in (7, 15) and saved["num_boost_round"] in (20, 30)
    runs = mlflow.search_runs(search_all_experiments=True)
    parent = runs[runs["tags.mlflow.runName"] == "tune-demo"]
    assert len(parent) == 1
    assert (runs["tags.mlflow.parentRunId"] == parent["run_id"].iloc[0]).sum() == 2
