"""`salary score --input URL`: files on an fsspec filesystem score as the same files on disk do.

Each storage test runs on fsspec's in-memory filesystem and on a real S3-compatible server over HTTP.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pandas as pd
import pytest
from score_cli import read_parts, score
from server_process import free_port
from typer.testing import CliRunner

from training.cli import app as cli
from training.sources.demo import write_demo_parquet

CSV_TEXT = """id,title,location,years_experience,skills,work_year
a1,Senior Data Scientist,"San Francisco, CA",6,Python;PyTorch,2024
a2,Junior Data Analyst,"Austin, TX",,,
a3,Zookeeper,Atlantis,3.5,Basket weaving,2023
"""


@pytest.fixture
def memory_root() -> Iterator[str]:
    """A fresh folder on fsspec's in-memory filesystem, removed afterwards."""
    root = f"memory://scoring-{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.fixture(params=["memory", pytest.param("s3", marks=pytest.mark.slow)])
def remote_root(request: pytest.FixtureRequest) -> str:
    """A fresh folder on fsspec's in-memory filesystem, then a fresh bucket on the S3 server."""
    return str(request.getfixturevalue(f"{request.param}_root"))


def _score(bundle_dir: Path, pattern: str, out: Path | str) -> tuple[int, str]:
    return score(bundle_dir, pattern, out, "--chunk-rows", "150")


def _upload(local: Path, url: str) -> None:
    with fsspec.open(url, "wb") as handle:
        handle.write(local.read_bytes())


def test_a_parquet_glob_and_a_csv_on_remote_storage_score_as_the_same_files_on_disk(
    bundle_dir: Path, tmp_path: Path, remote_root: str
) -> None:
    local = write_demo_parquet(tmp_path / "in", n=400, seed=3, partition_rows=200)
    (tmp_path / "in" / "jobs.csv").write_text(CSV_TEXT)
    for path in [*local, tmp_path / "in" / "jobs.csv"]:
        _upload(path, f"{remote_root}/in/{path.name}")

    assert _score(bundle_dir, str(tmp_path / "in" / "*.parquet"), tmp_path / "disk")[0] == 0
    code, output = _score(bundle_dir, f"{remote_root}/in/*.parquet", tmp_path / "remote")
    assert code == 0, output
    assert "scored 400 rows from 2 files into 4 part files" in output
    remote, disk = read_parts(tmp_path / "remote"), read_parts(tmp_path / "disk")
    assert list(remote["file"].unique()) == ["part-00000.parquet", "part-00001.parquet"]
    pd.testing.assert_frame_equal(remote, disk)

    assert _score(bundle_dir, str(tmp_path / "in" / "jobs.csv"), tmp_path / "disk-csv")[0] == 0
    code, output = _score(bundle_dir, f"{remote_root}/in/jobs.csv", tmp_path / "remote-csv")
    assert code == 0, output
    pd.testing.assert_frame_equal(read_parts(tmp_path / "remote-csv"), read_parts(tmp_path / "disk-csv"))
    assert list(read_parts(tmp_path / "remote-csv")["row_id"]) == ["a1", "a2", "a3"]


def test_a_bad_file_on_remote_storage_is_refused_by_its_url(
    bundle_dir: Path, tmp_path: Path, remote_root: str
) -> None:
    with fsspec.open(f"{remote_root}/in/a.csv", "w") as handle:
        handle.write(CSV_TEXT)
    with fsspec.open(f"{remote_root}/in/b.parquet", "w") as handle:
        handle.write("not parquet")
    code, output = _score(bundle_dir, f"{remote_root}/in/*", tmp_path / "out")
    assert code == 2, output
    url = remote_root.replace("memory://", "memory:///")  # as fsspec lists it
    assert f"{url}/in/b.parquet: cannot be read as PARQUET" in output
    assert not (tmp_path / "out").exists()
    # A key, a glob and a bucket (on memory://, a folder) that are not there.
    for missing in (f"{remote_root}/in/c.csv", f"{remote_root}/in/*.pq", f"{remote_root}-gone/a.csv"):
        code, output = _score(bundle_dir, missing, tmp_path / "out")
        assert code == 2, output
        assert f"{missing}: no such file" in output


@pytest.mark.slow
def test_an_s3_endpoint_that_does_not_answer_is_a_clear_error(
    bundle_dir: Path, tmp_path: Path, s3_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's retries would only take longer
    s3 = fsspec.get_filesystem_class("s3")
    s3.clear_instance_cache()  # a cached filesystem would keep the working endpoint
    try:
        code, output = _score(bundle_dir, "s3://jobs/in/*.parquet", tmp_path / "out")
    finally:
        s3.clear_instance_cache()
    assert code == 2, output
    assert "s3://jobs/in/*.parquet: cannot be listed: EndpointConnectionError" in output


def test_an_unknown_protocol_is_a_clear_error(bundle_dir: Path, tmp_path: Path) -> None:
    code, output = _score(bundle_dir, "nosuchproto://bucket/jobs/*.csv", tmp_path / "out")
    assert code == 2, output
    assert "unknown storage protocol 'nosuchproto'" in output and "Traceback" not in output
    assert "s3fs" in output  # what to install for the common stores


@pytest.mark.skipif(importlib.util.find_spec("gcsfs") is not None, reason="gcsfs is installed here")
def test_a_protocol_whose_package_is_missing_names_the_package(bundle_dir: Path, tmp_path: Path) -> None:
    code, output = _score(bundle_dir, "gcs://bucket/jobs/*.parquet", tmp_path / "out")
    assert code == 2, output
    assert "the package for gcs:// is not installed" in output and "gcsfs" in output


def test_a_url_as_output_folder_is_refused(bundle_dir: Path, memory_root: str) -> None:
    code, output = _score(bundle_dir, "unused.csv", f"{memory_root}/out")
    assert code == 2, output
    assert "part files are written to a local folder" in output


def test_train_without_a_cluster_refuses_a_url() -> None:
    result = CliRunner().invoke(cli, ["train", "--data", "s3://bucket/jobs.csv"])
    assert result.exit_code == 2, result.output
    assert "a URL is read with --cluster" in result.output
