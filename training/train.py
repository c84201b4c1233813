"""Training job: data in, bundle fitted and evaluated, run logged to MLflow, version registered."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.data.pandas_dataset import PandasDataset

from features.interpret import Interpretation
from features.pipeline import JobFeatures, interpret_all
from features.population import Population
from models import registry
from models.baselines import BASELINES, Baseline
from models.bundle import SalaryModel
from models.centers import CenterRows
from models.pyfunc import CODE_FILE, input_example, signature
from models.quantile import QuantileModel
from training import promote, tracking
from training.augment import COMPLETE, as_called, blank_parts, center_parts, center_profiles
from training.cleaning import CleaningReport, clean_source
from training.config import TrainConfig
from training.evaluate import REFERENCE_BASELINE, regression_metrics, relative_to_reference
from training.memory import available_memory, check_training_memory
from training.sources import SourceFrame, get_source
from training.sources.base import TARGET
from training.splits import Split, calibration_fold, random_stream, split_frame
from training.tuned_params import with_tuned_params

log = logging.getLogger(__name__)
MEMORY_SAMPLE_ROWS = 20_000  # rows whose feature columns size the memory check before a run starts
# What `salary train` decided, for a version's description: it has no gate (`salary retrain` has one).
TRAIN_DECISION = {
    True: "salary train, no gate: champion only if there was none yet",
    False: "salary train, baseline: registered for comparison, never champion",
}
# Logged as their own runs beside every training run, on its evaluation set, so each comparison has them.
BASELINES_BESIDE = ("global_median", REFERENCE_BASELINE)


@dataclass
class TrainResult:
    """What a run produced: where it is logged, its registered version and its metrics."""

    run_id: str
    model_uri: str
    version: str | None
    metrics: dict[str, float]
    became_champion: bool
    report: CleaningReport
    split_kind: str
    eval_digest: str
    evaluation: pd.DataFrame | None = field(default=None, repr=False)  # the frozen evaluation frame
    summary: dict[str, Any] = field(default_factory=dict)  # data, rows and split, as versions describe them
    baseline_runs: dict[str, str] = field(default_factory=dict)  # model kind -> run id, logged beside
    reference_mae: float | None = None  # the group-median baseline's MAE on the same evaluation set


@dataclass(frozen=True)
class Interpreted:
    """Both sides of a split read by the feature pipeline once, for every model fitted and scored on it."""

    train: list[Interpretation]
    evaluation: list[Interpretation]


@dataclass
class Backtest:
    """A bundle fitted on the training side of a split, and its predictions and metrics on the other side."""

    bundle: SalaryModel
    preds: np.ndarray
    metrics: dict[str, float]


def read_source(source: str, data: Path | None) -> SourceFrame:
    """Run the named adapter on `data`, or on its default file under the data root."""
    adapter = get_source(source)
    path = data
    if path is None and adapter.default_path is not None:
        path = adapter.resolve_path(None)
    if path is not None and not path.exists():
        raise ValueError(f"data file {path} for source {source!r} does not exist; pass --data PATH")
    return adapter.read(path)


def load_training_frame(config: TrainConfig) -> tuple[SourceFrame, pd.DataFrame, CleaningReport]:
    """Read and clean the configured data, refusing it when too much is unreadable or nothing is left."""
    source = read_source(config.source, config.data)
    frame, report = clean_source(source)
    report.check_usable(config.max_rejected)
    return source, frame, report


def make_model(config: TrainConfig) -> QuantileModel | Baseline:
    """The unfitted model of the configured kind."""
    if config.model_kind == "lightgbm":
        return QuantileModel(config.quantiles, config.lightgbm_params(), config.num_boost_round)
    if config.model_kind not in BASELINES:
        kinds = ", ".join(["lightgbm", *BASELINES])
        raise ValueError(f"model_kind {config.model_kind!r} is not one of {kinds}")
    return BASELINES[config.model_kind](config.quantiles)


def _copies(config: TrainConfig) -> int:
    """Partial copies per training row: LightGBM bundles only, baselines fit the rows as given."""
    return config.augment_copies if config.model_kind == "lightgbm" else 0


def _centers(config: TrainConfig, train: pd.DataFrame) -> int:
    """Dedicated centers a fit will try: with partial copies only (models/centers.py)."""
    return len(center_profiles(train)) if config.centers and _copies(config) > 0 else 0


def fit_bundle(
    train: pd.DataFrame,
    config: TrainConfig,
    rows: Sequence[Interpretation] | None = None,
    available: Callable[[], int | None] = available_memory,
) -> SalaryModel:
    """Fit the feature pipeline on the rows, and the model on the rows and their partial copies.

    `rows` are `train` already interpreted, when models beside each other share them. Refuses
    (NotEnoughMemory) before the matrix is built when `available()` bytes will not hold the fit.
    """
    # The costly part: read each record once for fit and transform.
    rows = list(rows) if rows is not None else interpret_all(train)
    features = JobFeatures(min_count=config.min_count).fit(rows)
    names = list(features.get_feature_names_out())
    copies = _copies(config)
    check_training_memory(len(train), len(names), copies, available, _centers(config, train))
    log.info("fitting on %d rows, %d feature columns, %d partial copies each", len(train), len(names), copies)
    default_year = features.default_work_year_
    years = np.array([r.work_year or default_year or np.nan for r in rows], dtype=float)
    fold = calibration_fold(years, seed=config.seed)
    augmented, origin = blank_parts(train, copies, random_stream(config.seed, "copies"))
    rows += interpret_all(augmented.iloc[len(train) :])
    X = features.transform_interpretations(rows)
    y = np.log(train[TARGET].to_numpy(dtype=float))[origin]
    centers = _center_rows(train, features, X[: len(train)], config) if _centers(config, train) else []
    model = make_model(config).fit(
        X,
        y,
        names,
        categorical_features=features.categorical_features,
        monotone_increasing=features.monotone_increasing,
        calibration=fold.mask[origin],  # a row's copies stay on its side of the calibration split
        calibration_note=fold.description,
        complete=np.arange(len(origin)) < len(train),
        **({"centers": centers} if centers else {}),
    )
    meta = {
        "model_kind": config.model_kind,
        "calibration": getattr(model, "calibration_", None),
        "augment_copies": copies,
        "population": Population.count(rows[: len(train)], config.source).to_dict(),
    }
    return SalaryModel(features, model, meta)


def _center_rows(
    train: pd.DataFrame, features: JobFeatures, given: np.ndarray, config: TrainConfig
) -> list[CenterRows]:
    """The training rows as each kind of call states them, for a dedicated center each (models/centers.py)."""
    rng = random_stream(config.seed, "centers")
    out = []
    for profile in center_profiles(train):
        X = given if profile is COMPLETE else features.transform(as_called(train, profile, rng))
        out.append(CenterRows(profile.name, center_parts(profile), X))
    return out


def score_bundle(
    bundle: SalaryModel,
    evaluation: pd.DataFrame,
    num_threads: int | None = None,
    rows: Sequence[Interpretation] | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    """Predictions on an evaluation frame and their metrics, predicting once for both.

    `rows` are the frame already interpreted, when several models are scored on it.
    """
    preds = bundle.predict(evaluation if rows is None else rows, num_threads=num_threads)
    metrics = regression_metrics(evaluation[TARGET].to_numpy(dtype=float), preds, bundle.model.quantiles)
    return preds, metrics


def evaluate_bundle(
    bundle: SalaryModel, evaluation: pd.DataFrame, num_threads: int | None = None
) -> dict[str, float]:
    """Metrics of the bundle on an evaluation frame, with the shared metric names."""
    return score_bundle(bundle, evaluation, num_threads)[1]


def backtest(config: TrainConfig, split: Split, read: Interpreted | None = None) -> Backtest:
    """Fit on the training rows and score on the evaluation rows (`read`: both already interpreted)."""
    bundle = fit_bundle(split.train, config, read.train if read else None)
    rows = read.evaluation if read else None
    preds, metrics = score_bundle(bundle, split.evaluation, config.num_threads, rows)
    return Backtest(bundle, preds, metrics)


def baseline_kinds(config: TrainConfig) -> tuple[str, ...]:
    """The baselines logged beside a run of this config: none when switched off, never the run's own kind."""
    return tuple(k for k in BASELINES_BESIDE if config.baselines and k != config.model_kind)


