"""Serving speed: this API against `mlflow models serve` of the same registered model, and in-process latency.

Run from the repository root:  .venv/bin/python benchmarks/serving.py [--duration 15] [--write]
Needs wrk (Debian: apt-get install -y wrk) and the real datasets in ../shared/data: requests cycle
through RECORDS different jobs built from real titles, locations and skills, so no cache of answers can
help. Trains its own demo model into a temporary MLflow store and serves that one registered version
three ways in one run: this API's default answer (drivers on), `?explain=false`, `mlflow models serve`.
A fourth server, the stack's floor (`benchmarks/floor_app.py`: FastAPI, pydantic and uvicorn answering a
fixed estimate), shows in the same run how far any model code could go on this stack.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
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
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.interpret import interpret  # noqa: E402
from features.schema import MAX_SHORT_TEXT_CHARS, MAX_TITLE_CHARS, JobRecord  # noqa: E402
from models import registry  # noqa: E402
from models.quantile import QuantileModel  # noqa: E402
from serving.loader import load_model  # noqa: E402
from training.sources.demo import write_demo  # noqa: E402
from training.train import TrainConfig, train  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Serving speed on real records (issue 14)"
BIN = Path(sys.executable).parent
DATA = ROOT.parent / "shared" / "data"
RECORDS = 1000
SKILL_COLUMNS = ("LanguageHaveWorkedWith", "DatabaseHaveWorkedWith", "PlatformHaveWorkedWith")
TARGETS = {"true": (10.0, 25.0), "false": (20.0, 10.0)}  # issue 14: x mlflow's requests/s, p99 ms


def real_records(n: int, seed: int = 14) -> list[dict[str, Any]]:
    """`n` different jobs: a real title, a real location, one Stack Overflow respondent's skills and years."""
    aijobs = pd.read_csv(DATA / "aijobs" / "salaries.csv", usecols=["job_title"])
    glassdoor = pd.read_csv(DATA / "glassdoor" / "glassdoor_jobs.csv", usecols=["Job Title", "Location"])
    survey = pd.read_csv(DATA / "stackoverflow" / "so2023_us.csv", usecols=["YearsCodePro", *SKILL_COLUMNS])
    titles = sorted({*aijobs["job_title"].dropna(), *glassdoor["Job Title"].dropna()})
    locations = sorted({loc for loc in glassdoor["Location"].dropna() if loc != "-1"})
    rng = np.random.default_rng(seed)
    seen: dict[str, dict[str, Any]] = {}
    while len(seen) < n:
        person = survey.iloc[int(rng.integers(len(survey)))]
        skills = [s for c in SKILL_COLUMNS if isinstance(person[c], str) for s in person[c].split(";")]
        record: dict[str, Any] = {
            "title": str(rng.choice(titles))[:MAX_TITLE_CHARS],
            "location": str(rng.choice(locations))[:MAX_SHORT_TEXT_CHARS],
            "skills": [s[:MAX_SHORT_TEXT_CHARS] for s in skills[:6]],
        }
        if isinstance(person["YearsCodePro"], float) and math.isfinite(person["YearsCodePro"]):
            record["years_experience"] = min(float(person["YearsCodePro"]), 70.0)
        seen.setdefault(json.dumps(record, sort_keys=True), JobRecord.model_validate(record).model_dump(
            exclude_none=True
        ))
    return list(seen.values())


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


def cycling_script(bodies: list[str], path: Path) -> Path:
    """A wrk script that POSTs `bodies` in turn, each thread starting at its own place in the list."""
    quoted = []
    for body in bodies:
        level = next(k for k in range(1, 10) if f"]{'=' * k}]" not in body)
        quoted.append(f"[{'=' * level}[{body}]{'=' * level}]")
    path.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        "bodies = {" + ",\n".join(quoted) + "}\n"
        "local threads = 0\n"
        "function setup(thread) thread:set(\"offset\", threads * 397); threads = threads + 1 end\n"
        "function init(args) i = offset or 0 end\n"
        "function request() i = i % #bodies + 1; return wrk.format(nil, nil, nil, bodies[i]) end\n"
    )
    return path


def wrk(url: str, script: Path, duration: int, connections: int, group: int) -> dict[str, float]:
    """Throughput, latency percentiles and server CPU per request over `connections` keep-alive ones."""
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


