"""What per-profile centers cost: training time, bundle size and one-row latency, with and without them.

Run from the repository root: `.venv/bin/python benchmarks/centers.py [--source aijobs]`. Fits the
bundle twice on the training side of the source's benchmark split (as benchmarks/quality.py does, tuned
parameters from benchmarks/*_tuned_params.json), saves both, and times `estimate` on one record at a
time for each call profile, drivers on (path attribution). Prints only; docs/model.md quotes it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import quality  # noqa: E402
from benchmarks.profiles import PROFILES, applies, restrict  # noqa: E402
from models.bundle import SalaryModel  # noqa: E402
from training.sources.base import TARGET  # noqa: E402
from training.train import TrainConfig, fit_bundle  # noqa: E402

REQUESTS = 300  # one-row estimates timed per profile


def folder_bytes(folder: Path) -> int:
    """Bytes of every file in a saved bundle."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def latency_ms(bundle: SalaryModel, records: list[dict[str, Any]]) -> tuple[float, float]:
    """Median and p99 milliseconds of one `estimate` call (drivers on), after one warm-up per record."""
    for record in records[:20]:
        bundle.estimate(record)
    times = []
    for record in records:
        start = time.perf_counter()
        bundle.estimate(record)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def main(argv: list[str] | None = None) -> int:
    """Fit with and without centers and print the costs side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="aijobs", choices=[b.source for b in quality.BENCHMARKS])
    args = parser.parse_args(argv)
    bench = next(b for b in quality.BENCHMARKS if b.source == args.source)
    quality.TUNED_PARAMS = sorted((ROOT / "benchmarks").glob("*_tuned_params.json"))
    split = quality.prepare(bench)[0]
    base = TrainConfig(source=bench.source, seed=quality.SEED, params={"num_threads": quality.THREADS})
    config = quality.tuned_config(base, bench.source)
    print(f"{bench.source}: {len(split.train):,} training rows")
    with tempfile.TemporaryDirectory() as tmp:
        for centers in (False, True):
            start = time.perf_counter()
            bundle = fit_bundle(split.train, replace(config, centers=centers))
            seconds = time.perf_counter() - start
            size = folder_bytes(bundle.save(Path(tmp) / str(centers)))
            names = getattr(bundle.model, "center_names_", [])
            print(f"centers={centers}: fit {seconds:.0f} s, bundle {size / 1e6:.1f} MB, centers kept {names}")
            for profile in PROFILES:
                if not applies(profile, split.train):
                    continue
                frame = restrict(split.evaluation.head(REQUESTS), profile, quality.SEED)
                rows = frame.drop(columns=[TARGET]).to_dict("records")
                records = [{k: v for k, v in r.items() if v is not None and v == v} for r in rows]
                median, p99 = latency_ms(bundle, records)
                print(f"  {profile.name:<40} estimate median {median:.2f} ms, p99 {p99:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
