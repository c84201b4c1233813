"""Big files split into partitions on the cluster give the rows and the report of one partition per file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from training.dask_data import Piece, pieces, read_cluster_data

TITLES = ["Data Engineer", "Senior Data Scientist", '"Engineer, Machine Learning"', "Analyst"]
PLACES = ['"Austin, TX"', '"Berlin, Germany"', '"London, UK"']


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """A cluster in this process: reading and cleaning run as on workers, without starting processes."""
    with (
        LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0") as cluster,
        Client(cluster) as connected,
    ):
        yield connected


def _write_csv(path: Path, rows: int) -> Path:
    """Invented rows in the demo adapter's CSV layout, some with a salary below the floor, some late
    ones with none."""
    lines = ["title,skills,location,years_experience,work_year,salary_usd"]
    for i in range(rows):
        salary = "900" if i % 97 == 5 else "" if i > 2_000 and i % 113 == 7 else str(60_000 + 37 * i)
        lines.append(f"{TITLES[i % 4]},Python;SQL,{PLACES[i % 3]},{i % 23 / 2},{2020 + i % 4},{salary}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _same(split: object, whole: object) -> None:
    pd.testing.assert_frame_equal(
        split.frame.compute().reset_index(drop=True),  # type: ignore[attr-defined]
        whole.frame.compute().reset_index(drop=True),  # type: ignore[attr-defined]
    )
    assert split.report == whole.report  # type: ignore[attr-defined]


def test_a_csv_split_by_bytes_gives_the_cleaned_rows_and_report_of_one_partition(
    client: Client, tmp_path: Path
) -> None:
    path = _write_csv(tmp_path / "jobs.csv", 3_000)
    whole = read_cluster_data(client, str(path), "demo", 1.0, blocksize=10**9)
    split = read_cluster_data(client, str(path), "demo", 1.0, blocksize=40_000)
    assert whole.frame.npartitions == 1 and split.frame.npartitions >= 2
    _same(split, whole)
    assert split.report.rows_in == 3_000 and split.report.dropped
    late = split.report.examples["missing_salary"]  # found in later parts, named by the file's row
    assert [e["row"] for e in late] == [2_042, 2_155, 2_268]  # 1-based: i = 2_041, 2_154, 2_267
    assert {e["file"] for examples in split.report.examples.values() for e in examples} == {"jobs.csv"}


def test_a_parquet_file_splits_by_row_groups(client: Client, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "title": np.array(["Data Engineer", "Analyst", None], dtype=object)[np.arange(1_000) % 3],
            "skills": [["Python", "SQL"][: i % 3] for i in range(1_000)],
            "work_year": 2020 + np.arange(1_000) % 4,
            "salary_usd": np.where(np.arange(1_000) % 89 == 3, 500.0, 50_000.0 + np.arange(1_000)),
        }
    )
    path = tmp_path / "jobs.parquet"
    frame.to_parquet(path, index=False, row_group_size=300)
    assert [p.row_groups for p in pieces(str(path), "demo", blocksize=1)] == [(0,), (1,), (2,), (3,)]
    whole = read_cluster_data(client, str(path), "demo", 1.0)
    split = read_cluster_data(client, str(path), "demo", 1.0, blocksize=1)
    assert whole.frame.npartitions == 1 and split.frame.npartitions == 4
    _same(split, whole)


def test_files_of_a_source_that_compares_rows_are_read_whole(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "filings.csv", 2_000)
    assert pieces(str(path), "h1b", blocksize=1_000) == [Piece(str(path))]  # repeated case numbers
    assert pieces(str(path), "stackoverflow", blocksize=1_000) == [Piece(str(path))]  # repeated rows
    assert len(pieces(str(path), "aijobs", blocksize=1_000)) > 1
