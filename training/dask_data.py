"""Training data on a Dask cluster: files split into partitions, each read, mapped by the adapter and cleaned.

A CSV file goes through the source's adapter as in one process; a Parquet file holds JobRecord columns
and `salary_usd` already (as `salary data demo --format parquet` writes them). A file larger than
`blocksize` is split, so no worker has to hold it whole: a Parquet file into runs of row groups, a
CSV file into byte ranges cut at line ends (as dask.dataframe.read_csv cuts them, so a quoted value
must not span lines), each read by the adapter with the file's header. Only files of sources whose
rows are read and cleaned apart are split: a source that drops repeated rows or compares rows in its
adapter (`Source.compares_rows`) reads each file whole. Cleaning runs per partition, so identical rows
in two partitions are not seen as repeats (sources whose rows are distinct people never drop repeats
anyway). The cleaning report is the sum of the partitions' reports, its examples naming the file and
the row in it.

Files are local paths every worker can reach or fsspec URLs (s3://, gcs://, file://). A worker reads
a Parquet URL directly; it copies a CSV URL (or its byte range) to a temporary local file for the
adapter, one at a time.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from distributed import Client
from fsspec.utils import read_block

from features.schema import JOB_RECORD_FIELDS
from training.cleaning import CleaningReport, clean_source
from training.score import input_files
from training.sources import SourceFrame, get_source
from training.sources.base import TARGET, conform
from training.storage import (
    file_name,
    file_size,
    filesystem,
    is_url,
    local_copy,
    local_target,
    opened,
    suffix,
)

# Skills are lists: dask's default conversion of object columns to text would turn them into strings.
KEEP_OBJECTS = {"dataframe.convert-string": False}
BLOCKSIZE = 64 * 2**20  # bytes of a file per partition, at most about (dask.dataframe.read_csv's default)
PARQUET = (".parquet", ".pq")


class BadPartition(ValueError):
    """A file of the data that cannot be read or mapped; the message starts with its path."""


UNUSABLE = (OSError, ValueError, KeyError, TypeError, pa.ArrowException)  # what an unreadable file raises


def unusable(path: str, source: str, exc: Exception) -> BadPartition:
    """The error for a file that cannot be read or mapped, naming it."""
    return BadPartition(f"{path}: cannot be used as {source} data: {exc}")


@dataclass
class ClusterData:
    """Cleaned rows held by the cluster's workers, one or more partitions per file, and the summed report."""

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


@dataclass(frozen=True)
class Piece:
    """What one partition reads: a whole file, a run of a Parquet file's row groups, or a CSV byte range."""

    path: str
    row_groups: tuple[int, ...] | None = None
    block: tuple[int, int] | None = None  # (offset, length) in bytes, cut at line ends


def splits_files(source: str) -> bool:
    """Whether the source's files can be read in parts: it neither drops repeated rows nor compares rows."""
    adapter = get_source(source)
    return adapter.identical_rows_are_distinct and not adapter.compares_rows


def pieces(path: str, source: str, blocksize: int = BLOCKSIZE) -> list[Piece]:
    """A file's partitions: row groups or byte ranges of about `blocksize` bytes, or the whole file."""
    if not splits_files(source):
        return [Piece(path)]
    total = file_size(path)
    if total <= blocksize:
        return [Piece(path)]
    if suffix(path) in PARQUET:
        with opened(path) as data:
            meta = pq.ParquetFile(data).metadata
        runs: list[list[int]] = [[]]
        size = 0
        for group in range(meta.num_row_groups):
            if runs[-1] and size >= blocksize:
                runs.append([])
                size = 0
            runs[-1].append(group)
            size += meta.row_group(group).total_byte_size
        return [Piece(path)] if len(runs) == 1 else [Piece(path, row_groups=tuple(run)) for run in runs]
    return [Piece(path, block=(start, min(blocksize, total - start))) for start in range(0, total, blocksize)]


def _parquet_frame(raw: pd.DataFrame, path: str, source: str) -> SourceFrame:
    if TARGET not in raw.columns or not any(c in raw.columns for c in JOB_RECORD_FIELDS):
        raise ValueError(
            f"expected JobRecord columns and {TARGET!r} in a Parquet file, found {list(raw.columns)[:20]}"
        )
    return SourceFrame(source=source, frame=conform(_skills_as_lists(raw)), path=path, rows_read=len(raw))


