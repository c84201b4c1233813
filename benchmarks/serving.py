"""Serving speed: this API against `mlflow models serve` of the same registered model, and in-process latency.

Run from the repository root:  .venv/bin/python benchmarks/serving.py [--duration 20] [--write]
Needs wrk (Debian: apt-get install -y wrk). Trains its own demo model into a temporary MLflow store.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import lightgbm as lgb
from starlette.concurrency import run_in_threadpool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.interpret import interpret  # noqa: E402
from features.schema import JobRecord, record_from_mapping  # noqa: E402
from models import registry  # noqa: E402
from models.quantile import QuantileModel  # noqa: E402
from serving.loader import load_model  # noqa: E402
from training.sources.demo import generate_demo, write_demo  # noqa: E402
from training.train import TrainConfig, train  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Serving speed (issue 7)"
BIN = Path(sys.executable).parent
RECORD: dict[str, Any] = {
    "title": "Senior Data Scientist",
    "skills": ["Python", "PyTorch"],
    "location": "San Francisco, CA",
    "years_experience": 6.0,
}
BATCH = 10_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running(command: list[str], ready_url: str, env: dict[str, str]) -> Iterator[int]:
    """A server process, up once `ready_url` answers 200, stopped (with its workers) afterwards."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(ready_url, timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(command)} not ready after 300 s")
            time.sleep(0.5)
        yield process.pid  # its own session: the process group id of the server and its workers
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        process.wait(timeout=60)


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def cpu_seconds(group: int) -> float:
    """User plus system CPU of every live process in a process group, from /proc (Linux)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:  # field 5 of stat: pgrp
                total += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str, body: dict[str, Any], duration: int, connections: int, workdir: Path, group: int
) -> dict[str, float]:
    """Throughput, latency percentiles and server CPU per request over `connections` keep-alive ones."""
    script = workdir / "post.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [==[{json.dumps(body)}]==]\n"
    )
    base = ["wrk", "-t2", f"-c{connections}", "--latency", "-s", str(script)]
    subprocess.run([*base, "-d3s", url], check=True, capture_output=True)  # warm-up
    cpu_before = cpu_seconds(group)
    out = subprocess.run([*base, f"-d{duration}s", url], check=True, capture_output=True, text=True).stdout
    cpu = cpu_seconds(group) - cpu_before
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)$", out, re.M)
    requests = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(percentiles["50"]),
        "p99_ms": _ms(percentiles["99"]),
        "requests": requests,
        "cpu_ms_per_request": cpu * 1000 / requests,
        "non_2xx": float(bad.group(1)) if bad else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Wall time of each call in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def in_process(tracking_uri: str, records: list[JobRecord]) -> dict[str, float]:
    """One estimate (features, five quantiles, drivers) next to the trees alone, both ways; a 10k batch."""
    bundle = load_model(registry.alias_uri(), tracking_uri).bundle
    model = bundle.model
    assert isinstance(model, QuantileModel)
    record = JobRecord.model_validate(RECORD)
    X = bundle.features.transform_interpretations([interpret(record)])
    Xr = X[:, model.residual_columns_]
    boosters = [model.center_, *(model.boosters_[q] for q in model.quantiles)]

    def booster_predict() -> None:
        """The same trees through LightGBM's Python API: six Booster.predict calls on one row."""
        model.center_.predict(X, num_threads=1)
        for booster in boosters[1:]:
            booster.predict(Xr, num_threads=1)

    timed(lambda: bundle.estimate(record, num_threads=1), 300)
    estimate = timed(lambda: bundle.estimate(record, num_threads=1), 2000)
    plain = timed(lambda: bundle.estimate(record, num_threads=1, explain=False), 2000)
    packed = timed(lambda: model._forest().predict_row(X[0]), 2000)
    booster = timed(booster_predict, 2000)
    contrib = timed(lambda: model.contributions(X), 1000)
    batch = timed(lambda: bundle.estimate_many(records, num_threads=1, explain=False), 3)
    return {
        "thread_hop_cpu_ms": thread_hop_cpu_ms(2000),
        "estimate_p50_ms": statistics.median(estimate),
        "estimate_p99_ms": quantile(estimate, 0.99),
        "estimate_no_drivers_p50_ms": statistics.median(plain),
        "packed_trees_p50_ms": statistics.median(packed),
        "booster_calls": float(len(boosters)),
        "booster_p50_ms": statistics.median(booster),
        "contributions_p50_ms": statistics.median(contrib),
        "trees": float(sum(b.num_trees() for b in boosters)),
        "batch_10k_ms": statistics.median(batch),
    }


