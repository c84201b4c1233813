"""`salary`: a thin command-line shell over the training, data and serving functions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from training.config import TrainConfig
    from training.train import TrainResult

app = typer.Typer(
    help="Salary estimation: train, register and serve salary range models.", no_args_is_help=True
)
data_app = typer.Typer(
    help="Datasets: write the demo data, fetch public data.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
OPENMP_WAIT_POLICY = "PASSIVE"

SourceOpt = Annotated[
    str, typer.Option("--source", "-s", help="Dataset adapter: demo, aijobs, ...")
]
DataOpt = Annotated[Path | None, typer.Option("--data", "-d", help="Path to the dataset file.")]
TrainDataOpt = Annotated[
    str | None,
    typer.Option(
        "--data",
        "-d",
        help="Path to the dataset file; with --cluster a path, glob or URL (s3://, gcs://, file://).",
    ),
]
TrackingOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or ./mlflow.db)."
    ),
]
SeedOpt = Annotated[
    int,
    typer.Option(
        help="Seeds every random choice: a random evaluation split, a random calibration fold, and "
        "LightGBM's bagging and feature sampling (unless the params set LightGBM's own seed). A temporal "
        "split and a newest-year fold are not random, so there the seed changes only the boosters."
    ),
]
RoundsOpt = Annotated[int, typer.Option(help="Boosting rounds per quantile.")]
RandomSplitOpt = Annotated[bool, typer.Option("--random-split", help="Force a seeded random split.")]
ModelKindOpt = Annotated[
    str,
    typer.Option("--model-kind", help="lightgbm, or a baseline: global_median, group_median, ridge."),
]
MaxRejectedOpt = Annotated[
    float,
    typer.Option(
        "--max-rejected",
        help="Stop (exit 2, nothing logged or registered) when more than this share of the rows read has "
        "a value the adapter cannot read (a salary, year, currency or pay period); at 1, only data "
        "with no usable row stops.",
    ),
]
CopiesOpt = Annotated[
    int,
    typer.Option(
        "--copies",
        min=0,
        help="Partial copies of each training row, with parts a client may leave out blanked, so a "
        "missing field means unknown (0: none; docs/model.md).",
    ),
]
CentersOpt = Annotated[
    bool,
    typer.Option(
        "--centers/--no-centers",
        help="With copies, also fit a center for each common kind of call (all fields, title + location "
        "+ experience, title + location, title, + five skills), kept where the calibration fold says "
        "it beats the shared one (docs/model.md, 'Per-profile centers').",
    ),
]
RefitOpt = Annotated[
    bool,
    typer.Option(
        "--refit-all/--no-refit-all",
        help="After the backtest, fit the registered model on every row (metrics stay the backtest's).",
    ),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option("--threads", help="LightGBM threads (default: the cores this process may run on)."),
]
BaselinesOpt = Annotated[
    bool,
    typer.Option(
        "--baselines/--no-baselines",
        help="Also log the global-median and group-median baselines as runs on the same evaluation set "
        "(seconds of work; logged, never registered).",
    ),
]
TunedOpt = Annotated[
    Path | None,
    typer.Option(
        "--tuned-params", help="Tuned parameters JSON (default: tuned_params.json beside the tracking store)."
    ),
]


@app.callback()
def main() -> None:
    """Salary estimation: train, register and serve salary range models."""
    # LightGBM's OpenMP threads spin while they wait for each other. On a machine busy with other
    # work a spinning thread holds a core its partner needs: a 3,000-row fit took 42-54 s instead of
    # 4 s at load 3-5 on two cores (README). Passive waiting must be set before LightGBM is loaded.
    os.environ.setdefault("OMP_WAIT_POLICY", OPENMP_WAIT_POLICY)


# rows read, boosters fitted (in one process or on a cluster)
PROGRESS_LOGGERS = ("training.train", "models.quantile", "training.dask_train", "training.dask_fit")


def _show_progress() -> None:
    """Print training progress (rows read, boosters fitted) to stderr, so a long run is not silent."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    for name in PROGRESS_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        if not logger.handlers:
            logger.addHandler(handler)


