"""`salary score --cluster`: one process's part files, bad files named, no scheduler a clear error."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from distributed import LocalCluster
from typer.testing import CliRunner

from models.bundle import SalaryModel
from training.cli import app as cli
from training.sources.demo import write_demo_parquet


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A LocalCluster of two worker processes, shared by the tests that pass its address."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield str(local.scheduler_address)


@pytest.fixture(scope="module")
def bundle_dir(demo_bundle: SalaryModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's demo bundle saved as a folder, as `--model PATH` loads it."""
    return demo_bundle.save(tmp_path_factory.mktemp("model") / "bundle")


def _score(bundle_dir: Path, pattern: Path | str, out: Path, *extra: str) -> tuple[int, str]:
    args = ["score", "--input", str(pattern), "--output", str(out), "--model", str(bundle_dir), *extra]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.output


def _parts(directory: Path) -> pd.DataFrame:
    parts = sorted(directory.glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def test_scores_on_a_local_cluster_equal_one_process(bundle_dir: Path, tmp_path: Path) -> None:
    write_demo_parquet(tmp_path / "in", n=900, seed=3, partition_rows=300)
    code, output = _score(bundle_dir, tmp_path / "in" / "*.parquet", tmp_path / "one", "--chunk-rows", "200")
    assert code == 0, output
    code, output = _score(
        bundle_dir, tmp_path / "in" / "*.parquet", tmp_path / "many", "--chunk-rows", "200",
        "--cluster", "local", "--workers", "2", "--worker-memory", "2GB",
    )
    assert code == 0, output
    assert "scored 900 rows from 3 files into 6 part files" in output
    one, many = _parts(tmp_path / "one"), _parts(tmp_path / "many")
    assert len(many) == 900 and list(many["file"].unique()) == ["part-00000.parquet", "part-00001.parquet",
                                                               "part-00002.parquet"]
    pd.testing.assert_frame_equal(many, one, check_exact=False, rtol=1e-12)


def test_a_bad_partition_is_refused_by_name_before_any_part_is_written(
    bundle_dir: Path, cluster: str, tmp_path: Path
) -> None:
    write_demo_parquet(tmp_path / "in", n=200, seed=3, partition_rows=100)
    broken = tmp_path / "in" / "part-00002.parquet"
    broken.write_text("not parquet")
    code, output = _score(bundle_dir, tmp_path / "in" / "*.parquet", tmp_path / "out", "--cluster", cluster)
    assert code == 2, output
    assert str(broken) in output and "cannot be read as PARQUET" in output
    assert not list((tmp_path / "out").glob("part-*"))


def test_a_file_bad_past_its_first_rows_stops_the_run_naming_it(
    bundle_dir: Path, cluster: str, tmp_path: Path
) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text("title,years_experience\nData Analyst,3\nData Engineer,4\nDevOps Engineer,lots\n")
    code, output = _score(bundle_dir, path, tmp_path / "out", "--cluster", cluster, "--chunk-rows", "2")
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
    code, output = _score(
        bundle_dir, tmp_path / "in" / "*.parquet", tmp_path / "out",
        "--cluster", f"tcp://127.0.0.1:{port}", "--connect-timeout", "2",
    )
    assert code == 3, output
    assert f"no Dask scheduler answered at tcp://127.0.0.1:{port} within 2 s" in output
    assert time.monotonic() - start < 15


def test_a_file_url_glob_scores_on_the_cluster_as_its_local_path_does(
    bundle_dir: Path, cluster: str, tmp_path: Path
) -> None:
    write_demo_parquet(tmp_path / "in", n=400, seed=4, partition_rows=200)
    code, output = _score(bundle_dir, tmp_path / "in" / "*.parquet", tmp_path / "local", "--cluster", cluster)
    assert code == 0, output
    url = (tmp_path / "in").as_uri() + "/*.parquet"
    code, output = _score(bundle_dir, url, tmp_path / "url", "--cluster", cluster)
    assert code == 0, output
    assert "scored 400 rows from 2 files into 2 part files" in output
    pd.testing.assert_frame_equal(_parts(tmp_path / "url"), _parts(tmp_path / "local"))
