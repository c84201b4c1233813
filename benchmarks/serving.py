"""Serving speed: this API against `mlflow models serve` of the same registered model, and in-process latency.

Run from the repository root:  .venv/bin/python benchmarks/serving.py [--duration 20] [--write]
Needs wrk (Debian: apt-get install -y wrk). Trains its own demo model into a temporary MLflow store.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.schema import JobRecord, record_from_mapping  # noqa: E402
from models import registry  # noqa: E402
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
def running(command: list[str], ready_url: str, env: dict[str, str]) -> Iterator[None]:
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
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        process.wait(timeout=60)


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(url: str, body: dict[str, Any], duration: int, connections: int, workdir: Path) -> dict[str, float]:
    """Throughput and latency percentiles of POSTing `body` over `connections` keep-alive connections."""
    script = workdir / "post.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [==[{json.dumps(body)}]==]\n"
    )
    base = ["wrk", "-t2", f"-c{connections}", "--latency", "-s", str(script)]
    subprocess.run([*base, "-d3s", url], check=True, capture_output=True)  # warm-up
    out = subprocess.run([*base, f"-d{duration}s", url], check=True, capture_output=True, text=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)$", out, re.M)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(percentiles["50"]),
        "p99_ms": _ms(percentiles["99"]),
        "requests": float(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
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
    """One estimate (features, five quantiles, drivers) next to its raw Booster.predict calls; a 10k batch."""
    bundle = load_model(registry.alias_uri(), tracking_uri).bundle
    record = JobRecord.model_validate(RECORD)
    timed(lambda: bundle.estimate(record, num_threads=1), 300)
    estimate = timed(lambda: bundle.estimate(record, num_threads=1), 2000)
    plain = timed(lambda: bundle.estimate(record, num_threads=1, explain=False), 2000)

    booster_ms: list[float] = []
    original = lgb.Booster.predict

    def counting(self: lgb.Booster, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            booster_ms.append((time.perf_counter() - start) * 1000)

    def booster_share(explain: bool) -> tuple[int, float]:
        """Calls per estimate and their median total time: the raw Booster.predict floor."""
        booster_ms.clear()
        bundle.estimate(record, num_threads=1, explain=explain)
        calls = len(booster_ms)
        booster_ms.clear()
        for _ in range(2000):
            bundle.estimate(record, num_threads=1, explain=explain)
        return calls, statistics.median(
            sum(booster_ms[i : i + calls]) for i in range(0, len(booster_ms), calls)
        )

    lgb.Booster.predict = counting  # type: ignore[method-assign]
    try:
        calls, booster = booster_share(explain=False)
        calls_explained, booster_explained = booster_share(explain=True)
    finally:
        lgb.Booster.predict = original  # type: ignore[method-assign]

    batch = timed(lambda: bundle.estimate_many(records, num_threads=1, explain=False), 3)
    return {
        "estimate_p50_ms": statistics.median(estimate),
        "estimate_p99_ms": quantile(estimate, 0.99),
        "estimate_no_drivers_p50_ms": statistics.median(plain),
        "booster_calls": float(calls),
        "booster_p50_ms": booster,
        "booster_calls_explained": float(calls_explained),
        "booster_explained_p50_ms": booster_explained,
        "batch_10k_ms": statistics.median(batch),
    }


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
            with running(command, f"{base}/readyz", env):
                batch_ms = http_batch(f"{base}/v1/estimates/batch", plain, "records")
                for explain in ("true", "false"):
                    url = f"{base}/v1/estimates?explain={explain}"
                    load = wrk(url, RECORD, args.duration, args.connections, workdir)
                    results[f"api_{workers}_{explain}"] = {**load, "batch_10k_ms": batch_ms}
                    print(workers, explain, json.dumps(load), flush=True)

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
        with running(command, f"{base}/ping", env):
            load = wrk(
                f"{base}/invocations",
                {"dataframe_records": [RECORD]},
                args.duration,
                args.connections,
                workdir,
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
        "per request; wrk runs on the same two cores.",
        "",
        "| server | requests/s | p50 ms | p99 ms | non-2xx | 10k-record batch, one request, no drivers |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for workers in args.workers:
        for explain in ("true", "false"):
            r = results[f"api_{workers}_{explain}"]
            name = f"this API, {workers} worker{'s' if workers > 1 else ''}"
            name += " (default)" if workers == args.default_workers else ""
            name += ", with drivers" if explain == "true" else ", `?explain=false`"
            lines.append(
                f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['non_2xx']:.0f} "
                f"| {r['batch_10k_ms'] / 1000:.2f} s |"
            )
    lines += [
        f"| `mlflow models serve --env-manager local` (pyfunc) | {mlf['rps']:,.0f} | {mlf['p50_ms']:.2f} "
        f"| {mlf['p99_ms']:.2f} | {mlf['non_2xx']:.0f} | {mlf['batch_10k_ms'] / 1000:.2f} s |",
        "",
        f"Default configuration against MLflow's server (default settings, one worker): with drivers "
        f"(which MLflow's pyfunc does not compute) **{default['rps'] / mlf['rps']:.1f}x the throughput**, "
        f"p99 {default['p99_ms']:.1f} ms; like for like (`?explain=false`, quantiles only) "
        f"**{like['rps'] / mlf['rps']:.1f}x the throughput**, p50 {mlf['p50_ms'] / like['p50_ms']:.1f}x "
        f"lower, p99 {like['p99_ms']:.1f} ms. Targets: 20x the throughput, p99 at most 25 ms.",
        "",
        "In process (one thread, the same bundle):",
        "",
        "| what | ms |",
        "|---|---:|",
        f"| one estimate: features, five quantiles, drivers (p50 / p99) | {ip['estimate_p50_ms']:.3f} / "
        f"{ip['estimate_p99_ms']:.3f} |",
        f"| of which in `Booster.predict`, {ip['booster_calls_explained']:.0f} calls (quantiles and "
        f"`pred_contrib` for the drivers, p50) | {ip['booster_explained_p50_ms']:.3f} |",
        f"| one estimate without drivers: features and five quantiles (p50) | "
        f"{ip['estimate_no_drivers_p50_ms']:.3f} |",
        f"| of which raw `Booster.predict` of the same trees, {ip['booster_calls']:.0f} calls (p50) | "
        f"{ip['booster_p50_ms']:.3f} |",
        f"| `estimate_many` of {BATCH:,} records, no drivers (median of 3) | {ip['batch_10k_ms']:,.0f} |",
        "",
        "Reading it:",
        "",
        f"- Drivers are the cost: an estimate takes {ip['estimate_p50_ms']:.1f} ms with them and "
        f"{ip['estimate_no_drivers_p50_ms']:.2f} ms without. They come from LightGBM `pred_contrib` "
        "(TreeSHAP) on two boosters plus grouping in Python, and the bundle serialises `pred_contrib` "
        "behind a lock (LightGBM #5482), so one process explains one estimate at a time: about "
        f"{1000 / ip['estimate_p50_ms']:.0f} explained estimates per second per worker at most, whatever "
        "the HTTP stack does.",
        "- Workers: two processes beat one on two cores in both modes (each has its own model and lock), "
        "so `salary serve` defaults to `--workers 2`; `/metrics` is summed over them through "
        "prometheus-client's multiprocess directory. The estimate handlers are plain `def` on the "
        "threadpool; trivial dependencies are `async` so they cost no thread hop.",
        "- No pandas or MLflow on the request path: `tests/serving/test_api.py` profiles the single and "
        "batch endpoints and asserts that no frame is in either package (LightGBM is called on numpy).",
        "- The targets (20x MLflow's throughput, p99 <= 25 ms) are not met here. MLflow 3's scoring "
        "server is itself FastAPI on uvicorn, so the gap is only the per-request work (DataFrame "
        "building and schema enforcement against our JSON parsing and response building). The p99 "
        "figures include run-queue waits: other work shared the two cores (see the load averages "
        "above).",
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
