"""Batch scoring: CSV or Parquet files of job records in, Parquet part files of estimates out.

One process, bounded memory: files are read in chunks of `chunk_rows` rows, each chunk is scored
and written as its own part file before the next is read. Within a chunk each distinct record is
interpreted and predicted once (`SalaryModel.estimate_many` without drivers), then broadcast back
to its rows, so the numbers are the ones `SalaryModel.predict` and the API give.
"""

from __future__ import annotations

import glob
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.schema import JOB_RECORD_FIELDS
from models.bundle import SalaryModel

ID_COLUMNS = ("row_id", "id")  # carried to the output when the input has one, first found wins
NUMERIC_FIELDS = ("years_experience", "remote_ratio", "company_employees", "work_year")
TEXT_FIELDS = tuple(f for f in JOB_RECORD_FIELDS if f not in (*NUMERIC_FIELDS, "skills"))
SKILL_SEPARATOR = ";"  # skills in a CSV cell, as `salary data demo` writes them
WARNING_SEPARATOR = "; "
SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
DEFAULT_CHUNK_ROWS = 100_000


class BadInput(ValueError):
    """An input file that cannot be scored; the message names the file and what is wrong."""


@dataclass
class ScoreSummary:
    """What a scoring run did: rows in and out, files, part files written and the time it took."""

    files: int
    rows: int
    parts: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """Throughput over the whole run, reading and writing included."""
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def input_files(pattern: str) -> list[Path]:
    """The files a path or glob names, sorted so part numbering is repeatable; refuses none found."""
    matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
    paths = [Path(m) for m in matches]
    if not paths or not paths[0].exists():
        raise BadInput(f"{pattern}: no such file")
    for path in paths:
        if path.is_dir() or path.suffix.lower() not in SUFFIXES:
            raise BadInput(f"{path}: not a CSV or Parquet file (expected .csv, .parquet or .pq)")
    return paths


def _check_columns(path: Path, columns: list[str]) -> None:
    known = [c for c in columns if c in JOB_RECORD_FIELDS]
    if not known:
        raise BadInput(
            f"{path}: no JobRecord column; expected some of {list(JOB_RECORD_FIELDS)}, found {columns[:20]}"
        )


def _check_parquet_types(path: Path, schema: pa.Schema) -> None:
    for field in schema:
        kind = field.type
        if field.name in NUMERIC_FIELDS and not (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                                                  or pa.types.is_null(kind)):
            raise BadInput(f"{path}: column {field.name!r} is {kind}, expected numbers")
        if field.name in TEXT_FIELDS and not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                                               or pa.types.is_null(kind) or pa.types.is_dictionary(kind)):
            raise BadInput(f"{path}: column {field.name!r} is {kind}, expected text")
        if field.name == "skills" and not (
            pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)
            or pa.types.is_list(kind) or pa.types.is_large_list(kind)
        ):
            raise BadInput(f"{path}: column 'skills' is {kind}, expected a list of text or ';'-joined text")


def _numbers(path: Path, frame: pd.DataFrame, first_row: int) -> pd.DataFrame:
    """CSV numeric columns as floats; a value that is there but not a number refuses the file."""
    for name in NUMERIC_FIELDS:
        if name not in frame.columns:
            continue
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = values.isna() & frame[name].notna()
        if bad.any():
            at = int(np.argmax(bad.to_numpy()))
            raise BadInput(
                f"{path}: column {name!r} holds {frame[name].iloc[at]!r} at data row {first_row + at + 1}, "
                "expected a number"
            )
        frame[name] = values.astype(float)
    return frame


def check_file(path: Path) -> None:
    """Read a file's header or schema only, so a bad file is refused before any part file is written."""
    next(read_chunks(path, 1), None)


def read_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """A file's rows, `chunk_rows` at a time, with JobRecord columns typed; BadInput names the file."""
    kind = SUFFIXES[path.suffix.lower()]
    try:
        if kind == "parquet":
            parquet = pq.ParquetFile(path)
            schema = parquet.schema_arrow
            _check_columns(path, list(schema.names))
            _check_parquet_types(path, schema)
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
            return
        text = dict.fromkeys((*TEXT_FIELDS, "skills"), str)
        reader = pd.read_csv(path, chunksize=chunk_rows, dtype=text, keep_default_na=False, na_values=[""])
        first = 0
        with reader:
            for chunk in reader:
                if first == 0:
                    _check_columns(path, list(chunk.columns))
                yield _numbers(path, chunk, first)
                first += len(chunk)
    except BadInput:
        raise
    except (OSError, ValueError, UnicodeDecodeError, pa.ArrowException) as exc:
        raise BadInput(f"{path}: cannot be read as {kind.upper()}: {exc}") from exc


