"""What a logged model holds: no pickle anywhere, and it loads in a fresh process with pickle loading off."""

from __future__ import annotations

import json
import os
import pickletools
import subprocess
import sys
from pathlib import Path

import joblib
import mlflow
import numpy as np
import pandas as pd
import yaml
from records import VARIED_RECORDS

from models import registry
from models.bundle import SalaryModel
from training.train import _log_bundle

PICKLE_NAMES = (".pkl", ".pickle", ".joblib", ".cloudpickle")
PYFUNC_PREDICT = """
import sys
import mlflow, numpy as np, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
np.save(sys.argv[3], model.predict(pd.read_json(sys.argv[2], orient="records")).to_numpy())
"""


def pickle_problem(path: Path) -> str:
    """Why `path` is or may hide a pickle, or '' when it is plain text under a plain name."""
    if any(suffix in path.name for suffix in PICKLE_NAMES):
        return "a pickle's file name"
    data = path.read_bytes()
    if data[:1] == b"\x80" and len(data) > 1 and data[1] <= 5:
        try:
            next(iter(pickletools.genops(data)))
            return "a pickle protocol header followed by opcodes"
        except (ValueError, StopIteration):
            pass
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "binary content (every file of the format is UTF-8 text)"
    return ""


def log_demo_model(bundle: SalaryModel) -> str:
    """Log `bundle` the way training does, in a run of the current store; returns the model URI."""
    registry.configure()
    with mlflow.start_run(experiment_id=registry.ensure_experiment()):
        return _log_bundle(bundle)


def test_a_logged_model_holds_no_pickle(mlflow_store: str, demo_bundle: SalaryModel, tmp_path: Path) -> None:
    joblib.dump(demo_bundle, tmp_path / "previous-release.bin")  # what the check must catch
    assert pickle_problem(tmp_path / "previous-release.bin") == "a pickle protocol header followed by opcodes"
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=log_demo_model(demo_bundle)))
    files = [p for p in local.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"MLmodel", "manifest.json", "center.txt", "pyfunc_code.py"}
    assert not (local / "python_model.pkl").exists()
    assert {str(p.relative_to(local)): pickle_problem(p) for p in files if pickle_problem(p)} == {}
    flavor = yaml.safe_load((local / "MLmodel").read_text())["flavors"]["python_function"]
    assert flavor["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    assert "python_model" not in flavor


def test_the_logged_model_predicts_in_a_fresh_process_that_refuses_pickles(
    mlflow_store: str, demo_bundle: SalaryModel, tmp_path: Path
) -> None:
    model_uri = log_demo_model(demo_bundle)
    records = tmp_path / "records.json"
    # MLflow's schema check wants a list in every row of an array column; an empty list is "not stated".
    records.write_text(json.dumps([{**r, "skills": r.get("skills", [])} for r in VARIED_RECORDS]))
    out = tmp_path / "out.npy"
    env = {**os.environ, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false"}
    command = [sys.executable, "-c", PYFUNC_PREDICT, model_uri, str(records), str(out)]
    subprocess.run(command, check=True, timeout=300, env=env)
    expected = demo_bundle.predict(pd.read_json(records, orient="records"))
    assert np.array_equal(np.load(out, allow_pickle=False), expected)