def _train_on_cluster(
    config: TrainConfig, address: str, data: str | None, workers: int, memory: str, timeout_s: float
) -> TrainResult:
    """`salary train --cluster`: connect (or start a local cluster) and train there."""
    from training.cluster import connect
    from training.dask_train import train_on_cluster

    if data is None:
        raise ValueError("--cluster needs --data: a CSV or Parquet path or glob of the files to train on")
    with connect(address, timeout_s=timeout_s, workers=workers, memory_limit=memory) as client:
        return train_on_cluster(config, client, data)


@app.command()
def train(
    source: SourceOpt = "demo",
    data: TrainDataOpt = None,
    seed: SeedOpt = 42,
    rounds: RoundsOpt = 400,
    random_split: RandomSplitOpt = False,
    register: Annotated[
        bool, typer.Option(help="Register the model version in the registry.")
    ] = True,
    tracking_uri: TrackingOpt = None,
    model_kind: ModelKindOpt = "lightgbm",
    tuned_params: TunedOpt = None,
    max_rejected: MaxRejectedOpt = 0.05,
    threads: ThreadsOpt = None,
    copies: CopiesOpt = 3,
    centers: CentersOpt = True,
    refit_all: RefitOpt = True,
    baselines: BaselinesOpt = True,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Train on a Dask cluster: a scheduler address (tcp://host:8786), or 'local' for worker "
            "processes on this machine. --data is then a CSV or Parquet path or glob (quote it), local "
            "or an fsspec URL such as 's3://bucket/data/*.parquet' (install s3fs, gcsfs, ... on the "
            "workers), one partition per file; baselines are skipped (docs/training.md).",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes of a --cluster local.")] = 2,
    worker_memory: Annotated[
        str,
        typer.Option("--worker-memory", help="Memory limit per worker of a --cluster local, e.g. 2GB."),
    ] = "auto",
    connect_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the --cluster scheduler to answer.")
    ] = 20.0,
) -> None:
    """Train a model bundle on a dataset, log it to MLflow and register it.

    Exit codes: 0 trained, 2 failed (bad data, too many unreadable values, no cluster, a worker lost,
    ...): nothing registered.
    """
    from training.cleaning import TooManyRejected
    from training.cluster import ClusterBusy, ClusterUnavailable, WorkerLost
    from training.config import TrainConfig
    from training.evaluate import HEADLINE
    from training.storage import is_url
    from training.train import train as run_training

    _show_progress()
    try:
        if data is not None and is_url(data) and cluster is None:
            raise ValueError(
                f"--data {data}: a URL is read with --cluster (local or an address); without it, --data "
                "is a local file"
            )
        config = TrainConfig(
            source=source,
            data=Path(data) if data is not None else None,
            seed=seed,
            num_boost_round=rounds,
            temporal=not random_split,
            register=register,
            tracking_uri=tracking_uri,
            model_kind=model_kind,
            tuned_params=tuned_params,
            max_rejected=max_rejected,
            num_threads=threads,
            augment_copies=copies,
            centers=centers,
            refit_all=refit_all,
            baselines=baselines,
        )
        if cluster is None:
            result = run_training(config)
        else:
            result = _train_on_cluster(config, cluster, data, workers, worker_memory, connect_timeout)
    except (ValueError, ClusterUnavailable, ClusterBusy, WorkerLost) as exc:
        if isinstance(exc, TooManyRejected):
            typer.echo(exc.report.to_text())
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(result.report.to_text())
    typer.echo(f"split: {result.split_kind}, evaluation digest {result.eval_digest}")
    typer.echo("backtest metrics" + (" (the registered model is then refitted on all rows)" * refit_all))
    for key in HEADLINE:
        if key in result.metrics:
            typer.echo(f"  {key:<20} {result.metrics[key]:,.4f}")
    typer.echo(f"run {result.run_id}; model {result.model_uri}")
    for kind, run_id in result.baseline_runs.items():
        typer.echo(f"baseline {kind}: run {run_id}")
    if result.version:
        note = " (now champion)" if result.became_champion else ""
        typer.echo(f"registered salary-estimator version {result.version}{note}")


