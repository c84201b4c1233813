"""Where models live: the tracking store default, the registered model name and its aliases."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import mlflow

from models.bundle import SalaryModel
from models.serialize import FORMAT_VERSION

MODEL_NAME = "salary-estimator"
CHAMPION = "champion"
CHALLENGER = "challenger"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_ARTIFACT_DIR = "mlartifacts"
EXPERIMENT = "salary-estimator"
# MLflow's experiment tag for the kind of work an experiment holds; with this value the UI opens on runs
# (Runs, Models) instead of its GenAI pages (Traces, token usage).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
CUSTOM_MODEL_DEVELOPMENT = "custom_model_development"
# The format of the files a registered bundle is made of (models/serialize.py), tagged on every
# registered version (`bundle_format`) so a reader can tell what it holds before loading it.
BUNDLE_FORMAT_VERSION = FORMAT_VERSION


def tracking_uri(uri: str | None = None) -> str:
    """The tracking URI to use: an explicit one, else MLFLOW_TRACKING_URI, else the local SQLite file."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def configure(uri: str | None = None) -> str:
    """Point MLflow at the store (called by commands, never at import); returns the URI used."""
    resolved = tracking_uri(uri)
    mlflow.set_tracking_uri(resolved)
    mlflow.set_registry_uri(resolved)
    return resolved


def ensure_experiment(name: str = EXPERIMENT, tags: Mapping[str, str] | None = None) -> str:
    """Create the experiment if needed, marked as model development so the MLflow UI opens on its runs.

    Local stores keep artifacts in ./mlartifacts beside the DB. An experiment made before the kind tag
    existed gets it too; a kind someone chose in the UI is kept. `tags` are set when they differ.
    """
    client = mlflow.MlflowClient()
    existing = mlflow.get_experiment_by_name(name)
    if existing is None:
        location = None
        if mlflow.get_tracking_uri().startswith("sqlite:"):
            location = (Path.cwd() / DEFAULT_ARTIFACT_DIR).resolve().as_uri()
        first = {EXPERIMENT_KIND_TAG: CUSTOM_MODEL_DEVELOPMENT, **(tags or {})}
        return str(mlflow.create_experiment(name, artifact_location=location, tags=first))
    experiment_id = str(existing.experiment_id)
    wanted = dict(tags or {})
    if EXPERIMENT_KIND_TAG not in existing.tags:
        wanted[EXPERIMENT_KIND_TAG] = CUSTOM_MODEL_DEVELOPMENT
    for key, value in wanted.items():
        if existing.tags.get(key) != value:
            client.set_experiment_tag(experiment_id, key, value)
    return experiment_id


def alias_uri(alias: str = CHAMPION, name: str = MODEL_NAME) -> str:
    """`models:/name@alias`, the URI serving loads."""
    return f"models:/{name}@{alias}"


def load_version(version: str, name: str = MODEL_NAME) -> SalaryModel:
    """The bundle of a registered version, read from its artifacts without the pyfunc layer."""
    uri = f"models:/{name}/{version}"
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    return SalaryModel.load(local, source=uri)
