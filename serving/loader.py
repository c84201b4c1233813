"""Loading a bundle for serving, from the MLflow registry or a local path, without the pyfunc layer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from models import registry
from models.bundle import SalaryModel

_ALIAS = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/]+)$")
_VERSION = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")


@dataclass(frozen=True)
class LoadedModel:
    """A bundle ready to answer, with the registry identity the API reports."""

    bundle: SalaryModel
    name: str
    version: str | None
    run_id: str | None
    uri: str


def resolve_version(
    uri: str, tracking_uri: str | None = None
) -> tuple[str, str | None, str | None]:
    """The registered (name, version, run_id) a models:/ URI points at now; local paths have none."""
    for pattern in (_ALIAS, _VERSION):
        if m := pattern.match(uri):
            registry.configure(tracking_uri)
            client = MlflowClient()
            name = m.group("name")
            if "alias" in m.groupdict():
                mv = client.get_model_version_by_alias(name, m.group("alias"))
            else:
                mv = client.get_model_version(name, m.group("version"))
            return name, str(mv.version), mv.run_id
    return Path(uri).name, None, None


def load_model(uri: str, tracking_uri: str | None = None) -> LoadedModel:
    """Load the bundle `uri` names; raises ValueError or MlflowException saying what was missing."""
    name, version, run_id = resolve_version(uri, tracking_uri)
    if version is not None:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}"))
    else:
        local = Path(uri)
        if not local.exists():
            raise ValueError(
                f"model path {uri} does not exist; expected models:/NAME@ALIAS or a bundle path"
            )
    bundle = SalaryModel.load(local)
    run_id = run_id or bundle.metadata.get("run_id")
    return LoadedModel(bundle=bundle, name=name, version=version, run_id=run_id, uri=uri)
