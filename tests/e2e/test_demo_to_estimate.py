"""End to end as a new user runs it: demo CSV, `salary train`, the registry, the served estimate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from serving.app import create_app
from serving.settings import Settings
from training.cli import app as cli


def test_demo_data_trains_registers_and_serves(mlflow_store: str, tmp_path: Path) -> None:
    runner = CliRunner()
    csv = tmp_path / "data" / "demo.csv"
    result = runner.invoke(cli, ["data", "demo", "--out", str(csv), "--rows", "1500"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["train", "--source", "demo", "--data", str(csv), "--rounds", "60"])
    assert result.exit_code == 0, result.output
    assert "now champion" in result.output
    assert "1500 rows read" in result.output

    with TestClient(create_app(Settings(reload_interval_s=0))) as client:
        response = client.post(
            "/v1/estimates",
            json={"title": "Staff Machine Learning Engineer", "location": "Seattle, WA"},
        )
    assert response.status_code == 200
    data = response.json()
    assert data["p10"] < data["p50"] < data["p90"]
    assert data["model"] == {
        "name": "salary-estimator",
        "version": "1",
        "run_id": data["model"]["run_id"],
    }

    code = (
        "import mlflow, pandas as pd;"
        "m = mlflow.pyfunc.load_model('models:/salary-estimator@champion');"
        "print(m.predict(pd.DataFrame([{'title': 'Data Analyst'}])).round(0).to_json())"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert fresh.returncode == 0, fresh.stderr
    assert '"p50"' in fresh.stdout


def test_train_with_unknown_source_exits_with_message(mlflow_store: str) -> None:
    result = CliRunner().invoke(cli, ["train", "--source", "nope"])
    assert result.exit_code == 2
    assert "unknown source 'nope'" in result.output