def _log_bundle(bundle: SalaryModel) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = bundle.save(Path(tmp) / "bundle")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(CODE_FILE),  # models from code: MLflow stores the file, pickles nothing
            artifacts={"bundle": str(path)},
            signature=signature(bundle.quantile_names),
            input_example=input_example(),
        )
    return str(info.model_uri)


def check_fits(
    frame: pd.DataFrame, config: TrainConfig, available: Callable[[], int | None] = available_memory
) -> None:
    """Refuse before any run is logged when the fit on every row will not fit in memory.

    The feature columns are counted on a sample (a lower bound: the full data passes `min_count` for
    more skills and title words), so `fit_bundle` checks again with the exact count.
    """
    sample = frame.iloc[:MEMORY_SAMPLE_ROWS]
    columns = len(JobFeatures(min_count=config.min_count).fit(sample).get_feature_names_out())
    check_training_memory(len(frame), columns, _copies(config), available, _centers(config, frame))


def run_summary(
    config: TrainConfig,
    split: Split,
    path: str | None,
    report: CleaningReport,
    rows: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """What a version's description and the bundle's metadata say about its data.

    `rows` (train, evaluation) when the split's frames are samples of the rows (a cluster's run).
    """
    train_rows, eval_rows = rows or (len(split.train), len(split.evaluation))
    return {
        "model_kind": config.model_kind,
        "source": config.source,
        "data_path": str(path) if path is not None else None,
        "rows_in": report.rows_in,
        "rows_out": report.rows_out,
        "rows_train": train_rows,
        "rows_eval": eval_rows,
        "rows_fitted": report.rows_out if config.refit_all else train_rows,
        "split": split.description,
        "eval_digest": split.digest,
    }


def log_outcome(
    config: TrainConfig,
    split: Split,
    report: CleaningReport,
    scored: Backtest,
    bundle: SalaryModel,
    evaluation: PandasDataset,
    groups: pd.DataFrame | None,
    package: bool = True,
    rows: tuple[int, int] | None = None,
) -> str | None:
    """Everything a run logs after fitting, in the order the UI needs; returns the logged model's URI.

    The model first, then the headline metrics on it and the run, then the detail metrics (quantile
    checks, row counts, grouped segment metrics) and the plots on the run only. Without `package` the
    model is not saved (MLflow's inference of its requirements alone takes seconds) but still listed
    with its metrics in the Models tab: a baseline beside a run is a rule in our code, not a file to load.
    """
    mlflow.log_params(tracking.run_params(config, bundle, split.kind))
    tags = {"model_kind": config.model_kind, "source": config.source, "eval_digest": split.digest}
    model_uri = None
    if package:
        model_uri = _log_bundle(bundle)
        model_id = tracking.last_model_id(tags)
    else:
        model_id = tracking.log_unpackaged_model(config.model_kind, tags)
    tracking.log_model_metrics(model_id, scored.metrics, evaluation)
    train_rows, eval_rows = rows or (len(split.train), len(split.evaluation))
    counts = {"train": train_rows, "eval": eval_rows}
    detail = tracking.split_headline(scored.metrics)[1]
    fitted = float(bundle.metadata["rows_fitted"])
    tracking.log_run_metrics({**detail, **tracking.row_metrics(report, counts), "rows_fitted": fitted})
    mlflow.set_tag("metrics_from", bundle.metadata["metrics_from"])
    tracking.log_evaluation(split.evaluation, scored.preds, bundle.model.quantiles, scored.bundle, groups)
    return model_uri


def annotate(bundle: SalaryModel, summary: dict[str, Any], run_id: str, metrics: dict[str, float],
              refitted: bool) -> None:
    """Write the run, its data and its backtest into the bundle, which serving reports from."""
    bundle.metadata.update(
        {
            **summary,
            "run_id": run_id,
            "metrics": metrics,
            "metrics_from": "backtest: fitted on the training side of the split, scored on the "
            "evaluation side" + ("; the registered model is refitted on all rows" * refitted),
        }
    )


def _log_baseline(
    config: TrainConfig,
    split: Split,
    source: SourceFrame,
    report: CleaningReport,
    scored: Backtest,
    beside: str,
    groups: pd.DataFrame,
    experiment_id: str,
    datasets: tracking.SplitDatasets,
) -> str:
    """One baseline's run beside a training run: same data, same evaluation set, logged and not registered."""
    run_name = f"{config.model_kind}-{config.source}"
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        evaluation = tracking.log_inputs(config, split, source.path, report, datasets)
        mlflow.set_tag("baseline_for", beside)
        summary = run_summary(config, split, source.path, report)
        annotate(scored.bundle, summary, run.info.run_id, scored.metrics, refitted=False)
        log_outcome(config, split, report, scored, scored.bundle, evaluation, groups, package=False)
    return str(run.info.run_id)


def register_trained(
    config: TrainConfig, model_uri: str, run_id: str, summary: dict[str, Any], metrics: dict[str, float]
) -> tuple[str | None, bool]:
    """Register the run's model when the config asks: its version, and whether it became champion.

    A baseline is registered for comparison but never becomes champion by itself.
    """
    if not config.register:
        return None, False
    first = "first registered version, no champion yet" if config.model_kind == "lightgbm" else None
    return promote.register(
        model_uri,
        run_id,
        first,
        description=promote.version_description(summary, metrics, run_id,
                                                TRAIN_DECISION[config.model_kind == "lightgbm"]),
        tags=promote.version_tags(summary),
    )


def train(config: TrainConfig, available: Callable[[], int | None] = available_memory) -> TrainResult:
    """The whole job: read, clean, split, fit, evaluate, log, register, then the baselines beside it;
    `available` sizes the memory check."""
    registry.configure(config.tracking_uri)
    config = with_tuned_params(config)
    config = replace(config, num_threads=config.threads())  # logged as the run's num_threads
    source, frame, report = load_training_frame(config)
    where = source.path or config.source
    log.info("read %d rows from %s, %d after cleaning", report.rows_in, where, len(frame))
    check_fits(frame, config, available)
    split = split_frame(frame, seed=config.seed, test_size=config.test_size, temporal=config.temporal)
    experiment_id = registry.ensure_experiment(config.experiment, tracking.experiment_tags())
    # Read once, for the run and the baselines beside it: the records, the datasets, the segments.
    read = Interpreted(interpret_all(split.train), interpret_all(split.evaluation))
    datasets = tracking.SplitDatasets.of(config.source, split, source.path)
    groups = tracking.segments(read.evaluation)
    # The baselines take seconds; they are scored first so the run can say how far it beats the group
    # median, and logged after it (refitting them on all rows would change nothing a comparison reads).
    beside = {
        kind: (cfg, backtest(cfg, split, read))
        for kind in baseline_kinds(config)
        for cfg in [replace(config, model_kind=kind, refit_all=False, register=False)]
    }
    reference = beside.get(REFERENCE_BASELINE)
    run_name = f"{config.model_kind}-{config.source}"
    summary = run_summary(config, split, source.path, report)
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        evaluation = tracking.log_inputs(config, split, source.path, report, datasets)
        scored = backtest(config, split, read)
        own = scored.metrics["mae"] if config.model_kind == REFERENCE_BASELINE else None
        reference_mae = reference[1].metrics["mae"] if reference is not None else own
        scored.metrics = relative_to_reference(scored.metrics, reference_mae)
        # The backtest scored, the served model learns from every row, the newest included, by the same
        # procedure (a temporal split's newest year is then the calibration fold); the metrics stay
        # the backtest's, as nothing is left to score the final model on.
        bundle = fit_bundle(frame, config, available=available) if config.refit_all else scored.bundle
        annotate(bundle, summary, run.info.run_id, scored.metrics, refitted=config.refit_all)
        model_uri = str(log_outcome(config, split, report, scored, bundle, evaluation, groups))
        version, champion = register_trained(config, model_uri, run.info.run_id, summary, scored.metrics)
    baseline_runs = {}
    for kind, (cfg, result) in beside.items():
        result.metrics = relative_to_reference(result.metrics, reference_mae)
        baseline_runs[kind] = _log_baseline(
            cfg, split, source, report, result, run.info.run_id, groups, experiment_id, datasets
        )
    return TrainResult(
        run_id=run.info.run_id,
        model_uri=model_uri,
        version=version,
        metrics=scored.metrics,
        became_champion=champion,
        report=report,
        split_kind=split.kind,
        eval_digest=split.digest,
        evaluation=split.evaluation,
        summary=summary,
        baseline_runs=baseline_runs,
        reference_mae=reference_mae,
    )
