"""Loading a bundle for serving, from the MLflow registry or a local path, without the pyfunc layer."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from mlflow.tracking import MlflowClient

from features.schema import EXAMPLE_RECORD
from models import registry
from models.bundle import SalaryModel

_ALIAS = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/]+)$")
_VERSION = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")
Resolved = tuple[str, str | None, str | None]  # registered name, version, run id


@dataclass(frozen=True)
class LoadedModel:
    """A bundle ready to answer, with the registry identity the API reports."""

    bundle: SalaryModel
    name: str
    version: str | None
    run_id: str | None
    uri: str


def is_alias(uri: str) -> bool:
    """Whether `uri` follows a registry alias, the only kind of URI whose target can move."""
    return _ALIAS.match(uri) is not None


def resolve_version(uri: str, tracking_uri: str | None = None) -> Resolved:
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


def load_model(uri: str, tracking_uri: str | None = None, resolved: Resolved | None = None) -> LoadedModel:
    """Load the bundle `uri` names (at the version already `resolved`, if given, so it is asked once)."""
    name, version, run_id = resolved or resolve_version(uri, tracking_uri)
    if version is not None:
        bundle = registry.load_version(version, name)
    else:
        local = Path(uri)
        if not local.exists():
            raise ValueError(f"model path {uri} does not exist; expected models:/NAME@ALIAS or a bundle path")
        bundle = SalaryModel.load(local)
    run_id = run_id or bundle.metadata.get("run_id")
    return LoadedModel(bundle=bundle, name=name, version=version, run_id=run_id, uri=uri)


def smoke_check(model: LoadedModel) -> None:
    """Refuse a model that cannot answer the documented example with a sane range, before it serves."""
    quantiles = model.bundle.estimate(EXAMPLE_RECORD).quantiles
    values = [quantiles[name] for name in model.bundle.quantile_names]
    if not all(math.isfinite(v) and v > 0 for v in values) or values != sorted(values):
        raise ValueError(
            f"model {model.name} version {model.version} gave {quantiles} for the example record; "
            "expected positive, finite, non-decreasing quantiles"
        )


def load_checked(uri: str, tracking_uri: str | None = None, resolved: Resolved | None = None) -> LoadedModel:
    """Load and smoke-check; blocking I/O and CPU, so async callers run it in a thread."""
    model = load_model(uri, tracking_uri, resolved)
    smoke_check(model)
    return model
