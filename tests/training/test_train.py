"""The training job logs a run, registers a version and makes the first one champion."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from models import registry
from training.train import TrainConfig, train


def test_train_logs_registers_and_sets_champion_once(mlflow_store: str) -> None:
    config = TrainConfig(num_boost_round=40, params={"num_threads": 2})
    first = train(config)
    second = train(config)
    client = MlflowClient(tracking_uri=mlflow_store)
    champion = client.get_model_version_by_alias(registry.MODEL_NAME, registry.CHAMPION)
    assert (first.version, second.version) == ("1", "2")
    assert first.became_champion and not second.became_champion
    assert str(champion.version) == "1"
    run = client.get_run(first.run_id)
    for metric in ("mae", "mdape", "r2_log", "coverage_p10_p90"):
        assert metric in run.data.metrics
    assert run.data.tags["eval_digest"] == first.eval_digest == second.eval_digest
    assert "cleaning_report.json" in [a.path for a in client.list_artifacts(first.run_id)]


def test_registered_model_loads_as_pyfunc(mlflow_store: str) -> None:
    train(TrainConfig(num_boost_round=40, params={"num_threads": 2}))
    model = mlflow.pyfunc.load_model(registry.alias_uri())
    out = model.predict(pd.DataFrame([{"title": "Senior Software Engineer", "location": "NYC"}]))
    assert list(out.columns) == ["p10", "p25", "p50", "p75", "p90"]
    assert out.iloc[0]["p10"] <= out.iloc[0]["p50"] <= out.iloc[0]["p90"]


def test_missing_data_file_is_a_clear_error(
    mlflow_store: str, tmp_path: pytest.TempPathFactory
) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        train(TrainConfig(source="demo", data=tmp_path / "nope.csv"))  # type: ignore[operator]