@app.command()
def tune(
    source: SourceOpt = "demo",
    data: DataOpt = None,
    trials: Annotated[int, typer.Option(help="Optuna trials, each a nested MLflow run.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed for the split, the validation slice and the sampler.")] = 42,
    random_split: Annotated[
        bool, typer.Option("--random-split", help="Force a seeded random split.")
    ] = False,
    tracking_uri: TrackingOpt = None,
    out: TunedOpt = None,
    max_rejected: MaxRejectedOpt = 0.05,
    threads: ThreadsOpt = None,
) -> None:
    """Tune the LightGBM parameters on a validation slice of the training rows; train picks them up."""
    from training.config import TrainConfig
    from training.tune import tune as run_tuning

    try:
        result = run_tuning(
            TrainConfig(
                source=source, data=data, seed=seed, temporal=not random_split, tracking_uri=tracking_uri,
                max_rejected=max_rejected, num_threads=threads,
            ),
            trials=trials,
            out=out,
        )
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"best validation MAE {result.best_mae:,.0f} in {result.trials} trials, run {result.run_id}")
    typer.echo(f"  {result.best_params} with {result.num_boost_round} rounds")
    typer.echo(f"saved to {result.path}; `salary train --source {source}` uses them")


@app.command()
def serve(
    model: Annotated[
        str | None, typer.Option("--model", help="Model URI or bundle path to serve.")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (2 measured best on 2 cores: benchmarks/RESULTS.md).")
    ] = 2,
    tracking_uri: TrackingOpt = None,
    access_log: Annotated[
        bool, typer.Option(help="Log a line per request (path and status, never bodies).")
    ] = False,
) -> None:
    """Serve the estimate API (default model: models:/salary-estimator@champion)."""
    import os

    from serving.run import serve as run_server

    if model:
        os.environ["SALARY_MODEL_URI"] = model
    if tracking_uri:
        os.environ["SALARY_TRACKING_URI"] = tracking_uri
    typer.echo(
        f"serving on http://{host}:{port}; try:\n"
        f"  curl -s -X POST http://{host}:{port}/v1/estimates -H 'Content-Type: application/json' \\\n"
        '    -d \'{"title": "Senior Data Scientist", "skills": ["Python", "PyTorch"], '
        '"location": "San Francisco, CA", "years_experience": 6}\''
    )
    run_server(host, port, workers, access_log=access_log)


@data_app.command("demo")
def data_demo(
    out: Annotated[
        Path, typer.Option(help="Where to write: a CSV file, or a folder for --format parquet.")
    ] = Path("data/demo.csv"),
    rows: Annotated[int, typer.Option(min=1, help="Number of synthetic records.")] = 5000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 7,
    format: Annotated[
        str, typer.Option("--format", help="csv (one file) or parquet (a folder of partitions).")
    ] = "csv",
    partition_rows: Annotated[
        int, typer.Option(min=1, help="Rows per Parquet partition, each drawn with its own seed.")
    ] = 1_000_000,
) -> None:
    """Write the SYNTHETIC demo dataset (planted effects, not real salaries)."""
    from training.sources.demo import write_demo, write_demo_parquet

    if format == "parquet":
        paths = write_demo_parquet(out, n=rows, seed=seed, partition_rows=partition_rows)
        typer.echo(f"wrote {rows} synthetic demo records to {out} in {len(paths)} Parquet partitions")
        return
    if format != "csv":
        typer.secho(f"error: --format {format!r} is not csv or parquet", fg="red", err=True)
        raise typer.Exit(code=2)
    path = write_demo(out, n=rows, seed=seed)
    typer.echo(f"wrote {rows} synthetic demo records to {path}")