def _skills(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [s for s in value.split(SKILL_SEPARATOR) if s]
    if isinstance(value, list | tuple | np.ndarray):
        return [str(s) for s in value if s is not None]
    return None


Result = tuple[tuple[float, ...], str | None, str, int | None]  # quantiles, confidence, warnings, evidence


class ScoreCache:
    """Each distinct record's result, kept across chunks so a record repeated anywhere is scored once.

    Bounded: past `limit` records it starts afresh, so memory stays bounded whatever the input.
    """

    def __init__(self, limit: int = 500_000) -> None:
        self.limit = limit
        self.results: dict[tuple[Any, ...], Result] = {}

    def fill(self, model: SalaryModel, keys: list[tuple[Any, ...]], records: list[dict[str, Any]]) -> None:
        """Score the records whose keys are not cached yet (interpretation, quantiles and evidence)."""
        todo = [i for i, key in enumerate(keys) if key not in self.results]
        if len(self.results) + len(todo) > self.limit:
            self.results.clear()
            todo = list(range(len(keys)))
        estimates = model.estimate_many([records[i] for i in todo], explain=False)
        names = model.quantile_names
        for i, e in zip(todo, estimates, strict=True):
            self.results[keys[i]] = (
                tuple(e.quantiles[n] for n in names),
                e.confidence,
                WARNING_SEPARATOR.join(e.warnings),
                e.evidence["records"] if e.evidence else None,
            )


def _distinct(frame: pd.DataFrame) -> tuple[np.ndarray, list[tuple[Any, ...]], list[dict[str, Any]]]:
    """Each row's index into the frame's distinct records, their keys, and the records as dicts."""
    columns = [c for c in JOB_RECORD_FIELDS if c in frame.columns]
    keyed = frame[columns].copy()
    if "skills" in keyed.columns:  # lists are not hashable: compare skills as joined text
        keyed["skills"] = keyed["skills"].map(
            lambda v: SKILL_SEPARATOR.join(map(str, v)) if isinstance(v, list | tuple | np.ndarray) else v
        )
    codes = keyed.groupby(columns, dropna=False, sort=False).ngroup().to_numpy()
    _, first = np.unique(codes, return_index=True)
    distinct = keyed.iloc[first].astype(object)
    distinct = distinct.where(distinct.notna(), None)
    keys = [(tuple(columns), *row) for row in distinct.itertuples(index=False, name=None)]
    records = cast(list[dict[str, Any]], distinct.to_dict("records"))
    for record in records:
        if "skills" in record:
            record["skills"] = _skills(record["skills"])
    return codes, keys, records


def score_frame(model: SalaryModel, frame: pd.DataFrame, cache: ScoreCache | None = None) -> pd.DataFrame:
    """Quantiles, confidence, warnings and evidence per row of a frame of JobRecord columns."""
    cache = cache if cache is not None else ScoreCache()
    codes, keys, records = _distinct(frame)
    cache.fill(model, keys, records)
    results = [cache.results[key] for key in keys]
    names = model.quantile_names
    values = np.array([r[0] for r in results], dtype=float).reshape(-1, len(names))
    out = pd.DataFrame(values[codes], columns=names)
    out["confidence"] = np.array([r[1] for r in results], dtype=object)[codes]
    out["warnings"] = np.array([r[2] for r in results], dtype=object)[codes]
    out["evidence_records"] = pd.array([r[3] for r in results], dtype="Int64")[codes]
    return out


def score_files(
    model: SalaryModel,
    pattern: str,
    output: Path,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
) -> ScoreSummary:
    """Score every file `pattern` names into part files under `output`, one chunk in memory at a time."""
    paths = input_files(pattern)
    for path in paths:
        check_file(path)
    output.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows = parts = 0
    cache = ScoreCache()
    for path in paths:
        position = 0
        for chunk in read_chunks(path, chunk_rows):
            scored = score_frame(model, chunk, cache)
            ids = next((chunk[c].to_numpy() for c in ID_COLUMNS if c in chunk.columns), None)
            scored.insert(0, "row_id", ids if ids is not None else np.arange(position, position + len(chunk)))
            scored.insert(0, "file", path.name)
            scored.to_parquet(output / f"part-{parts:05d}.parquet", index=False)
            position += len(chunk)
            rows += len(chunk)
            parts += 1
            if progress is not None:
                progress(len(chunk))
    return ScoreSummary(len(paths), rows, parts, time.perf_counter() - start)
