"""`salary`: a thin command-line shell over the training, data and serving functions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Salary estimation: train, register and serve salary range models.", no_args_is_help=True
)
data_app = typer.Typer(
    help="Datasets: write the demo data, fetch public data.", no_args_is_help=True
)
app.add_typer(data_app, name="data")

SourceOpt = Annotated[
    str, typer.Option("--source", "-s", help="Dataset adapter: demo, aijobs, ...")
]
DataOpt = Annotated[Path | None, typer.Option("--data", "-d", help="Path to the dataset file.")]
TrackingOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or ./mlflow.db)."
    ),
]


@app.command()
def train(
    source: SourceOpt = "demo",
    data: DataOpt = None,
    seed: Annotated[int, typer.Option(help="Seed for the split and the boosters.")] = 42,
    rounds: Annotated[int, typer.Option(help="Boosting rounds per quantile.")] = 400,
    random_split: Annotated[
        bool, typer.Option("--random-split", help="Force a seeded random split.")
    ] = False,
    register: Annotated[
        bool, typer.Option(help="Register the model version in the registry.")
    ] = True,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Train a model bundle on a dataset, log it to MLflow and register it."""
    from training.train import TrainConfig
    from training.train import train as run_training

    try:
        result = run_training(
            TrainConfig(
                source=source,
                data=data,
                seed=seed,
                num_boost_round=rounds,
                temporal=not random_split,
                register=register,
                tracking_uri=tracking_uri,
            )
        )
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(result.report.to_text())
    typer.echo(f"split: {result.split_kind}, evaluation digest {result.eval_digest}")
    for key in ("mae", "mdape", "r2_log", "coverage_p10_p90", "coverage_p25_p75"):
        if key in result.metrics:
            typer.echo(f"  {key:<18} {result.metrics[key]:,.4f}")
    typer.echo(f"run {result.run_id}; model {result.model_uri}")
    if result.version:
        note = " (now champion)" if result.became_champion else ""
        typer.echo(f"registered salary-estimator version {result.version}{note}")


@app.command()
def serve(
    model: Annotated[
        str | None, typer.Option("--model", help="Model URI or bundle path to serve.")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Serve the estimate API (default model: models:/salary-estimator@champion)."""
    import os

    import uvicorn

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
    uvicorn.run("serving.main:create_app", factory=True, host=host, port=port, workers=workers)


@data_app.command("demo")
def data_demo(
    out: Annotated[Path, typer.Option(help="Where to write the CSV.")] = Path("data/demo.csv"),
    rows: Annotated[int, typer.Option(help="Number of synthetic records.")] = 5000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 7,
) -> None:
    """Write the SYNTHETIC demo dataset (planted effects, not real salaries)."""
    from training.sources.demo import write_demo

    path = write_demo(out, n=rows, seed=seed)
    typer.echo(f"wrote {rows} synthetic demo records to {path}")


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
