"""`salary train --cluster`: the training job on a Dask cluster, logged and registered as in one process.

Differences from `training.train.train` (docs/training.md, "How it differs from one process"): the
baselines beside the run are skipped (tagged), a random split or fold draws per partition, and the
segment metrics, plots and logged datasets come from a sample of about SAMPLE_ROWS rows; the metrics
come from all rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import dask
import dask.dataframe as dd
import mlflow
import numpy as np
import pandas as pd
from distributed import Client

from models import registry
from models.bundle import SalaryModel
from training import tracking
from training.config import TrainConfig
from training.dask_data import KEEP_OBJECTS, ClusterData, partition_lengths, read_cluster_data, sample_rows
from training.dask_fit import fit_bundle_on_cluster
from training.evaluate import absolute_percentage_errors, metric_sums, metrics_from_sums
from training.sources.base import TARGET
from training.splits import HoldoutRule, Split, YearCounts, digest_bytes, digest_of, holdout_rule
from training.train import Backtest, TrainResult, annotate, log_outcome, register_trained, run_summary
from training.tuned_params import with_tuned_params

log = logging.getLogger(__name__)
SAMPLE_ROWS = 20_000  # evaluation rows (and training rows) the driver brings back for plots and datasets
MDAPE_ROWS = 200_000  # absolute percentage errors the driver collects for MdAPE (exact up to this many)
BASELINES_SKIPPED = "skipped on the cluster path (they fit in one process on the whole frame)"
NO_CENTERS = "none: every call is answered by the shared center (--no-centers, or no partial copies)"


@dataclass
class ClusterSplit:
    """Both sides of a split, held by the workers, with how they were cut and the evaluation digest."""

    train: dd.DataFrame
    evaluation: dd.DataFrame
    kind: str
    description: str
    digest: str


def _years(part: pd.DataFrame) -> YearCounts:
    return YearCounts.of(pd.to_numeric(part["work_year"], errors="coerce").to_numpy(dtype=float))


def _side(
    part: pd.DataFrame, rule: HoldoutRule, held: bool, partition_info: dict[str, Any] | None = None
) -> pd.DataFrame:
    number = partition_info["number"] if partition_info else 0
    years = pd.to_numeric(part["work_year"], errors="coerce").to_numpy(dtype=float)
    return part.loc[rule.mask(years, number) == held].reset_index(drop=True)


def frame_digest_on_cluster(client: Client, frame: dd.DataFrame) -> str:
    """`frame_digest` of a frame on the workers; the driver hashes one partition's row hashes at a time."""
    futures = client.compute([dask.delayed(digest_bytes)(part) for part in frame.to_delayed()])
    return digest_of(future.result() for future in futures)


def split_on_cluster(client: Client, frame: dd.DataFrame, config: TrainConfig) -> ClusterSplit:
    """`split_frame` on the cluster: the newest year decided from year counts, else a per-partition sample."""
    if not 0 < config.test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {config.test_size}")
    counts = client.compute([dask.delayed(_years)(part) for part in frame.to_delayed()], sync=True)
    years = sum(counts, YearCounts({}))
    if config.temporal:
        rule = holdout_rule(years, fraction=config.test_size, seed=config.seed, purpose="evaluation")
    else:
        why = "random split requested"
        rule = HoldoutRule(
            None,
            config.test_size,
            config.seed,
            "evaluation",
            why,
            f"seeded random {config.test_size:.0%} of rows per partition, seed={config.seed} ({why})",
        )
    temporal = rule.newest is not None
    # Not persisted: each side is cut again from the persisted rows when used, so they are held once.
    train = frame.map_partitions(_side, rule, False)
    evaluation = frame.map_partitions(_side, rule, True)
    description = f"evaluate on {rule.description}" + (", train on earlier years" if temporal else "")
    return ClusterSplit(
        train,
        evaluation,
        "temporal" if temporal else "random",
        description,
        frame_digest_on_cluster(client, evaluation),
    )


def _score_part(
    part: pd.DataFrame, bundle: SalaryModel, shares: tuple[float, float], seed: int, number: int
) -> tuple[dict[str, float], np.ndarray, pd.DataFrame, np.ndarray]:
    """One evaluation partition's metric sums, a sample of its APEs, and a sample of rows with predictions.

    `shares` are the shares of the partition's rows sampled for the APEs and for the rows.
    """
    if part.empty:
        return {}, np.zeros(0), part, np.zeros((0, len(bundle.model.quantiles)))
    preds = bundle.predict(part, num_threads=1)
    y = part[TARGET].to_numpy(dtype=float)
    quantiles = bundle.model.quantiles
    draw = np.random.default_rng([seed, number]).random(len(part))
    ape = absolute_percentage_errors(y, preds, quantiles)[draw < shares[0]]
    rows = draw < shares[1]
    return metric_sums(y, preds, quantiles), ape, part.loc[rows], preds[rows]


