"""Training job: data in, bundle fitted and evaluated, run logged to MLflow, version registered."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from features.pipeline import JobFeatures, interpret_all
from features.population import Population
from models import registry
from models.baselines import BASELINES, Baseline
from models.bundle import SalaryModel
from models.pyfunc import CODE_FILE, input_example, signature
from models.quantile import QuantileModel
from training import promote, tracking
from training.augment import blank_parts
from training.cleaning import CleaningReport, clean_source
from training.config import TrainConfig
from training.evaluate import regression_metrics
from training.memory import available_memory, check_training_memory
from training.sources import SourceFrame, get_source
from training.sources.base import TARGET
from training.splits import calibration_fold, random_stream, split_frame
from training.tuned_params import with_tuned_params

log = logging.getLogger(__name__)
MEMORY_SAMPLE_ROWS = 20_000  # rows whose feature columns size the memory check before a run starts


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


def fit_bundle(
    train: pd.DataFrame, config: TrainConfig, available: Callable[[], int | None] = available_memory
) -> SalaryModel:
    """Fit the feature pipeline on the rows, and the model on the rows and their partial copies.

    Refuses (NotEnoughMemory) before the matrix is built when `available()` bytes will not hold the fit.
    """
    rows = interpret_all(train)  # the costly part: read each record once for fit and transform
    features = JobFeatures(min_count=config.min_count).fit(rows)
    names = list(features.get_feature_names_out())
    copies = _copies(config)
    check_training_memory(len(train), len(names), copies, available)
    log.info("fitting on %d rows, %d feature columns, %d partial copies each", len(train), len(names), copies)
    default_year = features.default_work_year_
    years = np.array([r.work_year or default_year or np.nan for r in rows], dtype=float)
    fold = calibration_fold(years, seed=config.seed)
    augmented, origin = blank_parts(train, copies, random_stream(config.seed, "copies"))
    rows += interpret_all(augmented.iloc[len(train) :])
    X = features.transform_interpretations(rows)
    y = np.log(train[TARGET].to_numpy(dtype=float))[origin]
    model = make_model(config).fit(
        X,
        y,
        names,
        categorical_features=features.categorical_features,
        monotone_increasing=features.monotone_increasing,
        calibration=fold.mask[origin],  # a row's copies stay on its side of the calibration split
        calibration_note=fold.description,
        complete=np.arange(len(origin)) < len(train),
    )
    meta = {
        "model_kind": config.model_kind,
        "calibration": getattr(model, "calibration_", None),
        "augment_copies": copies,
        "population": Population.count(rows[: len(train)], config.source).to_dict(),
    }
    return SalaryModel(features, model, meta)


def score_bundle(
    bundle: SalaryModel, evaluation: pd.DataFrame, num_threads: int | None = None
) -> tuple[np.ndarray, dict[str, float]]:
    """Predictions on an evaluation frame and their metrics, predicting once for both."""
    preds = bundle.predict(evaluation, num_threads=num_threads)
    metrics = regression_metrics(evaluation[TARGET].to_numpy(dtype=float), preds, bundle.model.quantiles)
    return preds, metrics


def evaluate_bundle(
    bundle: SalaryModel, evaluation: pd.DataFrame, num_threads: int | None = None
) -> dict[str, float]:
    """Metrics of the bundle on an evaluation frame, with the shared metric names."""
    return score_bundle(bundle, evaluation, num_threads)[1]


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
    check_training_memory(len(frame), columns, _copies(config), available)


def train(config: TrainConfig, available: Callable[[], int | None] = available_memory) -> TrainResult:
    """The whole job: read, clean, split, fit, evaluate, log, register; `available` sizes the memory check."""
    registry.configure(config.tracking_uri)
    config = with_tuned_params(config)
    config = replace(config, num_threads=config.threads())  # logged as the run's num_threads
    source, frame, report = load_training_frame(config)
    where = source.path or config.source
    log.info("read %d rows from %s, %d after cleaning", report.rows_in, where, len(frame))
    check_fits(frame, config, available)
    split = split_frame(frame, seed=config.seed, test_size=config.test_size, temporal=config.temporal)
    experiment_id = registry.ensure_experiment(config.experiment)
    run_name = f"{config.model_kind}-{config.source}"
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        tracking.log_inputs(config, split, source.path, report)
        backtest = fit_bundle(split.train, config, available)
        preds, metrics = score_bundle(backtest, split.evaluation, config.num_threads)
        # The backtest scored, the served model learns from every row, the newest included, by the same
        # procedure (a temporal split's newest year is then the calibration fold); the metrics stay
        # the backtest's, as nothing is left to score the final model on.
        bundle = fit_bundle(frame, config, available) if config.refit_all else backtest
        bundle.metadata.update(
            {
                "source": config.source,
                "rows_train": len(split.train),
                "rows_eval": len(split.evaluation),
                "rows_fitted": len(frame) if config.refit_all else len(split.train),
                "split": split.description,
                "eval_digest": split.digest,
                "run_id": run.info.run_id,
                "metrics": metrics,
                "metrics_from": "backtest: fitted on the training side of the split, scored on the "
                "evaluation side" + ("; the registered model is refitted on all rows" * config.refit_all),
            }
        )
        mlflow.log_params(tracking.run_params(config, bundle, split.kind))
        mlflow.log_metrics({**metrics, "rows_fitted": float(bundle.metadata["rows_fitted"])})
        mlflow.set_tag("metrics_from", bundle.metadata["metrics_from"])
        tracking.log_evaluation(split.evaluation, preds, bundle.model.quantiles, backtest)
        model_uri = _log_bundle(bundle)
        version: str | None = None
        champion = False
        if config.register:  # a baseline is registered for comparison but never becomes champion by itself
            first = "first registered version, no champion yet" if config.model_kind == "lightgbm" else None
            version, champion = promote.register(model_uri, run.info.run_id, first)
    return TrainResult(
        run_id=run.info.run_id,
        model_uri=model_uri,
        version=version,
        metrics=metrics,
        became_champion=champion,
        report=report,
        split_kind=split.kind,
        eval_digest=split.digest,
        evaluation=split.evaluation,
    )
