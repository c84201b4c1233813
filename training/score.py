"""Batch scoring: CSV or Parquet files of job records in, Parquet part files of estimates out.

One process, bounded memory: files are read in chunks of `chunk_rows` rows, each chunk is scored
and written as its own part file before the next is read. Within a chunk each distinct value of each
field is interpreted once (features/columnar.py), each distinct feature row predicted once (and
remembered across chunks), then broadcast back to its rows: the numbers, confidence and warnings are
the ones `SalaryModel.estimate_many` (without drivers) and the API give.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.columnar import FrameReading, combine, matrix, read_frame
from features.population import EVIDENCE_FIELDS
from features.schema import JOB_RECORD_FIELDS
from models.bundle import SalaryModel
from models.confidence import confidence, evidence_warnings, ignored_warnings
from training.storage import NoInput, StorageError, file_name, list_files, opened, suffix

ID_COLUMNS = ("row_id", "id")  # carried to the output when the input has one, first found wins
NUMERIC_FIELDS = ("years_experience", "remote_ratio", "company_employees", "work_year")
TEXT_FIELDS = tuple(f for f in JOB_RECORD_FIELDS if f not in (*NUMERIC_FIELDS, "skills"))
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


def input_files(pattern: str) -> list[str]:
    """The files a local path, glob or fsspec URL names, sorted so part numbering is repeatable.

    Refuses none found, a folder or another format, and a URL whose protocol cannot be read here.
    """
    try:
        found = list_files(pattern)
    except (NoInput, StorageError) as exc:
        raise BadInput(str(exc)) from exc
    for path, folder in found.items():
        if folder or suffix(path) not in SUFFIXES:
            raise BadInput(f"{path}: not a CSV or Parquet file (expected .csv, .parquet or .pq)")
    return list(found)


def _check_columns(path: str, columns: list[str]) -> None:
    known = [c for c in columns if c in JOB_RECORD_FIELDS]
    if not known:
        raise BadInput(
            f"{path}: no JobRecord column; expected some of {list(JOB_RECORD_FIELDS)}, found {columns[:20]}"
        )


def _check_parquet_types(path: str, schema: pa.Schema) -> None:
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


def _numbers(path: str, frame: pd.DataFrame, first_row: int) -> pd.DataFrame:
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


def check_file(path: str | Path) -> None:
    """Read a file's header or schema only, so a bad file is refused before any part file is written."""
    next(read_chunks(path, 1), None)


