"""Scale: training and batch scoring on 1M-10M synthetic rows, in one process and on a LocalCluster.

Run from the repository root: `.venv/bin/python benchmarks/scale.py [--sizes 1M 5M] [--parts ...]`.
Each measurement runs in its own child process, so its peak memory is its own; results are kept in
DATA_DIR/results.json as they come, and the section "## Scale (issue 15)" of benchmarks/RESULTS.md
is rewritten from every result there after each one (a cut-off run still records what it measured).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.quality import write_section  # noqa: E402
from models.bundle import SalaryModel  # noqa: E402
from models.registry import MODEL_NAME  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.sources.base import TARGET  # noqa: E402
from training.sources.demo import write_demo_parquet  # noqa: E402

SECTION = "## Scale (issue 15)"
SIZES = {"250k": 250_000, "1M": 1_000_000, "5M": 5_000_000, "10M": 10_000_000}  # 250k: a quick check
PARTS = ("train-single", "train-cluster", "score-single", "score-cluster")
PARTITION_ROWS = 250_000
HELD_OUT_ROWS = 100_000
SEED = 15
WORKERS = 2
DEFAULT_DIR = Path(tempfile.gettempdir()) / "salary-scale"
STRUCTURED = ("title", "location", "company_size", "employment_type", "work_year", "remote_ratio")


def peak_mib() -> float:
    """This process's peak resident memory in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def view(root: Path, data: str, count: int) -> Path:
    """A folder of links to the first partitions holding `count` rows (sizes nest: 1M is the first of 10M)."""
    paths = sorted((root / data).glob("part-*.parquet"))
    folder = root / "views" / f"{data}-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for path in paths:
        if total >= count:
            break
        link = folder / path.name
        if not link.exists():
            link.symlink_to(path)
        total += pq.ParquetFile(path).metadata.num_rows
    if total != count:
        raise SystemExit(f"{root / data} holds {total} rows in its first partitions, expected {count}")
    return folder


def make_data(root: Path, rows: int) -> None:
    """Demo partitions (nearly every record distinct), their structured copies, a held-out partition."""
    demo, structured = root / "demo", root / "structured"
    have = sum(pq.ParquetFile(p).metadata.num_rows for p in demo.glob("part-*.parquet"))
    if have < rows:
        print(f"writing {rows:,} demo rows to {demo}", flush=True)
        write_demo_parquet(demo, n=rows, seed=SEED, partition_rows=PARTITION_ROWS)
    structured.mkdir(parents=True, exist_ok=True)
    for path in sorted(demo.glob("part-*.parquet")):
        target = structured / path.name
        if not target.exists():
            frame = pd.read_parquet(path, columns=[*STRUCTURED, "years_experience"])
            frame["years_experience"] = frame["years_experience"].round()  # whole years, as forms ask
            frame.to_parquet(target, index=False)
    if not (root / "held_out").exists():
        write_demo_parquet(root / "held_out", n=HELD_OUT_ROWS, seed=SEED + 1)


def quality(model: SalaryModel, root: Path) -> dict[str, float]:
    """MAE and P10-P90 coverage on the held-out partition (scored by the batch path, same numbers)."""
    from training.evaluate import regression_metrics
    from training.score import score_frame

    frame = pd.read_parquet(root / "held_out")
    preds = score_frame(model, frame.drop(columns=[TARGET]))[model.quantile_names].to_numpy()
    metrics = regression_metrics(frame[TARGET].to_numpy(dtype=float), preds, model.quantiles)
    return {"mae": metrics["mae"], "coverage": metrics["coverage_p10_p90"]}


def worker_peaks(client: Any) -> list[float]:
    """Each worker process's peak resident memory in MiB."""
    found = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return [round(v) for v in found.values()]


def config(rounds: int, centers: bool = True) -> TrainConfig:
    """The product's training settings, with fewer boosting rounds (and per-profile centers or not)."""
    return TrainConfig(num_boost_round=rounds, register=False, baselines=False, refit_all=False,
                       centers=centers)


def train_single(root: Path, rows: int, rounds: int) -> dict[str, Any]:
    """Refused up front by the memory guard, or fitted in this process on every row and scored."""
    from features.pipeline import JobFeatures
    from training.memory import NotEnoughMemory, check_training_memory
    from training.train import _copies, fit_bundle

    paths = sorted(view(root, "demo", rows).glob("*.parquet"))
    cfg = config(rounds)
    sample = pd.read_parquet(paths[0]).iloc[:20_000]
    columns = len(JobFeatures(min_count=cfg.min_count).fit(sample).get_feature_names_out())
    start = time.perf_counter()
    try:
        check_training_memory(rows, columns, _copies(cfg))
    except NotEnoughMemory as exc:
        return {"outcome": "refused", "message": str(exc), "driver_mib": round(peak_mib())}
    frame = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    bundle = fit_bundle(frame, cfg)
    seconds = time.perf_counter() - start
    out = {"outcome": "trained", "seconds": seconds, "driver_mib": round(peak_mib())}
    bundle.save(root / f"bundle-{rows}")
    return {**out, **quality(bundle, root)}


