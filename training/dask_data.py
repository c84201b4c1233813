"""Training data on a Dask cluster: one partition per file, read, mapped by the adapter and cleaned there.

A CSV file goes through the source's adapter as in one process; a Parquet file holds JobRecord columns
and `salary_usd` already (as `salary data demo --format parquet` writes them). Cleaning runs per file,
so identical rows in two different files are not seen as repeats (sources whose rows are distinct
people never drop repeats anyway). The cleaning report is the sum of the files' reports.

Files are local paths every worker can reach or fsspec URLs (s3://, gcs://, file://). A worker reads
a Parquet URL directly; it copies a CSV URL to a temporary local file for the adapter, one file at a time.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
from distributed import Client

from features.schema import JOB_RECORD_FIELDS
from training.cleaning import CleaningReport, clean_source
from training.score import input_files
from training.sources import SourceFrame, get_source
from training.sources.base import TARGET, conform
from training.storage import file_name, is_url, local_copy, opened, suffix

# Skills are lists: dask's default conversion of object columns to text would turn them into strings.
KEEP_OBJECTS = {"dataframe.convert-string": False}


class BadPartition(ValueError):
    """A file of the data that cannot be read or mapped; the message starts with its path."""


@dataclass
class ClusterData:
    """Cleaned rows held by the cluster's workers, one partition per file, and the summed cleaning report."""

    frame: dd.DataFrame
    report: CleaningReport
    files: list[str]


def _skills_as_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet gives list columns as arrays; the pipeline and the digests read lists, as from a CSV."""
    if "skills" in frame.columns:
        frame["skills"] = [
            [str(s) for s in v] if isinstance(v, list | tuple | np.ndarray) else [] for v in frame["skills"]
        ]
    return frame


def read_file(path: str, source: str) -> SourceFrame:
    """One file as the adapter's output: the adapter reads a CSV; a Parquet file has JobRecord columns."""
    if suffix(path) in (".parquet", ".pq"):
        with opened(path) as data:
            raw = pd.read_parquet(data)
        if TARGET not in raw.columns or not any(c in raw.columns for c in JOB_RECORD_FIELDS):
            raise ValueError(
                f"expected JobRecord columns and {TARGET!r} in a Parquet file, found {list(raw.columns)[:20]}"
            )
        return SourceFrame(source=source, frame=conform(_skills_as_lists(raw)), path=path, rows_read=len(raw))
    if not is_url(path):
        return get_source(source).read(Path(path))
    with tempfile.TemporaryDirectory(prefix="csv-") as folder:
        read = get_source(source).read(local_copy(path, Path(folder)))
    return replace(read, path=path)  # the adapters read local files; the report names the URL


def clean_file(path: str, source: str) -> tuple[pd.DataFrame, CleaningReport]:
    """One partition: the file read, mapped and cleaned, with its report; errors name the file."""
    try:
        cleaned, report = clean_source(read_file(path, source))
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        raise BadPartition(f"{path}: cannot be used as {source} data: {exc}") from exc
    for examples in (*report.examples.values(), *report.rejected_examples.values()):
        for example in examples:
            example["file"] = file_name(path)
    return cleaned.reset_index(drop=True), report


def _meta() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in (*JOB_RECORD_FIELDS, TARGET)})


def _columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The partition with exactly the meta's columns (an adapter may add optional targets), compacted."""
    return shared_values(frame.reindex(columns=[*JOB_RECORD_FIELDS, TARGET]).astype(object))


def shared_values(frame: pd.DataFrame) -> pd.DataFrame:
    """The object columns with equal values (and skills' items) as one Python object each, in place.

    Each cell of an object column is its own Python object (a title costs ~60 bytes, a float 24) though
    a column holds few distinct values, and the workers keep these rows for the whole job. Equal values
    of the same type are interchangeable (str, float and int are immutable); lists stay one per row.
    """
    for column in frame.columns:
        if frame[column].dtype != object:
            continue
        seen: dict[tuple[type, Any], Any] = {}
        values = [_shared(value, seen) for value in frame[column].tolist()]
        frame[column] = pd.Series(values, index=frame.index, dtype=object)  # not inferred as float or str
    return frame


def _shared(value: Any, seen: dict[tuple[type, Any], Any]) -> Any:
    if isinstance(value, list):
        return [_shared(item, seen) for item in value]
    if value is None or value != value or not isinstance(value, str | int | float):  # None, NaN, others
        return value
    return seen.setdefault((type(value), value), value)


def read_cluster_data(client: Client, pattern: str, source: str, max_rejected: float) -> ClusterData:
    """Read, map and clean every file on the workers, keep the rows there; refuse unusable data.

    `pattern` is a local path or glob, or an fsspec URL with or without a glob.
    """
    try:
        files = input_files(pattern)
    except ValueError as exc:
        raise BadPartition(str(exc)) from exc
    parts = [dask.delayed(clean_file, pure=True)(path, source) for path in files]
    frames = [dask.delayed(_columns)(part[0]) for part in parts]
    reports = [part[1] for part in parts]
    with dask.config.set(KEEP_OBJECTS):
        frame = dd.from_delayed(frames, meta=_meta(), verify_meta=False)
    persisted = client.persist([frame, *reports])
    frame, reports = persisted[0], persisted[1:]
    merged = CleaningReport.merge(client.compute(reports, sync=True), source)
    merged.check_usable(max_rejected)
    return ClusterData(frame, merged, files)


def partition_lengths(frame: dd.DataFrame) -> list[int]:
    """Rows per partition, counted on the workers."""
    return [int(n) for n in frame.map_partitions(len).compute()]


def nonempty(frame: dd.DataFrame) -> dd.DataFrame:
    """The partitions that hold rows: lightgbm.dask cannot build a dataset from an empty part."""
    lengths = partition_lengths(frame)
    keep = [i for i, n in enumerate(lengths) if n]
    if not keep:
        raise ValueError("no rows left to fit on; expected at least one non-empty partition")
    return frame if len(keep) == len(lengths) else frame.partitions[keep]


def sample_rows(frame: dd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    """At most `limit` rows, a seeded random share of each partition, for plots and logged datasets."""
    total = sum(partition_lengths(frame))
    if total <= limit:
        return frame.compute().reset_index(drop=True)
    share = limit / total
    sampled = frame.map_partitions(_take_share, share, seed)
    return sampled.compute().reset_index(drop=True)


def _take_share(
    part: pd.DataFrame, share: float, seed: int, partition_info: dict[str, Any] | None = None
) -> Any:
    number = partition_info["number"] if partition_info else 0
    rng = np.random.default_rng([seed, number])
    return part.loc[rng.random(len(part)) < share]