def read_file(path: str, source: str) -> SourceFrame:
    """One file as the adapter's output: the adapter reads a CSV; a Parquet file has JobRecord columns."""
    if suffix(path) in PARQUET:
        with opened(path) as data:
            return _parquet_frame(pd.read_parquet(data), path, source)
    if not is_url(path):
        return get_source(source).read(Path(path))
    with tempfile.TemporaryDirectory(prefix="csv-") as folder:
        read = get_source(source).read(local_copy(path, Path(folder)))
    return replace(read, path=path)  # the adapters read local files; the report names the URL


def read_piece(piece: Piece, source: str) -> SourceFrame:
    """A partition's rows as the adapter's output; a CSV byte range is read with the file's header line."""
    if piece.row_groups is not None:
        with opened(piece.path) as data:
            raw = pq.ParquetFile(data).read_row_groups(list(piece.row_groups)).to_pandas()
        return _parquet_frame(raw, piece.path, source)
    if piece.block is None:
        return read_file(piece.path, source)
    fs, inner = filesystem(piece.path) if is_url(piece.path) else (fsspec.filesystem("file"), piece.path)
    offset, length = piece.block
    with fs.open(inner, "rb") as handle:
        header = handle.readline()
        block = read_block(handle, offset, length, delimiter=b"\n")
    with tempfile.TemporaryDirectory(prefix="csv-") as folder:
        target = local_target(piece.path, Path(folder))
        target.write_bytes(block if offset == 0 else header + block)
        read = get_source(source).read(target)
    return replace(read, path=piece.path)


def clean_piece(piece: Piece, source: str) -> tuple[pd.DataFrame, CleaningReport]:
    """One partition: its rows read, mapped and cleaned, with its report; errors name the file."""
    try:
        cleaned, report = clean_source(read_piece(piece, source))
    except UNUSABLE as exc:
        raise unusable(piece.path, source, exc) from exc
    for examples in _examples(report):
        for example in examples:
            example["file"] = file_name(piece.path)
    return cleaned.reset_index(drop=True), report


def _examples(report: CleaningReport) -> list[list[dict[str, Any]]]:
    return [*report.examples.values(), *report.rejected_examples.values()]


def number_rows_in_files(parts: list[Piece], reports: list[CleaningReport]) -> None:
    """Example rows of a file's later parts renumbered as rows of the file (each part counts from 1)."""
    before: dict[str, int] = {}
    for piece, report in zip(parts, reports, strict=True):
        offset = before.get(piece.path, 0)
        for examples in _examples(report) if offset else []:
            for example in examples:
                if isinstance(example.get("row"), int):
                    example["row"] += offset
        before[piece.path] = offset + report.rows_in


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


def read_cluster_data(
    client: Client, pattern: str, source: str, max_rejected: float, blocksize: int = BLOCKSIZE
) -> ClusterData:
    """Read, map and clean every file on the workers, keep the rows there; refuse unusable data.

    `pattern` is a local path or glob, or an fsspec URL with or without a glob; a file of a source
    that allows it is split into partitions of about `blocksize` bytes.
    """
    try:
        files = input_files(pattern)
    except ValueError as exc:
        raise BadPartition(str(exc)) from exc
    split: list[Piece] = []
    for path in files:
        try:
            split += pieces(path, source, blocksize)
        except UNUSABLE as exc:
            raise unusable(path, source, exc) from exc
    parts = [dask.delayed(clean_piece, pure=True)(piece, source) for piece in split]
    frames = [dask.delayed(_columns)(part[0]) for part in parts]
    reports = [part[1] for part in parts]
    with dask.config.set(KEEP_OBJECTS):
        frame = dd.from_delayed(frames, meta=_meta(), verify_meta=False)
    persisted = client.persist([frame, *reports])
    frame, reports = persisted[0], persisted[1:]
    computed = client.compute(reports, sync=True)
    number_rows_in_files(split, computed)
    merged = CleaningReport.merge(computed, source)
    merged.check_usable(max_rejected)
    return ClusterData(frame, merged, files)


def partition_lengths(frame: dd.DataFrame) -> list[int]:
    """Rows per partition, counted on the workers."""
    return [int(n) for n in frame.map_partitions(len).compute()]


def nonempty(frame: dd.DataFrame, lengths: list[int] | None = None) -> dd.DataFrame:
    """The partitions that hold rows: lightgbm.dask cannot build a dataset from an empty part.

    `lengths` are the partitions' row counts when the caller has them already.
    """
    lengths = partition_lengths(frame) if lengths is None else lengths
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
