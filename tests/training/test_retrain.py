"""The promotion gate and the retrain lock, without a server."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from filelock import FileLock
from typer.testing import CliRunner

from training.cli import app as cli
from training.retrain import Gate, comparison_table, describe_failure

CHAMPION = {"mae": 20_000.0, "coverage_p10_p90": 0.80}


@pytest.mark.parametrize(
    ("challenger", "problem"),
    [
        ({"mae": 20_300.0, "coverage_p10_p90": 0.81}, None),  # 1.5% worse: inside the 2% tolerance
        ({"mae": 18_000.0, "coverage_p10_p90": 0.78}, None),
        ({"mae": 20_500.0, "coverage_p10_p90": 0.80}, "MAE 20,500 worse than champion 20,000"),
        ({"mae": 18_000.0, "coverage_p10_p90": 0.62}, "coverage 0.620 outside [0.70, 0.90]"),
        ({"mae": 18_000.0, "coverage_p10_p90": 0.95}, "coverage 0.950 outside"),
    ],
)
def test_gate_checks_mae_tolerance_and_coverage_bounds(
    challenger: dict[str, float], problem: str | None
) -> None:
    problems = Gate(mae_tolerance=0.02, coverage_min=0.70, coverage_max=0.90).check(challenger, CHAMPION)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


def test_first_model_is_gated_on_coverage_only() -> None:
    assert Gate().check({"mae": 1e9, "coverage_p10_p90": 0.8}, None) == []
    assert Gate().check({"mae": 1.0, "coverage_p10_p90": 0.2}, None) != []


def test_comparison_table_shows_relative_change() -> None:
    table = comparison_table({"mae": 22_000.0, "coverage_p10_p90": 0.8}, CHAMPION)
    assert table.loc["mae", "change"] == pytest.approx(0.10)
    assert list(table.columns) == ["challenger", "champion", "change"]


def test_lost_server_is_named_in_the_failure() -> None:
    exc = ConnectionError("HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded")
    assert describe_failure(exc, "http://127.0.0.1:1").startswith("lost the MLflow tracking server at")
    assert describe_failure(ValueError("bad column"), "x") == "ValueError: bad column"


def test_second_retrain_exits_with_its_own_code_while_the_lock_is_held(
    mlflow_store: str, tmp_path: Path
) -> None:
    lock = tmp_path / "retrain.lock"
    with FileLock(lock):
        result = CliRunner().invoke(cli, ["retrain", "--lock-file", str(lock), "--rounds", "1"])
    assert result.exit_code == 3, result.output
    assert "another retrain is running" in result.output
    assert mlflow.search_runs(search_all_experiments=True).empty
