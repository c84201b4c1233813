"""`salary compare` and `salary ui` on a store with a LightGBM champion and a baseline challenger."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from models import registry
from training.cli import app as cli
from training.compare import compare, ui_command, ui_environment


def test_default_compares_champion_with_challenger(in_two_model_store: Path) -> None:
    result = compare()
    assert list(result.metrics.columns) == ["champion v1", "challenger v2"]
    assert list(result.metrics.index[:2]) == ["mae", "mdape"]
    assert result.params.loc["model_kind"].tolist() == ["lightgbm", "group_median"]
    assert "seed" not in result.params.index  # the same in both runs, so not shown
    assert len(set(result.digests.values())) == 1


def test_cli_compares_versions_and_run_ids(in_two_model_store: Path) -> None:
    run_id = MlflowClient().get_model_version(registry.MODEL_NAME, "1").run_id
    assert list(compare([run_id, "2"]).metrics.columns) == [f"run {run_id[:8]}", "v2"]
    result = CliRunner().invoke(cli, ["compare", "1", "2"])
    assert result.exit_code == 0, result.output
    assert "evaluation set: same for all" in result.output
    assert "model_kind" in result.output and "group_median" in result.output


def test_cli_compare_unknown_version_says_so(in_two_model_store: Path) -> None:
    result = CliRunner().invoke(cli, ["compare", "99"])
    assert result.exit_code == 2
    assert "error:" in result.output


def test_ui_command_points_at_the_same_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    command = ui_command("sqlite:///mlflow.db", port=5123)
    assert command[:4] == [sys.executable, "-m", "mlflow", "ui"]
    assert command[command.index("--backend-store-uri") + 1] == "sqlite:///mlflow.db"
    assert command[command.index("--default-artifact-root") + 1] == (tmp_path / "mlartifacts").as_uri()
    assert command[command.index("--port") + 1] == "5123"
    assert command[command.index("--workers") + 1] == "1"  # one reader; four workers start slowly
    jobs = "MLFLOW_SERVER_ENABLE_JOB_EXECUTION"  # MLflow's GenAI job runners: off unless asked for
    assert (ui_environment({})[jobs], ui_environment({jobs: "true"})[jobs]) == ("false", "true")
    with pytest.raises(ValueError, match="is a tracking server"):
        ui_command("http://mlflow.internal:5000")