def in_process(tracking_uri: str, plain: list[dict[str, Any]], rounds: int) -> dict[str, float]:
    """One estimate (features, five quantiles, drivers) next to the trees alone, both ways; a batch."""
    bundle = load_model(registry.alias_uri(), tracking_uri).bundle
    model = bundle.model
    assert isinstance(model, QuantileModel)
    records = [JobRecord.model_validate(r) for r in plain]
    X = bundle.features.transform_interpretations([interpret(r) for r in records])
    Xr = X[:, model.residual_columns_]
    boosters = [model.center_, *(model.boosters_[q] for q in model.quantiles)]
    forest = model._forest()
    cycle = iter(range(10**9))

    def each(fn: Callable[[int], Any]) -> Callable[[], Any]:
        """`fn` on the next record in turn, so consecutive calls never see the same job."""
        return lambda: fn(next(cycle) % len(records))

    def booster_predict(i: int) -> None:
        """The same trees through LightGBM's Python API: six Booster.predict calls on one row."""
        model.center_.predict(X[i : i + 1], num_threads=1)
        for booster in boosters[1:]:
            booster.predict(Xr[i : i + 1], num_threads=1)

    timed(each(lambda i: bundle.estimate(records[i], num_threads=1)), rounds // 5)
    estimate = timed(each(lambda i: bundle.estimate(records[i], num_threads=1)), rounds)
    no_drivers = timed(each(lambda i: bundle.estimate(records[i], num_threads=1, explain=False)), rounds)
    packed = timed(each(lambda i: forest.predict_row(X[i]) if forest else None), rounds)
    booster = timed(each(booster_predict), rounds)
    contrib = timed(each(lambda i: model.contributions(X[i : i + 1])), rounds)
    shap = timed(each(lambda i: model.contributions(X[i : i + 1], method="shap")), rounds // 5)
    batch = timed(lambda: bundle.estimate_many(records, num_threads=1, explain=False), 3)
    return {
        "estimate_p50_ms": statistics.median(estimate),
        "estimate_p99_ms": quantile(estimate, 0.99),
        "estimate_no_drivers_p50_ms": statistics.median(no_drivers),
        "packed_trees_p50_ms": statistics.median(packed),
        "booster_calls": float(len(boosters)),
        "booster_p50_ms": statistics.median(booster),
        "contributions_p50_ms": statistics.median(contrib),
        "contributions_shap_p50_ms": statistics.median(shap),
        "trees": float(sum(b.num_trees() for b in boosters)),
        "batch_ms": statistics.median(batch),
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
    records = real_records(args.records)
    results: dict[str, Any] = {"machine": machine(), "load_before": load_average(), "records": len(records)}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        tracking_uri = f"sqlite:///{workdir / 'mlflow.db'}"
        os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
        os.chdir(workdir)  # the local store keeps artifacts in ./mlartifacts
        csv = write_demo(workdir / "demo.csv", n=5000, seed=7)
        print("training the demo model ...", flush=True)
        trained = train(TrainConfig(source="demo", data=csv, tracking_uri=tracking_uri))
        results["model"] = {"version": trained.version, "rounds": TrainConfig().num_boost_round, "rows": 5000}

        print("in-process latency ...", flush=True)
        results["in_process"] = in_process(tracking_uri, records, args.rounds)
        print(json.dumps(results["in_process"]), flush=True)

        api_script = cycling_script([json.dumps(r) for r in records], workdir / "api.lua")
        mlflow_bodies = [json.dumps({"dataframe_records": [r]}) for r in records]
        mlflow_script = cycling_script(mlflow_bodies, workdir / "mlflow.lua")
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # mlflow runs `uvicorn` from PATH
            "PYTHONPATH": str(ROOT),  # the servers run this checkout's code, as this process does
            "SALARY_TRACKING_URI": tracking_uri,
            "SALARY_MAX_BATCH": str(len(records)),
            "SALARY_MAX_BODY_BYTES": str(50_000_000),
        }
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [str(BIN / "salary"), "serve", "--port", str(port), "--workers", str(args.workers)]
        print(f"this API, {args.workers} worker(s) ...", flush=True)
        with running(command, f"{base}/readyz", env) as group:
            batch_ms = http_batch(f"{base}/v1/estimates/batch", records, "records")
            for explain in ("true", "false"):
                url = f"{base}/v1/estimates" + ("" if explain == "true" else "?explain=false")
                load = wrk(url, api_script, args.duration, args.connections, group)
                results[f"api_{explain}"] = {**load, "batch_ms": batch_ms}
                print(explain, json.dumps(load), flush=True)

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [
            str(BIN / "uvicorn"),
            "benchmarks.floor_app:create_app",
            "--factory",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        print("the stack's floor ...", flush=True)
        with running(command, f"{base}/readyz", env) as group:
            results["floor"] = wrk(f"{base}/v1/estimates", api_script, args.duration, args.connections, group)
            results["floor"]["batch_ms"] = math.nan
            print("floor", json.dumps(results["floor"]), flush=True)

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
            "-w",
            str(args.workers),
        ]
        print("mlflow models serve ...", flush=True)
        with running(command, f"{base}/ping", env) as group:
            load = wrk(f"{base}/invocations", mlflow_script, args.duration, args.connections, group)
            load["batch_ms"] = http_batch(f"{base}/invocations", records, "dataframe_records")
        results["mlflow"] = load
    results["load_after"] = load_average()
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> str:
    """The RESULTS.md section."""
    m, ip, mlf, floor = results["machine"], results["in_process"], results["mlflow"], results["floor"]
    n = results["records"]

    def row(name: str, r: dict[str, float]) -> str:
        batch = "–" if math.isnan(r["batch_ms"]) else f"{r['batch_ms'] / 1000:.2f} s"
        return (
            f"| {name} | {r['rps']:,.0f} | {r['rps'] / mlf['rps']:.1f}x | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['cpu_ms_per_request']:.3f} | {r['non_2xx']:.0f} | {batch} |"
        )

    def verdict(explain: str) -> str:
        r = results[f"api_{explain}"]
        ratio, p99 = TARGETS[explain]
        met = r["rps"] / mlf["rps"] >= ratio and r["p99_ms"] <= p99
        got = f"{r['rps'] / mlf['rps']:.1f}x and p99 {r['p99_ms']:.1f} ms"
        return f"{got} against {ratio:.0f}x and {p99:.0f} ms: " + ("met" if met else "**not met**")

    lines = [
        SECTION,
        "",
        f"Run {dt.date.today().isoformat()} on {m['cores']} cores ({m['cpu']}), {m['memory']}, Python "
        f"{m['python']}, LightGBM {m['lightgbm']}; load average {results['load_before']} before and "
        f"{results['load_after']} after (1, 5, 15 min; the cores are shared). `benchmarks/serving.py` "
        f"trains the demo model ({results['model']['rows']} synthetic rows, "
        f"{results['model']['rounds']} rounds) into a temporary MLflow store, registers it as champion, "
        f"and serves that one version on 127.0.0.1 with {args.workers} workers each way. Requests cycle "
        f"through {n:,} different jobs built from real titles (aijobs, Glassdoor), locations (Glassdoor) "
        "and one Stack Overflow respondent's skills and years each. Load: wrk, 2 threads, "
        f"{args.connections} keep-alive connections, {args.duration} s after a 3 s warm-up, one estimate "
        "per request; wrk runs on the same cores. Server CPU is the user and system time of the "
        "server's processes during the run (from /proc) divided by the requests answered."
        + (
            f" **A {args.duration} s smoke run that shows the script works, not a measurement: the "
            "targets need at least 15 s per measurement on a quiet machine.**"
            if args.duration < 15
            else ""
        ),
        "",
        "| server | requests/s | vs mlflow | p50 ms | p99 ms | server CPU ms per request | non-2xx "
        f"| {n:,}-record batch, one request, no drivers |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        row("this API, default answer (drivers on)", results["api_true"]),
        row("this API, `?explain=false`", results["api_false"]),
        row("`mlflow models serve --env-manager local` (pyfunc, no drivers)", mlf),
        row("the stack's floor: FastAPI + pydantic + uvicorn, a fixed answer, no model", floor),
        "",
        f"Targets (issue 14): drivers on, {verdict('true')}; `?explain=false`, {verdict('false')}.",
        "",
        f"The floor parses the same request bodies (strict JobRecord) and writes a fixed answer of the "
        f"estimate's shape without estimating anything: {floor['rps'] / mlf['rps']:.1f}x mlflow at "
        f"{floor['cpu_ms_per_request']:.3f} ms of server CPU per request. No model code on this stack can "
        "pass that ratio; a target above it needs a different server stack, not faster model code.",
        "",
        f"In process (one thread, the same bundle, {ip['trees']:,.0f} trees in six boosters, cycling "
        f"through the same {n:,} jobs):",
        "",
        "| what | ms |",
        "|---|---:|",
        f"| one estimate: features, five quantiles, drivers (p50 / p99) | {ip['estimate_p50_ms']:.3f} / "
        f"{ip['estimate_p99_ms']:.3f} |",
        f"| of which the drivers' contributions, path attribution over the packed trees (p50) | "
        f"{ip['contributions_p50_ms']:.3f} |",
        f"| the same contributions by LightGBM's TreeSHAP on the two boosters, not served (p50) | "
        f"{ip['contributions_shap_p50_ms']:.3f} |",
        f"| one estimate without drivers: features and five quantiles (p50) | "
        f"{ip['estimate_no_drivers_p50_ms']:.3f} |",
        f"| of which the trees, packed and walked once (`models/forest.py`, p50) | "
        f"{ip['packed_trees_p50_ms']:.3f} |",
        f"| the same trees through raw `Booster.predict`, {ip['booster_calls']:.0f} calls (p50) | "
        f"{ip['booster_p50_ms']:.3f} |",
        f"| `estimate_many` of the {n:,} records, no drivers (median of 3) | {ip['batch_ms']:,.0f} |",
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
        rest = "\n" + current[end + 1 :] if end >= 0 else ""  # keep the blank line before the next section
        updated = current[:start] + text.rstrip("\n") + "\n" + rest
    RESULTS.write_text(updated.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=15, help="Seconds of load per measurement.")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="Worker processes of each server.")
    parser.add_argument("--records", type=int, default=RECORDS, help="Different jobs to cycle through.")
    parser.add_argument("--rounds", type=int, default=2000, help="Calls per in-process measurement.")
    parser.add_argument("--write", action="store_true", help=f"Write the section into {RESULTS.name}.")
    args = parser.parse_args()
    if not (DATA / "stackoverflow" / "so2023_us.csv").exists():
        print(f"skipped: the real datasets are not under {DATA}; see docs/data.md")
        return
    if shutil.which("wrk") is None:
        print("skipped: wrk is not installed (Debian: apt-get install -y wrk)")
        return
    results = run(args)
    text = report(results, args)
    print(json.dumps(results, indent=2))
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
