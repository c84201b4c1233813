"""A model the previous release registered is refused by name; `salary migrate-model` converts it."""

from __future__ import annotations

from pathlib import Path

import joblib
import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from records import VARIED_RECORDS
from typer.testing import CliRunner

from models import registry
from models.bundle import SalaryModel
from models.pyfunc import SalaryPyfunc
from serving.loader import load_checked
from training import promote
from training.cli import app as cli

REFUSAL = r"earlier release as a pickle.*`salary migrate-model models:/salary-estimator/1`"


@pytest.fixture()
def legacy_champion(mlflow_store: str, demo_bundle: SalaryModel, tmp_path: Path) -> str:
    """Version 1, champion, logged as the previous release did: bundle.joblib in a cloudpickled pyfunc."""
    registry.configure()
    joblib.dump(demo_bundle, tmp_path / "bundle.joblib")
    with mlflow.start_run(experiment_id=registry.ensure_experiment()) as run:
        info = mlflow.pyfunc.log_model(
            name="model", python_model=SalaryPyfunc(), artifacts={"bundle": str(tmp_path / "bundle.joblib")}
        )
    version = promote.register_version(str(info.model_uri), run.info.run_id)
    promote.move_alias(registry.CHAMPION, version, "registered by the previous release")
    return registry.alias_uri()


def test_a_pickled_model_is_refused_naming_the_migration_command(legacy_champion: str) -> None:
    with pytest.raises(ValueError, match=REFUSAL):
        registry.load_version("1")
    with pytest.raises(ValueError, match=REFUSAL):
        load_checked(legacy_champion)
    with pytest.raises(Exception, match=r"salary migrate-model"):  # MLflow's loader says it too
        mlflow.pyfunc.load_model(legacy_champion)


def test_migrate_model_registers_a_plain_file_version_that_predicts_the_same(
    legacy_champion: str, demo_bundle: SalaryModel, tmp_path: Path
) -> None:
    result = CliRunner().invoke(cli, ["migrate-model", legacy_champion, "--out", str(tmp_path / "converted")])
    assert result.exit_code == 0, result.output
    assert "to version 2" in result.output and "aliases moved: champion" in result.output
    migrated = registry.load_version("2")
    assert np.array_equal(migrated.predict(VARIED_RECORDS), demo_bundle.predict(VARIED_RECORDS))
    assert migrated.metadata["migrated_from"]["model"] == "models:/salary-estimator/1"
    assert load_checked(legacy_champion).version == "2"
    assert (tmp_path / "converted" / "manifest.json").exists()
    client = MlflowClient()
    assert client.get_model_version(registry.MODEL_NAME, "1").tags["migrated_to"] == "2"

    again = CliRunner().invoke(cli, ["migrate-model", "models:/salary-estimator/2"])
    assert again.exit_code == 2
    assert "already in the plain-file bundle format" in again.output
