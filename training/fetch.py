"""Download public datasets into a local cache, verified by checksum, never half-written."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

CACHE_ENV = "SALARY_CACHE_DIR"
CHUNK_BYTES = 1 << 16
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Dataset:
    """Where a public dataset lives and where it goes in the cache (the adapter's default path)."""

    url: str
    relative_path: str


DATASETS = {
    "aijobs": Dataset("https://aijobs.net/salaries/download/salaries.csv", "aijobs/salaries.csv"),
}


def resolve_cache_dir(cache: Path | None = None) -> Path:
    """The cache folder: the argument, $SALARY_CACHE_DIR, or ~/.cache/salary-service."""
    if cache is not None:
        return Path(cache)
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "salary-service"


def fetch_dataset(
    name: str,
    cache_dir: Path | None = None,
    url: str | None = None,
    sha256: str | None = None,
    *,
    verify: bool = True,
) -> Path:
    """Download `name` and return its path; the file is live, so its checksum comes from the caller.

    With `verify=True` (the default) a sha256 is required; `verify=False` skips the check and is
    the caller's explicit choice. A mismatch deletes the download and raises ValueError.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}")
    if verify and not sha256:
        raise ValueError(
            f"{name}: no sha256 given; the public file changes as people submit salaries, so no "
            "checksum can be built in: pass the one you expect, or skip verification explicitly"
        )
    dataset = DATASETS[name]
    target = resolve_cache_dir(cache_dir) / dataset.relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            digest = _download(url or dataset.url, out, label=name)
        if verify and digest != (sha256 or "").lower():
            raise ValueError(
                f"{name}: checksum mismatch; expected sha256 {sha256}, got {digest}; "
                "the partial download was deleted"
            )
        temp.replace(target)
    finally:
        temp.unlink(missing_ok=True)
    return target


def _download(url: str, out: BinaryIO, label: str) -> str:
    """Stream `url` into `out` with a progress bar, returning the sha256 of what was written."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"expected an http(s) URL, got {url!r}")
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "salary-service"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=label) as bar:
            while chunk := response.read(CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
    return digest.hexdigest()