@app.command()
def score(
    input: Annotated[
        str,
        typer.Option(
            "--input",
            help="A CSV or Parquet file, or a glob of many (quote it); local or an fsspec URL such as "
            "'s3://bucket/jobs/*.parquet' (install the protocol's package: s3fs, gcsfs, ...).",
        ),
    ],
    output: Annotated[
        str,
        typer.Option("--output", help="Local folder for the Parquet part files (not a URL)."),
    ],
    model: Annotated[
        str | None, typer.Option("--model", help="Model URI or bundle path (default: the champion).")
    ] = None,
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", min=1, help="Rows read, scored and written at a time.")
    ] = 100_000,
    tracking_uri: TrackingOpt = None,
    cluster: Annotated[
        str | None,
        typer.Option("--cluster", help="Score on a Dask cluster: a scheduler address, or 'local'."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes of a 'local' cluster.")
    ] = 2,
    worker_memory: Annotated[
        str, typer.Option("--worker-memory", help="Memory limit per 'local' worker, e.g. 2GB; auto: a share.")
    ] = "auto",
    connect_timeout: Annotated[
        float, typer.Option("--connect-timeout", min=0.1, help="Seconds to wait for the scheduler to answer.")
    ] = 20.0,
) -> None:
    """Batch estimates for files of job records, streamed in chunks so memory stays bounded.

    With --cluster, each file is scored on a worker, which writes its own part files (the paths must
    be reachable from every worker). Exit codes: 0 scored, 2 a bad input file or model (the message
    names it), 3 no cluster answered at the address.
    """
    import contextlib

    from mlflow.exceptions import MlflowException
    from tqdm import tqdm

    from models.registry import alias_uri
    from serving.loader import load_model
    from training.cluster import ClusterUnavailable, connect
    from training.cluster_score import score_on_cluster
    from training.score import BadInput, input_files, score_files
    from training.storage import is_url

    try:
        if is_url(output):
            raise ValueError(
                f"--output {output}: part files are written to a local folder (with --cluster, one every "
                "worker can reach, e.g. a shared mount); copy them to object storage afterwards"
            )
        input_files(input)  # refuse a missing or non-CSV/Parquet file before loading the model
        bundle = load_model(model or alias_uri(), tracking_uri).bundle
        with contextlib.ExitStack() as stack:
            bar = stack.enter_context(tqdm(unit=" rows", unit_scale=True, desc="scoring"))
            if cluster is None:
                summary = score_files(bundle, input, Path(output), chunk_rows, progress=bar.update)
            else:
                client = stack.enter_context(connect(cluster, connect_timeout, workers, worker_memory))
                summary = score_on_cluster(
                    client, bundle, input, Path(output), chunk_rows, progress=bar.update
                )
    except ClusterUnavailable as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(code=3) from exc
    except (BadInput, MlflowException, ValueError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(
        f"scored {summary.rows:,} rows from {summary.files} files into {summary.parts} part files in "
        f"{output} ({summary.rows_per_second:,.0f} rows/s)"
    )


@data_app.command("fetch")
def data_fetch(
    name: Annotated[str, typer.Argument(help="Public dataset to download: aijobs.")],
    sha256: Annotated[
        str | None, typer.Option(help="Expected sha256 of the file (it changes as it grows).")
    ] = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Skip the checksum check, knowingly.")
    ] = False,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Cache folder (default $SALARY_CACHE_DIR or ~/.cache).")
    ] = None,
    url: Annotated[str | None, typer.Option(help="Download from this URL instead.")] = None,
) -> None:
    """Download a public dataset into the cache, verified by sha256."""
    from training.fetch import fetch_dataset

    try:
        path = fetch_dataset(name, cache_dir=cache_dir, url=url, sha256=sha256, verify=not no_verify)
    except (ValueError, OSError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"downloaded {name} to {path}")


