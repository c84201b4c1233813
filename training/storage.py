"""Input files named by a local path or glob, or by a URL on any filesystem fsspec reads.

A plain local path goes through the standard library, as it always has; a URL (s3://, gcs://,
memory://, file://, ...) goes through fsspec. The package behind a protocol (s3fs for s3://, gcsfs
for gcs://) is the user's to install, on the driver and on every cluster worker.
"""

from __future__ import annotations

import glob
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import fsspec
from fsspec import AbstractFileSystem
from fsspec.core import split_protocol, url_to_fs

PACKAGE_HINT = "e.g. pip install s3fs for s3://, gcsfs for gcs:// or adlfs for az://"


class StorageError(ValueError):
    """A URL whose protocol fsspec does not know, whose package is not installed, or that cannot be listed."""


class NoInput(ValueError):
    """A path or glob that names no file."""


def is_url(path: str) -> bool:
    """Whether `path` names its protocol (s3://...); a plain path stays on the local filesystem."""
    return split_protocol(path)[0] is not None


def filesystem(url: str) -> tuple[AbstractFileSystem, str]:
    """The fsspec filesystem of a URL and the path within it; a clear error when it cannot be used."""
    protocol = split_protocol(url)[0] or "file"
    known = set(fsspec.available_protocols())
    unknown = [p for p in protocol.split("::") if p not in known]
    if unknown:
        raise StorageError(
            f"{url}: unknown storage protocol {unknown[0]!r}; use a local path or a URL fsspec knows "
            f"(s3://, gcs://, az://, http(s)://, file://, ...) with its package installed ({PACKAGE_HINT})"
        )
    try:
        return url_to_fs(url)
    except ImportError as exc:
        raise StorageError(
            f"{url}: the package for {protocol}:// is not installed: {exc} (here and on every cluster "
            "worker; the project does not depend on it)"
        ) from exc


def list_files(pattern: str) -> dict[str, bool]:
    """The paths a path, glob or URL names, sorted, each with whether it is a folder.

    URLs keep their protocol, so a worker can open them; a glob is listed once, without a request
    per file.
    """
    if not is_url(pattern):
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
        if not matches or not Path(matches[0]).exists():
            raise NoInput(f"{pattern}: no such file")
        return {m: Path(m).is_dir() for m in matches}
    fs, path = filesystem(pattern)
    try:
        found = fs.glob(path, detail=True) if glob.has_magic(path) else {path: fs.info(path)}
    except FileNotFoundError:
        found = {}
    except Exception as exc:  # a store's own errors (botocore's, aiohttp's, ...) share no base class
        raise StorageError(f"{pattern}: cannot be listed: {type(exc).__name__}: {exc}") from exc
    if not found:
        raise NoInput(f"{pattern}: no such file")
    return {fs.unstrip_protocol(f): info.get("type") == "directory" for f, info in sorted(found.items())}


def file_name(path: str) -> str:
    """The file's own name, the last part of its path or URL."""
    return posixpath.basename(split_protocol(path)[1].rstrip("/")) if is_url(path) else Path(path).name


def suffix(path: str) -> str:
    """The file's extension in lower case ('.csv', '.parquet')."""
    return Path(file_name(path)).suffix.lower()


@contextmanager
def opened(path: str) -> Iterator[str | IO[bytes]]:
    """What pandas and pyarrow read: the local path itself, or an open binary file for a URL."""
    if not is_url(path):
        yield path
        return
    fs, inner = filesystem(path)
    with fs.open(inner, "rb") as handle:
        yield handle


def local_target(path: str, folder: Path) -> Path:
    """A copy's place under `folder`, with the file's folder names (an adapter may read a year there)."""
    inner = filesystem(path)[1] if is_url(path) else str(Path(path).resolve())
    target = folder / inner.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def local_copy(url: str, folder: Path) -> Path:
    """A URL's file copied under `folder`, keeping its folder names."""
    fs, inner = filesystem(url)
    target = local_target(url, folder)
    fs.get(inner, str(target))
    return target


def file_size(path: str) -> int:
    """The file's size in bytes, local or at a URL."""
    if not is_url(path):
        return Path(path).stat().st_size
    fs, inner = filesystem(path)
    return int(fs.size(inner))
