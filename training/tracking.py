"""What every training run logs, whatever the model kind, so any two runs compare side by side in MLflow."""

from __future__ import annotations

import dataclasses
import json
import platform
import re
import subprocess
import time
import warnings
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
from mlflow.data.pandas_dataset import PandasDataset, from_pandas
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from features.pipeline import Records, interpret_all
from features.population import country_group
from models.bundle import SalaryModel
from models.quantile import DEFAULT_PARAMS, QuantileModel, quantile_name
from training import plots
from training.cleaning import CleaningReport
from training.evaluate import HEADLINE, segment_metrics
from training.sources.base import TARGET
from training.splits import Split, frame_digest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mlflow", "lightgbm", "scikit-learn", "numpy", "pandas", "salary-service")
SEGMENT_KINDS = ("role_family", "seniority", "country_group")
MAX_PARAM_CHARS = 6000  # MLflow rejects longer parameter values
# The UI's shared views live in experiment tags with this prefix; `salary ui` links to ours.
SHARED_VIEW_PREFIX = "mlflow.sharedViewState."
HEADLINE_VIEW = "headline"


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


def make_dataset(frame: pd.DataFrame, name: str, digest: str, path: str | Path | None) -> PandasDataset:
    """A frame as an MLflow dataset whose digest is our own frame digest, so runs match on it."""
    with warnings.catch_warnings():
        # MLflow registers its local-file source twice and warns that the path is ambiguous, and warns
        # that integer columns cannot hold missing values: neither matters for a logged dataset.
        warnings.simplefilter("ignore", UserWarning)
        where: dict[str, Any] = {"source": str(path)} if path is not None else {}
        return from_pandas(dataset_frame(frame), targets=TARGET, name=name, digest=digest, **where)


@dataclasses.dataclass(frozen=True)
class SplitDatasets:
    """Both sides of a split as MLflow datasets, made once for every run logged on that split.

    MLflow infers a dataset's schema, value by value, when it is first logged (half a minute for the
    aijobs evaluation set on a busy machine) and keeps it on the object, so runs beside each other
    share the objects.
    """

    evaluation: PandasDataset
    training: PandasDataset

    @classmethod
    def of(cls, source: str, split: Split, path: str | Path | None) -> SplitDatasets:
        """The datasets of a split, named after the source."""
        return cls(
            make_dataset(split.evaluation, f"{source}-evaluation", split.digest, path),
            make_dataset(split.train, f"{source}-training", frame_digest(split.train), path),
        )


def row_metrics(report: CleaningReport, rows: Mapping[str, int]) -> dict[str, float]:
    """Row counts at each step from the rows read, and the rows lost per reason."""
    counts = {f"rows_{k}": float(v) for k, v in rows.items()}
    counts.update({"rows_in": float(report.rows_in), "rows_parsed": float(report.rows_parsed),
                   "rows_out": float(report.rows_out), "rows_unreadable": float(report.unreadable())})
    counts.update({f"rows_rejected_{reason}": float(n) for reason, n in report.rejected.items()})
    counts.update({f"rows_dropped_{rule}": float(n) for rule, n in report.dropped.items()})
    return counts