def train_cluster(root: Path, rows: int, rounds: int, memory: str, centers: bool) -> dict[str, Any]:
    """`salary train --cluster local` on the demo partitions: a LocalCluster of WORKERS workers."""
    from serving.loader import load_model
    from training.cluster import connect
    from training.dask_train import train_on_cluster

    store = Path(tempfile.mkdtemp(prefix="mlflow-"))
    start = time.perf_counter()
    with connect("local", workers=WORKERS, memory_limit=memory) as client:
        # Registered (in a throwaway store) so the bundle loads back the way serving loads it.
        cfg = dataclasses.replace(config(rounds, centers), register=True,
                                  tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
        result = train_on_cluster(cfg, client, str(view(root, "demo", rows) / "*.parquet"))
        seconds = time.perf_counter() - start
        out = {"outcome": "trained", "seconds": seconds, "driver_mib": round(peak_mib()),
               "worker_mib": worker_peaks(client), "centers": centers}
    bundle = load_model(f"models:/{MODEL_NAME}/{result.version}", cfg.tracking_uri).bundle
    return {**out, **quality(bundle, root)}


def score(root: Path, rows: int, data: str, cluster: bool, memory: str, bundle: Path) -> dict[str, Any]:
    """`salary score` on `rows` rows of `data` (demo or structured), in this process or on the cluster."""
    from training.cluster import connect
    from training.cluster_score import score_on_cluster
    from training.score import score_files

    model = SalaryModel.load(bundle)
    pattern = str(view(root, data, rows) / "*.parquet")
    output = Path(tempfile.mkdtemp(prefix="scored-"))
    if cluster:
        with connect("local", workers=WORKERS, memory_limit=memory) as client:
            summary = score_on_cluster(client, model, pattern, output)
            workers = worker_peaks(client)
    else:
        summary, workers = score_files(model, pattern, output), []
    for part in output.glob("*.parquet"):
        part.unlink()
    output.rmdir()
    return {"outcome": "scored", "rows": summary.rows, "seconds": summary.seconds,
            "rows_per_s": summary.rows_per_second, "driver_mib": round(peak_mib()), "worker_mib": workers}


def run_child(args: argparse.Namespace) -> dict[str, Any]:
    """One measurement, in this (child) process, with when it started and the machine's load as it ended."""
    started = dt.datetime.now().isoformat("T", "minutes")
    return {**measure(args), "load": round(os.getloadavg()[0], 1), "date": started}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """The part `--child` names."""
    root, rows = args.data_dir, SIZES[args.size]
    if args.child == "train-single":
        return train_single(root, rows, args.rounds)
    if args.child == "train-cluster":
        return train_cluster(root, rows, args.rounds, args.worker_memory, not args.no_centers)
    bundle = root / f"bundle-{min(SIZES[s] for s in args.sizes)}"
    if not bundle.exists():  # no single-process training ran: a small fit stands in
        from training.train import fit_bundle

        sample = pd.read_parquet(sorted((root / "demo").glob("part-*.parquet"))[0]).iloc[:100_000]
        fit_bundle(sample, config(args.rounds)).save(bundle)
    return score(root, rows, args.data, args.child == "score-cluster", args.worker_memory, bundle)


def machine() -> str:
    """Where and when: architecture, cores, memory, load, date."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    return (f"{platform.machine()} Linux, {os.cpu_count()} cores (shared with other work), "
            f"{pages / 2**30:.0f} GiB, Python {platform.python_version()}; load {load} when written")


def markdown(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    """The RESULTS.md section from every result measured so far."""
    lines = [
        SECTION, "",
        f"Run {dt.date.today().isoformat()} with `.venv/bin/python benchmarks/scale.py` on {machine()}. "
        f"Synthetic demo rows (`salary data demo --format parquet`, partitions of {PARTITION_ROWS:,}, "
        f"seed {SEED}); sizes nest (1M is the first partition of 10M). Training: the product's settings "
        f"with {args.rounds} boosting rounds instead of 400 (3 partial copies per row), one fit, no "
        f"refit or baselines; per-profile centers unless the table says \"no\". Cluster: a LocalCluster "
        f"of {WORKERS} worker processes, one thread each, "
        f"memory limit {args.worker_memory} per worker. MAE and P10-P90 coverage on a held-out partition "
        f"of {HELD_OUT_ROWS:,} rows (another seed). Peak memory: resident, per process "
        "(`getrusage`; workers through `client.run`). Rows per second per core: the run's rows/s "
        f"over the machine's {os.cpu_count()} cores (one process uses both through LightGBM's threads; "
        "the cluster one per worker). Scoring uses the bundle trained in one process at the smallest "
        "size (else one fitted on 100,000 rows), reads 100,000-row chunks and predicts each distinct "
        "feature row once (remembered across chunks). Demo records are nearly all distinct (skills, "
        "years to a tenth); structured ones have title, location, company size, employment type, year "
        "and whole years. A part skipped or refused says why below the table.",
        "", "| part | rows | data | outcome | wall s | rows/s | rows/s per core | driver peak MiB | "
        "worker peaks MiB | MAE | coverage | centers | load at end | started |", "|---" * 14 + "|",
    ]
    cores = os.cpu_count() or 1
    for key, r in results.items():
        part, size, data = key.split(":")
        rate = r.get("rows_per_s")
        cells = [
            part, size, data, r["outcome"],
            f"{r['seconds']:,.0f}" if "seconds" in r else "–",
            f"{rate:,.0f}" if rate else "–", f"{rate / cores:,.0f}" if rate else "–",
            f"{r['driver_mib']:,}" if "driver_mib" in r else "–",
            ", ".join(f"{v:,}" for v in r.get("worker_mib", [])) or "–",
            f"{r['mae']:,.0f}" if "mae" in r else "–",
            f"{r['coverage']:.3f}" if "coverage" in r else "–",
            "–" if "centers" not in r else ("yes" if r["centers"] else "no"),
            f"{r['load']:.1f}" if "load" in r else "–", r.get("date", "–"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {key}: {r['message']}" for key, r in results.items() if r.get("message")]
    return "\n".join([*lines, "", *notes, "", *targets(results), ""])


def targets(results: dict[str, dict[str, Any]]) -> list[str]:
    """The issue's targets, against what was measured (a target with no measurement says so)."""
    def best(part: str, data: str) -> str:
        rates = [r["rows_per_s"] for k, r in results.items() if k.startswith(part) and k.endswith(data)
                 and "rows_per_s" in r]
        return f"{max(rates):,.0f} rows/s" if rates else "not measured"

    cluster = [r for k, r in results.items() if "cluster" in k and "driver_mib" in r]
    trained = [k for k, r in results.items() if k.startswith("train-cluster") and r["outcome"] == "trained"]
    scored = [r["rows"] for k, r in results.items() if k.startswith("score-cluster") and "rows" in r]
    return [
        "Against the issue's targets:",
        "",
        f"- single-process `salary score` on structured records, at least 100k rows/s: "
        f"{best('score-single', 'structured')} (demo records: {best('score-single', 'demo')})",
        f"- batch scoring on the cluster, at least 10M rows: largest run {max(scored, default=0):,} rows",
        "- driver peak under 1 GB on the cluster: "
        + (f"{max(r['driver_mib'] for r in cluster):,} MiB at most" if cluster else "not measured"),
        f"- training larger than a worker's memory on the cluster: {len(trained)} size(s) trained"
        + ("" if trained else " (not measured: see the notes above)"),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the chosen parts at the chosen sizes, each in a child process, and record the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=["1M", "5M", "10M"])
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--score-data", nargs="+", choices=["demo", "structured"],
                        default=["demo", "structured"])
    parser.add_argument("--score-sizes", nargs="+", choices=list(SIZES), default=["10M"],
                        help="sizes to score (the issue asks for 10M)")
    parser.add_argument("--rounds", type=int, default=50, help="boosting rounds (the product trains 400)")
    parser.add_argument("--worker-memory", default="4GiB", help="memory limit per cluster worker")
    parser.add_argument("--no-centers", action="store_true",
                        help="cluster training without per-profile centers (several boosters fewer)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR, help="generated data, reused")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md")
    parser.add_argument("--report", action="store_true", help="write the section from the kept results only")
    parser.add_argument("--child", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=list(SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--data", default="demo", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args)))
        return 0
    store = args.data_dir / "results.json"
    results: dict[str, dict[str, Any]] = json.loads(store.read_text()) if store.exists() else {}
    if args.report:
        print(markdown(results, args))
        if not args.no_write:
            write_section(markdown(results, args), SECTION)
        return 0
    args.data_dir.mkdir(parents=True, exist_ok=True)
    make_data(args.data_dir, max(SIZES[s] for s in {*args.sizes, *args.score_sizes}))
    jobs = [(p, s, "demo") for p in args.parts if p.startswith("train") for s in args.sizes]
    jobs += [(p, s, d) for p in args.parts if p.startswith("score") for s in args.score_sizes
             for d in args.score_data]
    common = ["--rounds", str(args.rounds), "--worker-memory", args.worker_memory,
              "--data-dir", str(args.data_dir), "--sizes", *args.sizes, *(["--no-centers"] * args.no_centers)]
    for part, size, data in jobs:
        print(f"{part} {size} {data} ...", flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--child", part, "--size", size, "--data", data, *common],
            capture_output=True, text=True, check=False,
        )
        lines = child.stdout.strip().splitlines()
        if child.returncode == 0 and lines:
            result = json.loads(lines[-1])
        else:
            tail = " ".join(child.stderr.strip().splitlines()[-3:])
            result = {"outcome": "failed", "message": f"exit {child.returncode}: {tail}"}
        results[f"{part}:{size}:{data}"] = result
        print(json.dumps(result), flush=True)
        store.write_text(json.dumps(results, indent=1))
        body = markdown(results, args)
        if not args.no_write:
            write_section(body, SECTION)
    print(markdown(results, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