def evaluate_on_cluster(
    client: Client, bundle: SalaryModel, evaluation: dd.DataFrame, seed: int, rows: int
) -> tuple[dict[str, float], pd.DataFrame, np.ndarray]:
    """Metrics on every evaluation row, summed on the workers; a sample of rows and predictions for plots.

    MdAPE is exact up to MDAPE_ROWS evaluation rows, else the median of a seeded sample of about that
    many; the rows for plots are a seeded sample of about SAMPLE_ROWS.
    """
    shares = (min(1.0, MDAPE_ROWS / max(rows, 1)), min(1.0, SAMPLE_ROWS / max(rows, 1)))
    handle = client.scatter(bundle, broadcast=True)
    parts = [
        dask.delayed(_score_part)(part, handle, shares, seed, i)
        for i, part in enumerate(evaluation.to_delayed())
    ]
    scored = client.compute(parts, sync=True)
    sums: dict[str, float] = {}
    for part_sums, *_ in scored:
        for key, value in part_sums.items():
            sums[key] = sums.get(key, 0.0) + value
    apes = np.concatenate([s[1] for s in scored])
    sample = pd.concat([s[2] for s in scored], ignore_index=True)
    preds = np.vstack([s[3] for s in scored])
    metrics = metrics_from_sums(sums, bundle.model.quantiles, float(np.median(apes)))
    return metrics, sample, preds


def centers_tag(bundle: SalaryModel) -> str:
    """What the per-profile centers of a cluster-fitted bundle are: each kind of call's choice."""
    choices = getattr(bundle.model, "center_choices_", {})
    if not choices:
        return NO_CENTERS
    fitted = [f"{name} ({kind})" for name, kind in choices.items() if kind != "shared"]
    shared = [name for name, kind in choices.items() if kind == "shared"]
    return "; ".join(
        [f"fitted on the cluster: {', '.join(fitted) or 'none'}"]
        + ([f"the shared center did better for: {', '.join(shared)}"] if shared else [])
    )


def cluster_tags(
    client: Client, data: ClusterData, sample_rows_eval: int, bundle: SalaryModel
) -> dict[str, str]:
    """Tags that say the run was trained on a cluster, its size, what was left out, and its centers."""
    return {
        "trained_on": "dask cluster",
        "cluster.workers": str(len(client.nthreads())),
        "cluster.threads": str(sum(client.nthreads().values())),
        "cluster.partitions": str(data.frame.npartitions),
        "cluster.files": str(len(data.files)),
        "baselines": BASELINES_SKIPPED,
        "per_profile_centers": centers_tag(bundle),
        "evaluation_sample_rows": str(sample_rows_eval),
    }


def train_on_cluster(config: TrainConfig, client: Client, data: str) -> TrainResult:
    """The whole job on the cluster behind `client`: read, clean, split, fit, evaluate, log, register.

    `data` is a CSV or Parquet path or glob. Every fit runs before the MLflow run starts, so a run that
    fails (a worker lost, bad data) logs and registers nothing.
    """
    with dask.config.set(KEEP_OBJECTS):
        return _train_on_cluster(config, client, data)


def _train_on_cluster(config: TrainConfig, client: Client, data: str) -> TrainResult:
    registry.configure(config.tracking_uri)
    config = replace(with_tuned_params(config), baselines=False)
    loaded = read_cluster_data(client, data, config.source, config.max_rejected)
    report = loaded.report
    log.info(
        "read %d rows from %d files on the cluster, %d after cleaning",
        report.rows_in,
        len(loaded.files),
        report.rows_out,
    )
    split = split_on_cluster(client, loaded.frame, config)
    eval_rows = sum(partition_lengths(split.evaluation))
    rows = (report.rows_out - eval_rows, eval_rows)
    scored_bundle = fit_bundle_on_cluster(client, split.train, config)
    metrics, eval_sample, preds = evaluate_on_cluster(
        client, scored_bundle, split.evaluation, config.seed, rows[1]
    )
    log.info("scored %d evaluation rows on the cluster: MAE %.0f", eval_rows, metrics["mae"])
    bundle = fit_bundle_on_cluster(client, loaded.frame, config) if config.refit_all else scored_bundle
    train_sample = sample_rows(split.train, SAMPLE_ROWS, config.seed)
    sampled = Split(train_sample, eval_sample, split.kind, split.description, split.digest)
    summary = run_summary(config, sampled, data, report, rows)
    datasets = tracking.SplitDatasets(
        tracking.make_dataset(eval_sample, f"{config.source}-evaluation", split.digest, data),
        tracking.make_dataset(
            train_sample, f"{config.source}-training", frame_digest_on_cluster(client, split.train), data
        ),
    )
    experiment_id = registry.ensure_experiment(config.experiment, tracking.experiment_tags())
    log.info("logging the run to MLflow")
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"{config.model_kind}-{config.source}"
    ) as run:
        evaluation = tracking.log_inputs(config, sampled, data, report, datasets)
        mlflow.set_tags(cluster_tags(client, loaded, len(eval_sample), bundle))
        annotate(
            bundle,
            {**summary, "trained_on": "dask cluster"},
            run.info.run_id,
            metrics,
            refitted=config.refit_all,
        )
        scored = Backtest(scored_bundle, preds, metrics)
        model_uri = str(log_outcome(config, sampled, report, scored, bundle, evaluation, None, rows=rows))
        version, champion = register_trained(config, model_uri, run.info.run_id, summary, metrics)
    return TrainResult(
        run_id=run.info.run_id,
        model_uri=model_uri,
        version=version,
        metrics=metrics,
        became_champion=champion,
        report=report,
        split_kind=split.kind,
        eval_digest=split.digest,
        evaluation=None,
        summary=summary,
    )
