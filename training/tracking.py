"""What every training run logs, whatever the model kind, so any two runs compare side by side in MLflow."""

from __future__ import annotations

import dataclasses
import json
import platform
import re
import subprocess
import warnings
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
from mlflow.data.pandas_dataset import from_pandas

from features.pipeline import interpret_all
from features.population import country_group
from models.bundle import SalaryModel
from models.quantile import DEFAULT_PARAMS, QuantileModel, quantile_name
from training import plots
from training.cleaning import CleaningReport
from training.evaluate import segment_metrics
from training.sources.base import TARGET
from training.splits import Split, frame_digest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mlflow", "lightgbm", "scikit-learn", "numpy", "pandas", "salary-service")
SEGMENT_KINDS = ("role_family", "seniority", "country_group")
SEGMENT_FLAT_METRICS = ("mae", "coverage_p10_p90")
MAX_PARAM_CHARS = 6000  # MLflow rejects longer parameter values


def _flat(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = ",".join(str(v) for v in value)
    return str(value)[:MAX_PARAM_CHARS]


def run_params(config: Any, bundle: SalaryModel, split_kind: str) -> dict[str, str]:
    """Every config field, the effective model parameters and the feature parameters, as strings."""
    out: dict[str, str] = {}
    for key, value in dataclasses.asdict(config).items():
        if isinstance(value, Mapping):
            out.update({f"{key}.{k}": _flat(v) for k, v in value.items()})
        else:
            out[key] = _flat(value)
    if isinstance(bundle.model, QuantileModel):
        effective = {**DEFAULT_PARAMS, **(bundle.model.params or {})}
        out.update({f"lgbm_{k}": _flat(v) for k, v in effective.items()})
        # How the range was calibrated, so runs in the UI show which fold and how far it moved it.
        out.update({f"calibration.{k}": _flat(v) for k, v in bundle.model.calibration_.items()})
        out.update({f"calibration.shift_{quantile_name(q)}": f"{shift:.4f}"
                    for q, shift in bundle.model.shifts_.items()})
    out.update({f"features_{k}": _flat(v) for k, v in bundle.features.get_params().items()})
    out["n_features"] = str(len(bundle.features.get_feature_names_out()))
    out["split_kind"] = split_kind
    return out


def environment_tags() -> dict[str, str]:
    """The git commit (and whether the tree had local changes) and the versions that shaped the model."""
    tags = {"python_version": platform.python_version()}
    for package in PACKAGES:
        try:
            tags[f"version.{package}"] = metadata.version(package)
        except metadata.PackageNotFoundError:
            tags[f"version.{package}"] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()
        tags["mlflow.source.git.commit"] = commit
        tags["git_dirty"] = str(bool(dirty)).lower()
    except (OSError, subprocess.CalledProcessError):
        tags["mlflow.source.git.commit"] = "unknown (not a git checkout)"
    return tags


def dataset_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as MLflow datasets accept it: list columns such as `skills` become `;`-joined text."""
    out = frame.copy()
    for col in out.columns:
        if out[col].map(lambda v: isinstance(v, list | tuple | np.ndarray)).any():
            out[col] = out[col].map(
                lambda v: ";".join(str(s) for s in v) if isinstance(v, list | tuple | np.ndarray) else v
            )
    return out


def log_dataset(frame: pd.DataFrame, context: str, name: str, digest: str, path: str | Path | None) -> None:
    """Log a frame as a run input whose digest is our own frame digest, so runs match on it."""
    with warnings.catch_warnings():
        # MLflow registers its local-file source twice and warns that the path is ambiguous, and warns
        # that integer columns cannot hold missing values: neither matters for a logged dataset.
        warnings.simplefilter("ignore", UserWarning)
        where: dict[str, Any] = {"source": str(path)} if path is not None else {}
        dataset = from_pandas(dataset_frame(frame), targets=TARGET, name=name, digest=digest, **where)
        mlflow.log_input(dataset, context=context)


def log_data(report: CleaningReport, path: str | Path | None, rows: Mapping[str, int]) -> None:
    """Row counts at each step from the rows read, rows lost per reason, and the full cleaning report."""
    mlflow.log_param("data_path", str(path))
    counts = {f"rows_{k}": float(v) for k, v in rows.items()}
    counts.update({"rows_in": float(report.rows_in), "rows_parsed": float(report.rows_parsed),
                   "rows_out": float(report.rows_out), "rows_unreadable": float(report.unreadable())})
    counts.update({f"rows_rejected_{reason}": float(n) for reason, n in report.rejected.items()})
    counts.update({f"rows_dropped_{rule}": float(n) for rule, n in report.dropped.items()})
    mlflow.log_metrics(counts)
    mlflow.log_text(json.dumps(report.to_dict(), indent=2, default=str), "cleaning_report.json")


def segments(evaluation: pd.DataFrame) -> pd.DataFrame:
    """Each evaluation row's role family, seniority and country group, read by the feature pipeline."""
    rows = interpret_all(evaluation)
    return pd.DataFrame(
        {
            "role_family": [r.role for r in rows],
            "seniority": [r.seniority or "unknown" for r in rows],
            "country_group": [country_group(r.country) for r in rows],
        }
    )


def segment_table(
    y: np.ndarray, preds: np.ndarray, quantiles: Sequence[float], groups: pd.DataFrame, min_rows: int = 30
) -> pd.DataFrame:
    """segment_metrics for every segment kind, stacked with a `kind` column."""
    parts = []
    for kind in SEGMENT_KINDS:
        table = segment_metrics(y, preds, quantiles, groups[kind], min_rows=min_rows)
        if not table.empty:
            parts.append(table.assign(kind=kind))
    if not parts:
        return pd.DataFrame(columns=["kind", "segment"])
    table = pd.concat(parts, ignore_index=True)
    return table[["kind", "segment", *[c for c in table.columns if c not in ("kind", "segment")]]]


def _metric_key(*parts: str) -> str:
    return "/".join(re.sub(r"[^A-Za-z0-9_\-.]", "_", p) for p in parts)


def flat_segment_metrics(table: pd.DataFrame) -> dict[str, float]:
    """A few per-segment numbers as run metrics, e.g. `segment/seniority/Senior/mae`."""
    out: dict[str, float] = {}
    for row in table.to_dict("records"):
        for name in SEGMENT_FLAT_METRICS:
            if name in row:
                out[_metric_key("segment", str(row["kind"]), str(row["segment"]), name)] = float(row[name])
    return out


def importance(bundle: SalaryModel) -> pd.Series | None:
    """Gain per feature summed over the boosters behind P50, or None for model kinds without boosters."""
    model = bundle.model
    boosters = [getattr(model, "center_", None), (getattr(model, "boosters_", None) or {}).get(0.5)]
    gains = [
        pd.Series(b.feature_importance("gain"), index=b.feature_name())
        for b in boosters
        if isinstance(b, lgb.Booster)
    ]
    if not gains:
        return None
    return pd.concat(gains).groupby(level=0).sum().rename("gain")


def log_evaluation(
    evaluation: pd.DataFrame, preds: np.ndarray, quantiles: Sequence[float], bundle: SalaryModel
) -> pd.DataFrame:
    """Segment metrics (artifact and flattened metrics) and the four evaluation plots; returns segments."""
    y = evaluation[TARGET].to_numpy(dtype=float)
    col = {round(q, 4): i for i, q in enumerate(quantiles)}
    p50 = preds[:, col[0.5]]
    groups = segments(evaluation)
    table = segment_table(y, preds, quantiles, groups)
    mlflow.log_table(table, "evaluation/segment_metrics.json")
    mlflow.log_text(table.to_csv(index=False), "evaluation/segment_metrics.csv")
    mlflow.log_metrics(flat_segment_metrics(table))
    mlflow.log_figure(plots.predicted_vs_actual(y, p50), "plots/predicted_vs_actual.png")
    mlflow.log_figure(
        plots.residuals_by_group(y, p50, groups["role_family"], "Residuals by role family"),
        "plots/residuals_by_role_family.png",
    )
    lo, hi = min(col), max(col)
    mlflow.log_figure(
        plots.coverage_by_decile(y, preds[:, col[lo]], preds[:, col[hi]], p50, hi - lo),
        f"plots/coverage_{quantile_name(lo)}_{quantile_name(hi)}_by_decile.png",
    )
    gains = importance(bundle)
    if gains is not None:
        mlflow.log_text(gains.sort_values(ascending=False).to_csv(), "evaluation/feature_importance.csv")
        mlflow.log_figure(plots.feature_importance(gains), "plots/feature_importance.png")
    return table



def log_inputs(config: Any, split: Split, path: str | Path | None, report: CleaningReport) -> None:
    """Before fitting: where the data came from, what cleaning did, both frames' digests, the code version."""
    mlflow.set_tags({"eval_digest": split.digest, "split": split.description, **environment_tags()})
    log_data(report, path, {"train": len(split.train), "eval": len(split.evaluation)})
    log_dataset(split.evaluation, "evaluation", f"{config.source}-evaluation", split.digest, path)
    log_dataset(split.train, "training", f"{config.source}-training", frame_digest(split.train), path)