@app.command()
def retrain(
    source: SourceOpt = "demo",
    data: DataOpt = None,
    seed: SeedOpt = 42,
    rounds: RoundsOpt = 400,
    random_split: RandomSplitOpt = False,
    mae_tolerance: Annotated[
        float, typer.Option(help="How much worse (relative) the challenger's MAE may be: 0.02 = 2%.")
    ] = 0.02,
    coverage_min: Annotated[float, typer.Option(help="Lowest acceptable P10-P90 coverage.")] = 0.70,
    coverage_max: Annotated[float, typer.Option(help="Highest acceptable P10-P90 coverage.")] = 0.90,
    lock_file: Annotated[
        Path | None, typer.Option(help="Lock file (default: one per tracking store in the temp folder).")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why this retrain runs; kept in the alias log.")] = "retrain",
    tracking_uri: TrackingOpt = None,
    model_kind: ModelKindOpt = "lightgbm",
    tuned_params: TunedOpt = None,
    max_rejected: MaxRejectedOpt = 0.05,
    threads: ThreadsOpt = None,
    baselines: BaselinesOpt = True,
) -> None:
    """Train a challenger, compare it with the champion on the same evaluation set, promote if it passes.

    Exit codes: 0 promoted, 1 champion kept (gate failed), 2 failed (champion untouched),
    3 another retrain holds the lock.
    """
    from training.config import TrainConfig
    from training.retrain import Gate
    from training.retrain import retrain as run_retrain

    config = TrainConfig(
        source=source, data=data, seed=seed, num_boost_round=rounds, temporal=not random_split,
        tracking_uri=tracking_uri, model_kind=model_kind, tuned_params=tuned_params,
        max_rejected=max_rejected, num_threads=threads, baselines=baselines,
    )
    result = run_retrain(config, Gate(mae_tolerance, coverage_min, coverage_max), lock_file, reason)
    if result.comparison is not None:
        typer.echo(result.comparison.to_string(float_format=lambda v: f"{v:,.4f}"))
    if result.challenger is not None:
        typer.echo(result.challenger.report.to_text())
        typer.echo(f"evaluation digest {result.challenger.eval_digest}; run {result.challenger.run_id}")
    typer.secho(result.message, fg="green" if result.outcome == 0 else "red", err=result.outcome >= 2)
    raise typer.Exit(code=int(result.outcome))


@app.command()
def compare(
    refs: Annotated[
        list[str] | None,
        typer.Argument(help="Run ids, version numbers or aliases (default: champion challenger)."),
    ] = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Print the metrics of runs or registered versions side by side, and the parameters that differ."""
    from mlflow.exceptions import MlflowException

    from models.registry import CHALLENGER, CHAMPION, configure
    from training.compare import compare as run_compare

    configure(tracking_uri)
    try:
        comparison = run_compare(refs or [CHAMPION, CHALLENGER])
    except (ValueError, MlflowException) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(comparison.to_text())


@app.command("migrate-model")
def migrate_model(
    source: Annotated[
        str,
        typer.Argument(help="An earlier release's model: models:/NAME@ALIAS, models:/NAME/N or a path."),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Also write the converted bundle folder here (needed for a path).")
    ] = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Convert a pickled model (bundle.joblib) once to the plain-file format and register it as a new version.

    Unpickling runs code from the file: migrate only models whose origin you trust. The new version
    takes over the old version's aliases once it predicts exactly what the pickle did.
    """
    from training.migrate import migrate

    try:
        result = migrate(source, out, tracking_uri)
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(code=2) from exc
    if result.version is not None:
        moved = f"; aliases moved: {', '.join(result.aliases)}" if result.aliases else ""
        typer.echo(f"migrated {result.source} to version {result.version} ({result.model_uri}){moved}")
    if result.out is not None:
        typer.echo(f"wrote the converted bundle to {result.out}")


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 5000,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Start the MLflow UI on the same store the other commands use."""
    import subprocess

    import mlflow

    from models import registry
    from training.compare import runs_page, ui_command, ui_environment
    from training.tracking import experiment_tags

    try:
        command = ui_command(registry.tracking_uri(tracking_uri), host, port)
    except ValueError as exc:
        typer.secho(str(exc), fg="yellow", err=True)
        raise typer.Exit(code=2) from exc
    base = f"http://{host}:{port}"
    registry.configure(tracking_uri)
    page = base
    if mlflow.get_experiment_by_name(registry.EXPERIMENT) is not None:
        # A store trained before the UI tags existed gets them now, so the link opens as it should.
        page = runs_page(base, registry.ensure_experiment(registry.EXPERIMENT, experiment_tags()))
    typer.echo(f"MLflow UI on {base} (Ctrl-C stops it); training runs with their metrics:\n  {page}")
    raise typer.Exit(code=subprocess.call(command, env=ui_environment(os.environ)))
