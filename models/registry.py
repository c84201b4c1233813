"""Where models live: the tracking store default, the registered model name and its aliases."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow

from models.bundle import SalaryModel

MODEL_NAME = "salary-estimator"
CHAMPION = "champion"
CHALLENGER = "challenger"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_ARTIFACT_DIR = "mlartifacts"
EXPERIMENT = "salary-estimator"


def tracking_uri(uri: str | None = None) -> str:
    """The tracking URI to use: an explicit one, else MLFLOW_TRACKING_URI, else the local SQLite file."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def configure(uri: str | None = None) -> str:
    """Point MLflow at the store (called by commands, never at import); returns the URI used."""
    resolved = tracking_uri(uri)
    mlflow.set_tracking_uri(resolved)
    mlflow.set_registry_uri(resolved)
    return resolved


def ensure_experiment(name: str = EXPERIMENT) -> str:
    """Create the experiment if needed; local stores keep artifacts in ./mlartifacts beside the DB."""
    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return str(existing.experiment_id)
    location = None
    if mlflow.get_tracking_uri().startswith("sqlite:"):
        location = (Path.cwd() / DEFAULT_ARTIFACT_DIR).resolve().as_uri()
    return str(mlflow.create_experiment(name, artifact_location=location))


def alias_uri(alias: str = CHAMPION, name: str = MODEL_NAME) -> str:
    """`models:/name@alias`, the URI serving loads."""
    return f"models:/{name}@{alias}"


def load_version(version: str, name: str = MODEL_NAME) -> SalaryModel:
    """The bundle of a registered version, read from its artifacts without the pyfunc layer."""
    uri = f"models:/{name}/{version}"
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    return SalaryModel.load(local, source=uri)