def split_headline(metrics: Mapping[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """The headline metrics in their fixed order, and the rest, so the two can be logged apart."""
    headline = {name: float(metrics[name]) for name in HEADLINE if name in metrics}
    return headline, {k: float(v) for k, v in metrics.items() if k not in headline}


def log_model_metrics(model_id: str, metrics: Mapping[str, float], evaluation: PandasDataset) -> None:
    """The headline metrics, on the run and on its logged model, named with the evaluation dataset.

    They are the first metrics the run logs: the UI's compare page plots the first one (MAE). The Models
    tab and registered versions show a logged model's metrics; these are all it gets (`log_run_metrics`).
    """
    mlflow.log_metrics(split_headline(metrics)[0], model_id=model_id, dataset=evaluation)


def log_run_metrics(metrics: Mapping[str, float]) -> None:
    """Metrics of the active run only: detail, row counts, segment summaries.

    Logged through the client, because MLflow's `log_metrics` gives every step-0 metric of a run that
    logged a model to that model too, and would flood the Models tab with them.
    """
    run = mlflow.active_run()
    if run is None:
        raise ValueError("log_run_metrics needs an active run; start one with mlflow.start_run()")
    now = int(time.time() * 1000)
    entries = [Metric(key, float(value), now, 0) for key, value in metrics.items()]
    MlflowClient().log_batch(run.info.run_id, metrics=entries)


def log_unpackaged_model(name: str, tags: Mapping[str, str]) -> str:
    """A model listed in the Models tab whose files are not in MLflow (a baseline's rule is our code)."""
    return str(mlflow.create_external_model(name=name, tags=dict(tags), model_type=name).model_id)


def last_model_id(tags: Mapping[str, str]) -> str:
    """The id of the model this thread just logged, tagged so the Models tab tells the kinds apart."""
    model = mlflow.last_logged_model()
    if model is None:
        raise ValueError("no model was logged in this thread; log one before asking for its id")
    mlflow.set_logged_model_tags(model.model_id, dict(tags))
    return str(model.model_id)


def headline_view() -> str:
    """The runs table as the UI's shared view: the headline metric columns, best MAE first."""
    columns = ["attributes.`Models`", "params.`model_kind`", *[f"metrics.`{m}`" for m in HEADLINE]]
    return json.dumps({"orderByKey": "metrics.`mae`", "orderByAsc": True, "selectedColumns": columns,
                       "columnOrder": columns})


def experiment_tags() -> dict[str, str]:
    """Experiment tags for the training experiment: the headline view that `salary ui` links to."""
    return {SHARED_VIEW_PREFIX + HEADLINE_VIEW: headline_view()}


def segments(evaluation: Records) -> pd.DataFrame:
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


def grouped_segment_metrics(table: pd.DataFrame, nominal: float) -> dict[str, float]:
    """Two metrics per segment kind instead of one per segment, so the UI's metric picker stays short.

    `segment/<kind>/mae_max` is the worst segment's MAE; `segment/<kind>/coverage_gap_max` is the largest
    distance of a segment's P10-P90 coverage from `nominal`. The full table is the run's artifact.
    """
    out: dict[str, float] = {}
    if table.empty:
        return out
    for kind, part in table.groupby("kind", sort=True):
        out[_metric_key("segment", str(kind), "mae_max")] = float(part["mae"].max())
        if "coverage_p10_p90" in part:
            gap = (part["coverage_p10_p90"] - nominal).abs().max()
            out[_metric_key("segment", str(kind), "coverage_gap_max")] = float(gap)
    return out


def importance(bundle: SalaryModel) -> pd.Series | None:
    """Gain per feature summed over the boosters behind any P50, or None for model kinds without boosters."""
    model = bundle.model
    boosters = [
        getattr(model, "center_", None),
        (getattr(model, "boosters_", None) or {}).get(0.5),
        *getattr(model, "centers_", []),  # per-profile centers and their median corrections
        *getattr(model, "center_medians_", []),
    ]
    gains = [
        pd.Series(b.feature_importance("gain"), index=b.feature_name())
        for b in boosters
        if isinstance(b, lgb.Booster)
    ]
    if not gains:
        return None
    return pd.concat(gains).groupby(level=0).sum().rename("gain")


def log_evaluation(
    evaluation: pd.DataFrame,
    preds: np.ndarray,
    quantiles: Sequence[float],
    bundle: SalaryModel,
    groups: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Segment metrics (artifact and grouped metrics) and the four evaluation plots; returns segments.

    `groups` are the evaluation rows' segments when the caller already read them (runs beside each other
    share one evaluation set).
    """
    y = evaluation[TARGET].to_numpy(dtype=float)
    col = {round(q, 4): i for i, q in enumerate(quantiles)}
    p50 = preds[:, col[0.5]]
    lo, hi = min(col), max(col)
    groups = segments(evaluation) if groups is None else groups
    table = segment_table(y, preds, quantiles, groups)
    mlflow.log_table(table, "evaluation/segment_metrics.json")
    mlflow.log_text(table.to_csv(index=False), "evaluation/segment_metrics.csv")
    log_run_metrics(grouped_segment_metrics(table, nominal=hi - lo))
    mlflow.log_figure(plots.predicted_vs_actual(y, p50), "plots/predicted_vs_actual.png")
    mlflow.log_figure(
        plots.residuals_by_group(y, p50, groups["role_family"], "Residuals by role family"),
        "plots/residuals_by_role_family.png",
    )
    mlflow.log_figure(
        plots.coverage_by_decile(y, preds[:, col[lo]], preds[:, col[hi]], p50, hi - lo),
        f"plots/coverage_{quantile_name(lo)}_{quantile_name(hi)}_by_decile.png",
    )
    gains = importance(bundle)
    if gains is not None:
        mlflow.log_text(gains.sort_values(ascending=False).to_csv(), "evaluation/feature_importance.csv")
        mlflow.log_figure(plots.feature_importance(gains), "plots/feature_importance.png")
    return table


def log_inputs(
    config: Any, split: Split, path: str | Path | None, report: CleaningReport,
    datasets: SplitDatasets | None = None,
) -> PandasDataset:
    """Before fitting: where the data came from, what cleaning did, both frames' digests, the code version.

    Returns the evaluation dataset, which the headline metrics name. The row counts are metrics, logged
    with the other detail metrics after the model (`row_metrics`).
    """
    datasets = datasets or SplitDatasets.of(config.source, split, path)
    mlflow.set_tags({"eval_digest": split.digest, "split": split.description, **environment_tags()})
    mlflow.log_param("data_path", str(path))
    mlflow.log_text(json.dumps(report.to_dict(), indent=2, default=str), "cleaning_report.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # as in make_dataset
        mlflow.log_input(datasets.evaluation, context="evaluation")
        mlflow.log_input(datasets.training, context="training")
    return datasets.evaluation