def read_chunks(path: str | Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """A file's rows, `chunk_rows` at a time, with JobRecord columns typed; BadInput names the file.

    `path` is a local path or an fsspec URL; errors name it as given.
    """
    path = str(path)
    kind = SUFFIXES[suffix(path)]
    try:
        with opened(path) as source:
            if kind == "parquet":
                parquet = pq.ParquetFile(source)
                schema = parquet.schema_arrow
                _check_columns(path, list(schema.names))
                _check_parquet_types(path, schema)
                for batch in parquet.iter_batches(batch_size=chunk_rows):
                    yield batch.to_pandas()
                return
            text = dict.fromkeys((*TEXT_FIELDS, "skills"), str)
            reader = pd.read_csv(
                source, chunksize=chunk_rows, dtype=text, keep_default_na=False, na_values=[""]
            )
            first = 0
            with reader:
                for chunk in reader:
                    if first == 0:
                        _check_columns(path, list(chunk.columns))
                    yield _numbers(path, chunk, first)
                    first += len(chunk)
    except BadInput:
        raise
    except StorageError as exc:
        raise BadInput(str(exc)) from exc
    except (OSError, ValueError, UnicodeDecodeError, pa.ArrowException) as exc:
        raise BadInput(f"{path}: cannot be read as {kind.upper()}: {exc}") from exc


class ScoreCache:
    """USD quantiles per distinct feature row, kept across chunks: a row repeated anywhere is predicted once.

    Bounded: past `limit` rows it starts afresh, so memory stays bounded whatever the input. Tasks
    sharing it on threads see a whole dictionary each: starting afresh replaces it, never empties it.
    """

    def __init__(self, limit: int = 200_000, threads: int | None = None) -> None:
        self.limit = limit
        self.threads = threads  # LightGBM's; None: all cores
        self.values: dict[bytes, np.ndarray] = {}

    def predict(self, model: SalaryModel, X: np.ndarray) -> np.ndarray:
        """USD quantiles per row of X, the boosters run only on rows not seen before."""
        keys = [row.tobytes() for row in X]
        known = self.values
        todo = list({k: i for i, k in enumerate(keys) if k not in known}.values())
        if len(known) + len(todo) > self.limit:
            known = self.values = {}
            todo = list({k: i for i, k in enumerate(keys)}.values())
        if todo:
            fresh = np.exp(model.model.predict(X[todo], num_threads=self.threads))
            known.update(zip([keys[i] for i in todo], fresh, strict=True))
        return np.array([known[k] for k in keys]).reshape(len(keys), len(model.quantiles))


def _caveats(model: SalaryModel, reading: FrameReading, values: np.ndarray) -> tuple[np.ndarray, ...]:
    """Confidence, warnings and evidence records per distinct record, as `estimate_many` gives them."""
    n = len(reading)
    population = model.population
    source = model.source
    unused = tuple(model.features.unstated_)
    # Warnings come from few parts and values: each distinct combination of those is joined once.
    noisy = [
        codes
        for part, notes, codes in zip(reading.parts, reading.notes, reading.codes, strict=True)
        if any(notes) or set(part.outputs) & set(unused)
    ]

    def ignored(i: int) -> list[str]:
        return ignored_warnings(model.features.ignored(reading.assemble(i, unused)), source) if unused else []

    if population is None:
        warned, first = combine(noisy, n)
        joined = [WARNING_SEPARATOR.join([*reading.warnings(i), *ignored(i)]) for i in first.tolist()]
        text = np.array(joined, dtype=object)
        return np.full(n, None, dtype=object), text[warned], np.full(n, None, dtype=object)
    holders = [codes for part, codes in zip(reading.parts, reading.codes, strict=True)
               if set(part.outputs) & set(EVIDENCE_FIELDS)]
    grouped, first = combine(holders, n)
    found = [population.evidence(reading.assemble(i, EVIDENCE_FIELDS)) for i in first.tolist()]
    warned, first = combine([*noisy, grouped], n)
    said = [[*reading.warnings(i), *evidence_warnings(found[grouped[i]], source), *ignored(i)] for i in first]
    text = np.array([WARNING_SEPARATOR.join(w) for w in said], dtype=object)
    pairs = zip(grouped.tolist(), values[:, 0].tolist(), values[:, -1].tolist(), strict=True)
    level = np.array([confidence(found[g], low, high) for g, low, high in pairs], dtype=object)
    records = np.array([e.records for e in found], dtype=object)[grouped]
    return level, text[warned], records


def score_frame(model: SalaryModel, frame: pd.DataFrame, cache: ScoreCache | None = None) -> pd.DataFrame:
    """Quantiles, confidence, warnings and evidence per row of a frame of JobRecord columns."""
    cache = cache if cache is not None else ScoreCache()
    reading = read_frame(frame)
    values = cache.predict(model, matrix(model.features, reading))
    level, warnings, records = _caveats(model, reading, values)
    rows = reading.rows
    out = pd.DataFrame(values[rows], columns=model.quantile_names)
    out["confidence"] = level[rows]
    out["warnings"] = warnings[rows]
    out["evidence_records"] = pd.array(records[rows], dtype="Int64")
    return out


def score_file(
    model: SalaryModel,
    path: str | Path,
    output: Path,
    number: int,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    cache: ScoreCache | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Score the `number`th input file chunk by chunk into `part-<number>-<chunk>.parquet`; rows, parts."""
    cache = cache if cache is not None else ScoreCache()
    rows = parts = 0
    for chunk in read_chunks(path, chunk_rows):
        scored = score_frame(model, chunk, cache)
        ids = next((chunk[c].to_numpy() for c in ID_COLUMNS if c in chunk.columns), None)
        scored.insert(0, "row_id", ids if ids is not None else np.arange(rows, rows + len(chunk)))
        scored.insert(0, "file", file_name(str(path)))
        scored.to_parquet(output / f"part-{number:05d}-{parts:05d}.parquet", index=False)
        rows += len(chunk)
        parts += 1
        if progress is not None:
            progress(len(chunk))
    return rows, parts


def score_files(
    model: SalaryModel,
    pattern: str,
    output: Path,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
) -> ScoreSummary:
    """Score every file `pattern` (a local path, glob or fsspec URL) names into part files under `output`."""
    paths = input_files(pattern)
    for path in paths:
        check_file(path)
    output.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows = parts = 0
    cache = ScoreCache()
    for number, path in enumerate(paths):
        done = score_file(model, path, output, number, chunk_rows, cache, progress)
        rows, parts = rows + done[0], parts + done[1]
    return ScoreSummary(len(paths), rows, parts, time.perf_counter() - start)
