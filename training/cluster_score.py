"""Batch scoring on a Dask cluster: one task per input file, the bundle sent once to every worker.

The driver lists the files and collects row counts; workers read, score and write the part files
themselves (the same `score_file` as one process, so the same columns and numbers), so the driver
never holds the data. Inputs are local paths every worker can reach or fsspec URLs (s3://, gcs://,
file://; the protocol's package installed on every worker); the output folder is a local path every
worker can reach.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from distributed import Client, Future, as_completed

from models.bundle import SalaryModel
from training.score import (
    DEFAULT_CHUNK_ROWS,
    BadInput,
    ScoreCache,
    ScoreSummary,
    check_file,
    input_files,
    score_file,
)

# The latest bundle's model and prediction cache per worker process, by digest: loaded by its first task.
_LOADED: dict[str, tuple[SalaryModel, ScoreCache]] = {}

BundleFiles = dict[str, bytes]


def bundle_files(model: SalaryModel) -> BundleFiles:
    """The bundle's files (plain JSON and LightGBM text) by relative path, to send to the workers."""
    with tempfile.TemporaryDirectory(prefix="bundle-") as folder:
        root = model.save(Path(folder) / "bundle")
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def digest(files: BundleFiles) -> str:
    """A name for a bundle's contents, so a worker loads each bundle once."""
    sha = hashlib.sha256()
    for name, data in sorted(files.items()):
        sha.update(name.encode())
        sha.update(hashlib.sha256(data).digest())
    return sha.hexdigest()


def _worker_model(files: BundleFiles, key: str) -> tuple[SalaryModel, ScoreCache]:
    """The bundle on this worker, written to a temporary folder and loaded by the first task that needs it."""
    if key not in _LOADED:
        _LOADED.clear()  # a long-lived worker keeps one bundle, not every bundle it ever scored with
        with tempfile.TemporaryDirectory(prefix="bundle-") as folder:
            root = Path(folder)
            for name, data in files.items():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(data)
            _LOADED[key] = (SalaryModel.load(root), ScoreCache(threads=1))  # one LightGBM thread per task
    return _LOADED[key]


def _check(path: str) -> str | None:
    """A file's refusal message, or None when its header or schema reads; runs on a worker."""
    try:
        check_file(path)
    except BadInput as exc:
        return str(exc)
    return None


def _score(
    files: BundleFiles, key: str, path: str, output: str, number: int, chunk_rows: int
) -> tuple[int, int]:
    """Score one input file into part files on a worker; its rows and parts."""
    model, cache = _worker_model(files, key)
    return score_file(model, path, Path(output), number, chunk_rows, cache)


def score_on_cluster(
    client: Client,
    model: SalaryModel,
    pattern: str,
    output: Path,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
) -> ScoreSummary:
    """Score every file `pattern` names on the cluster's workers into part files under `output`.

    Every file's header is checked on the workers first, so a bad file is refused before any part
    file is written; one that fails later stops the run with BadInput naming it.
    """
    paths = input_files(pattern)
    refusals = [r for r in client.gather(client.map(_check, paths, pure=False)) if r]
    if refusals:
        raise BadInput("; ".join(refusals))
    output.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    files = bundle_files(model)
    [shared] = client.scatter([files], broadcast=True)  # a list: a dict would be scattered value by value
    key = digest(files)
    futures: list[Future] = [
        client.submit(_score, shared, key, path, str(output), number, chunk_rows, pure=False)
        for number, path in enumerate(paths)
    ]
    rows = parts = 0
    try:
        for future in as_completed(futures):
            done, written = future.result()
            rows, parts = rows + done, parts + written
            if progress is not None:
                progress(done)
    finally:
        client.cancel(futures)
    return ScoreSummary(len(paths), rows, parts, time.perf_counter() - start)
