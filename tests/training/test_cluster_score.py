"""`salary score --cluster`: one process's part files, bad files named, no scheduler a clear error."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pandas as pd
from score_cli import read_parts, score

from training.sources.demo import write_demo_parquet


def test_scores_on_a_local_cluster_equal_one_process(bundle_dir: Path, tmp_path: Path) -> None:
    write_demo_parquet(tmp_path / "in", n=900, seed=3, partition_rows=300)
    code, output = score(bundle_dir, tmp_path / "in" / "*.parquet", tmp_path / "one", "--chunk-rows", "200")
    assert code == 0, output
    code, output = score(
        bundle_dir, tmp_path / "in" / "*.parquet", tmp_path / "many", "--chunk-rows", "200",
        "--cluster", "local", "--workers", "2", "--worker-memory", "2GB",
    )
    assert code == 0, output
    assert "scored 900 rows from 3 files into 6 part files" in output
    one, many = read_parts(tmp_path / "one"), read_parts(tmp_path / "many")
    assert len(many) == 900 and list(many["file"].unique()) == ["part-00000.parquet", "part-00001.parquet",
                                                               "part-00002.parquet"]
    pd.testing.assert_frame_equal(many, one, check_exact=False, rtol=1e-12)


def test_a_bad_partition_is_refused_by_name_before_any_part_is_written(
    bundle_dir: Path, cluster_address: str, tmp_path: Path
) -> None:
    write_demo_parquet(tmp_path / "in", n=200, seed=3, partition_rows=100)
    broken = tmp_path / "in" / "part-00002.parquet"
    broken.write_text("not parquet")
    pattern = tmp_path / "in" / "*.parquet"
    code, output = score(bundle_dir, pattern, tmp_path / "out", "--cluster", cluster_address)
    assert code == 2, output
    assert str(broken) in output and "cannot be read as PARQUET" in output
    assert not list((tmp_path / "out").glob("part-*"))


def test_a_file_bad_past_its_first_rows_stops_the_run_naming_it(
    bundle_dir: Path, cluster_address: str, tmp_path: Path
) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text("title,years_experience\nData Analyst,3\nData Engineer,4\nDevOps Engineer,lots\n")
    code, output = score(bundle_dir, path, tmp_path / "out", "--cluster", cluster_address, "--chunk-rows=2")
    assert code == 2, output
    assert str(path) in output and "'lots'" in output


def test_an_address_where_no_scheduler_answers_is_a_clear_error_in_bounded_time(
    bundle_dir: Path, tmp_path: Path
) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    write_demo_parquet(tmp_path / "in", n=10, seed=3)
    start = time.monotonic()
    code, output = score(
        bundle_dir, tmp_path / "in" / "*.parquet", tmp_path / "out",
        "--cluster", f"tcp://127.0.0.1:{port}", "--connect-timeout", "2",
    )
    assert code == 3, output
    assert f"no Dask scheduler answered at tcp://127.0.0.1:{port} within 2 s" in output
    assert time.monotonic() - start < 15