def thread_hop_cpu_ms(repeat: int) -> float:
    """CPU (all threads) of handing a no-op to Starlette's threadpool and back, as a `def` route does."""

    async def hops() -> None:
        for _ in range(repeat):
            await run_in_threadpool(lambda: None)

    asyncio.run(hops())  # start the pool's threads first
    start = time.process_time()
    asyncio.run(hops())
    return (time.process_time() - start) * 1000 / repeat


def http_batch(url: str, records: list[dict[str, Any]], key: str) -> float:
    """Median wall time of three one-request batches, in milliseconds."""
    with httpx.Client(timeout=600) as client:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            response = client.post(url, json={key: records})
            response.raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kib / 2**20:.0f} GiB",
        "python": platform.python_version(),
        "lightgbm": lgb.__version__,
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "load_before": load_average()}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        tracking_uri = f"sqlite:///{workdir / 'mlflow.db'}"
        os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
        os.chdir(workdir)  # the local store keeps artifacts in ./mlartifacts
        csv = write_demo(workdir / "demo.csv", n=5000, seed=7)
        print("training the demo model ...", flush=True)
        trained = train(TrainConfig(source="demo", data=csv, tracking_uri=tracking_uri))
        results["model"] = {"version": trained.version, "rounds": TrainConfig().num_boost_round, "rows": 5000}

        frame = generate_demo(n=BATCH, seed=99)
        records = [record_from_mapping(row) for row in frame.to_dict("records")]
        plain = [r.model_dump(exclude_none=True) for r in records]
        print("in-process latency ...", flush=True)
        results["in_process"] = in_process(tracking_uri, records)
        print(json.dumps(results["in_process"]), flush=True)

        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # mlflow runs `uvicorn` from PATH
            "PYTHONPATH": str(ROOT),  # the servers run this checkout's code, as this process does
            "SALARY_TRACKING_URI": tracking_uri,
            "SALARY_MAX_BATCH": str(BATCH),
            "SALARY_MAX_BODY_BYTES": str(50_000_000),
        }
        for workers in args.workers:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            command = [str(BIN / "salary"), "serve", "--port", str(port), "--workers", str(workers)]
            print(f"this API, {workers} worker(s) ...", flush=True)
            with running(command, f"{base}/readyz", env) as group:
                batch_ms = http_batch(f"{base}/v1/estimates/batch", plain, "records")
                for explain in ("true", "false"):
                    url = f"{base}/v1/estimates?explain={explain}"
                    load = wrk(url, RECORD, args.duration, args.connections, workdir, group)
                    results[f"api_{workers}_{explain}"] = {**load, "batch_10k_ms": batch_ms}
                    print(workers, explain, json.dumps(load), flush=True)

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [str(BIN / "salary"), "serve", "--port", str(port), "--workers", str(args.default_workers)]
        print("this API, every estimate on the threadpool ...", flush=True)
        with running(command, f"{base}/readyz", {**env, "SALARY_INLINE_TEXT_CHARS": "-1"}) as group:
            url = f"{base}/v1/estimates?explain=false"
            load = wrk(url, RECORD, args.duration, args.connections, workdir, group)
            results["api_threadpool"] = {**load, "batch_10k_ms": math.nan}

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [
            str(BIN / "mlflow"),
            "models",
            "serve",
            "-m",
            registry.alias_uri(),
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ]
        print("mlflow models serve ...", flush=True)
        with running(command, f"{base}/ping", env) as group:
            load = wrk(
                f"{base}/invocations",
                {"dataframe_records": [RECORD]},
                args.duration,
                args.connections,
                workdir,
                group,
            )
            load["batch_10k_ms"] = http_batch(f"{base}/invocations", plain, "dataframe_records")
        results["mlflow"] = load
    results["load_after"] = load_average()
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> str:
    """The RESULTS.md section."""
    m, ip, mlf = results["machine"], results["in_process"], results["mlflow"]
    default = results[f"api_{args.default_workers}_true"]
    like = results[f"api_{args.default_workers}_false"]

    def row(name: str, r: dict[str, float]) -> str:
        batch = "–" if math.isnan(r["batch_10k_ms"]) else f"{r['batch_10k_ms'] / 1000:.2f} s"
        return (
            f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{r['cpu_ms_per_request']:.2f} | {r['non_2xx']:.0f} | {batch} |"
        )

    lines = [
        SECTION,
        "",
        f"Run {dt.date.today().isoformat()} on {m['cores']} cores ({m['cpu']}), {m['memory']}, Python "
        f"{m['python']}, LightGBM {m['lightgbm']}; load average {results['load_before']} before and "
        f"{results['load_after']} after (1, 5, 15 min; the cores are shared). `benchmarks/serving.py` "
        f"trains the demo model ({results['model']['rows']} synthetic rows, "
        f"{results['model']['rounds']} rounds) into a temporary MLflow store, registers it as champion, "
        f"and serves that one version both ways on 127.0.0.1. Load: wrk, 2 threads, "
        f"{args.connections} keep-alive connections, {args.duration} s after a 3 s warm-up, one estimate "
        "per request; wrk runs on the same two cores. Server CPU is the user and system time of the "
        "server's processes during the run (from /proc) divided by the requests answered.",
        "",
        "| server | requests/s | p50 ms | p99 ms | server CPU ms per request | non-2xx "
        "| 10k-record batch, one request, no drivers |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for workers in args.workers:
        for explain in ("true", "false"):
            name = f"this API, {workers} worker{'s' if workers > 1 else ''}"
            name += " (default)" if workers == args.default_workers else ""
            name += ", with drivers" if explain == "true" else ", `?explain=false`"
            lines.append(row(name, results[f"api_{workers}_{explain}"]))
    lines += [
        row(
            f"this API, {args.default_workers} workers, `?explain=false`, `SALARY_INLINE_TEXT_CHARS=-1` "
            "(every estimate on the threadpool, as a `def` route)",
            results["api_threadpool"],
        ),
        row("`mlflow models serve --env-manager local` (pyfunc)", mlf),
        "",
        f"Default configuration against MLflow's server (default settings): like for like "
        f"(`?explain=false`, the five quantiles MLflow's pyfunc returns) **{like['rps'] / mlf['rps']:.1f}x "
        f"the throughput**, p50 {mlf['p50_ms'] / like['p50_ms']:.1f}x lower, p99 {like['p99_ms']:.1f} ms, "
        f"{mlf['cpu_ms_per_request'] / like['cpu_ms_per_request']:.1f}x less server CPU per request; "
        f"with drivers (which MLflow's pyfunc does not compute) **{default['rps'] / mlf['rps']:.1f}x**, "
        f"p99 {default['p99_ms']:.1f} ms. Targets: 20x the throughput, p99 at most 25 ms.",
        "",
        f"In process (one thread, the same bundle, {ip['trees']:,.0f} trees in six boosters):",
        "",
        "| what | ms |",
        "|---|---:|",
        f"| one estimate: features, five quantiles, drivers (p50 / p99) | {ip['estimate_p50_ms']:.3f} / "
        f"{ip['estimate_p99_ms']:.3f} |",
        f"| of which the drivers' contributions, LightGBM TreeSHAP on two boosters (p50) | "
        f"{ip['contributions_p50_ms']:.3f} |",
        f"| one estimate without drivers: features and five quantiles (p50) | "
        f"{ip['estimate_no_drivers_p50_ms']:.3f} |",
        f"| of which the trees, packed and walked once (`models/forest.py`, p50) | "
        f"{ip['packed_trees_p50_ms']:.3f} |",
        f"| the same trees through raw `Booster.predict`, {ip['booster_calls']:.0f} calls (p50) | "
        f"{ip['booster_p50_ms']:.3f} |",
        f"| `estimate_many` of {BATCH:,} records, no drivers (median of 3) | {ip['batch_10k_ms']:,.0f} |",
        f"| CPU of one hop to Starlette's threadpool and back (what a `def` route pays), no work | "
        f"{ip['thread_hop_cpu_ms']:.3f} |",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Replace this benchmark's section of RESULTS.md, leaving the others alone."""
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = current.find(SECTION)
    if start < 0:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(SECTION))
        updated = current[:start] + text + (current[end + 1 :] if end >= 0 else "")
    RESULTS.write_text(updated.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=20, help="Seconds of load per server.")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Worker counts to try.")
    parser.add_argument("--default-workers", type=int, default=2, help="Which count is the default.")
    parser.add_argument("--write", action="store_true", help=f"Write the section into {RESULTS.name}.")
    args = parser.parse_args()
    results = run(args)
    text = report(results, args)
    print(json.dumps(results, indent=2))
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
