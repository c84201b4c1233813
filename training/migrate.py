"""`salary migrate-model`: convert a model saved by an earlier release as a pickle, once, on request.

Earlier releases logged the bundle as `bundle.joblib` (a pickle) inside a cloudpickled pyfunc. This
release refuses to load those, since unpickling runs code chosen by whoever wrote the file. This
command is the one place that unpickles such a bundle, explicitly: it needs the classes the pickle
names (features.pipeline.JobFeatures, models.quantile.QuantileModel, ...) to still accept the old
state, checks that the converted bundle predicts exactly what the pickle did, and only then writes
the plain-file format and registers it as a new version.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient

from models import registry, serialize
from models.bundle import SalaryModel
from training import promote

# Records that exercise every input path: full, partial, empty, unknown values, a posting's text.
PROBE_RECORDS: list[dict[str, object]] = [
    {
        "title": "Senior Data Scientist",
        "skills": ["Python", "PyTorch"],
        "location": "San Francisco, CA",
        "years_experience": 6.0,
        "company_size": "L",
        "remote_ratio": 50.0,
        "work_year": 2024,
    },
    {"title": "Junior Data Analyst", "location": "Austin, TX"},
    {"title": "Staff Software Engineer", "country": "DE", "experience_level": "SE"},
    {"description": "We are hiring a machine learning engineer in London with Rust and Kubernetes."},
    {"title": "Zookeeper", "location": "Atlantis", "skills": ["Basket weaving"]},
    {"years_experience": 12.0},
    {},
]


@dataclass
class MigrationResult:
    """What a migration wrote: the new bundle folder or registered version, and the aliases moved."""

    source: str
    model_uri: str | None = None
    version: str | None = None
    aliases: list[str] = field(default_factory=list)
    out: Path | None = None


def unpickle_legacy(folder: Path) -> SalaryModel:
    """Load the old pickle under `folder`: the only place pickles are read, on an explicit command."""
    import joblib  # only here: nothing else in the service reads pickles

    found = sorted(folder.rglob(serialize.LEGACY_FILE)) if folder.is_dir() else [folder]
    if not found or found[0].name != serialize.LEGACY_FILE:
        if folder.is_dir() and any(folder.rglob(serialize.MANIFEST)):
            raise ValueError(f"{folder} is already in the plain-file bundle format; nothing to migrate")
        raise ValueError(
            f"no {serialize.LEGACY_FILE} under {folder}; expected a model from an earlier release"
        )
    try:
        model = joblib.load(found[0])
    except Exception as exc:  # whatever the old classes raise when they no longer match
        raise ValueError(
            f"{found[0]} cannot be unpickled with this release's classes ({exc!r}); run "
            f"`{serialize.MIGRATE_COMMAND}` with the first release that has it, whose classes match"
        ) from exc
    if not isinstance(model, SalaryModel):
        raise ValueError(f"{found[0]} holds a {type(model).__name__}, expected a SalaryModel")
    return model


def convert(old: SalaryModel, out: Path) -> SalaryModel:
    """Save `old` in the plain-file format at `out` and reload it; refuse unless predictions are identical."""
    old.save(out)
    new = SalaryModel.load(out)
    batch = np.array_equal(new.predict(PROBE_RECORDS), old.predict(PROBE_RECORDS))
    rows = all(np.array_equal(new.predict([r]), old.predict([r])) for r in PROBE_RECORDS)
    if not (batch and rows):
        raise ValueError("the converted bundle predicts differently from the pickle; nothing was registered")
    return new


def migrate(source: str, out: Path | None = None, tracking_uri: str | None = None) -> MigrationResult:
    """Convert a pickled model: a `models:/` URI gets a new registered version, a local path needs `out`."""
    if not source.startswith("models:/"):
        if out is None:
            raise ValueError("migrating a local path needs --out, the folder to write the new bundle to")
        convert(unpickle_legacy(Path(source)), out)
        return MigrationResult(source, out=out)
    from serving.loader import resolve_version

    name, version, old_run = resolve_version(source, tracking_uri)
    old_uri = f"models:/{name}/{version}"
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=old_uri, dst_path=tmp))
        bundle = unpickle_legacy(local)
        bundle.metadata["migrated_from"] = {"model": old_uri, "run_id": old_run, "format": "joblib pickle"}
        new = convert(bundle, Path(tmp) / "converted")
    return _register(new, name, str(version), out)


def _register(bundle: SalaryModel, name: str, old_version: str, out: Path | None) -> MigrationResult:
    """Log the converted bundle in a run of its own, register it and move the old version's aliases."""
    from training.train import _log_bundle

    client = MlflowClient()
    aliases = list(client.get_model_version(name, old_version).aliases)
    experiment_id = registry.ensure_experiment()
    tags = {"migrated_from": f"models:/{name}/{old_version}", "bundle_format": str(serialize.FORMAT_VERSION)}
    if "eval_digest" in bundle.metadata:
        tags["eval_digest"] = str(bundle.metadata["eval_digest"])
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"migrate-v{old_version}", tags=tags) as run:
        mlflow.log_metrics({k: float(v) for k, v in bundle.metadata.get("metrics", {}).items()})
        model_uri = _log_bundle(bundle)
        if out is not None:
            bundle.save(out)
    version = promote.register_version(model_uri, run.info.run_id, name)
    client.set_model_version_tag(name, old_version, "migrated_to", version)
    for alias in aliases:
        reason = f"v{old_version} migrated from a pickle to bundle format {serialize.FORMAT_VERSION}"
        promote.move_alias(alias, version, reason, name)
    return MigrationResult(f"models:/{name}/{old_version}", model_uri, version, aliases, out)
