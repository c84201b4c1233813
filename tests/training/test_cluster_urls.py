"""Files named by URL on a Dask cluster, to train on or to score: file://, and s3:// on a real
S3-compatible server over HTTP.

The workers are processes of their own: they find the S3 server through the environment they inherit,
set (by `s3_settings`) before the module's cluster starts, as workers elsewhere would through theirs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import fsspec
import mlflow
import pandas as pd
import pytest
from distributed import Client
from mlflow.tracking import MlflowClient
from score_cli import read_parts, score
from typer.testing import CliRunner

from models import registry
from training.cli import app as cli
from training.dask_data import read_cluster_data
from training.sources.base import conform
from training.sources.demo import write_demo, write_demo_parquet
from training.splits import split_frame

ROUNDS = 30  # enough for P10 < P50 < P90; quality against the one-process path is test_cluster_train's
pytestmark = pytest.mark.slow  # starts an S3 server and a cluster of worker processes
Publish = Callable[[Path], str]  # a local folder's files put on a store: the URL of their folder there


@pytest.fixture(scope="module")
def cluster(s3_settings: dict[str, str], cluster: Client) -> Client:
    """The shared cluster fixture, started once the S3 settings are in the environment its workers inherit."""
    return cluster


@pytest.fixture()
def s3_publish(s3_root: str) -> Publish:
    """Upload a folder's files under a fresh bucket on the S3 server."""

    def publish(folder: Path) -> str:
        url = f"{s3_root}/{folder.name}"
        fs = fsspec.filesystem("s3")
        for path in sorted(folder.iterdir()):
            fs.put_file(str(path), f"{url}/{path.name}")
        return url

    return publish


@pytest.fixture(params=["file", "s3"])
def publish(request: pytest.FixtureRequest) -> Publish:
    """A folder's files by URL: as file:// in place, then uploaded to the S3 server."""
    if request.param == "file":
        return lambda folder: folder.as_uri()
    return request.getfixturevalue("s3_publish")  # type: ignore[no-any-return]


def _train(address: str, data: str, *extra: str) -> tuple[int, str]:
    args = ["train", "--cluster", address, "--data", data, "--rounds", str(ROUNDS), "--threads", "1",
            "--no-refit-all", "--no-baselines", "--copies", "0", *extra]
    out = CliRunner().invoke(cli, args)
    assert out.exception is None or isinstance(out.exception, SystemExit), out.exception
    return out.exit_code, out.output


def test_parquet_and_csv_urls_read_on_the_cluster_as_their_local_paths(
    cluster: Client, parts: Path, tmp_path: Path, publish: Publish
) -> None:
    url = publish(parts)
    local = read_cluster_data(cluster, str(parts / "*.parquet"), "demo", 0.05)
    remote = read_cluster_data(cluster, url + "/*.parquet", "demo", 0.05)
    assert remote.files == [f"{url}/{p.name}" for p in sorted(parts.glob("*.parquet"))]
    assert remote.report == local.report
    pd.testing.assert_frame_equal(remote.frame.compute(), local.frame.compute())

    for name, seed in (("a.csv", 1), ("b.csv", 2)):  # through the demo adapter, which reads local files
        write_demo(tmp_path / "csv" / name, n=200, seed=seed)
    url = publish(tmp_path / "csv")
    local = read_cluster_data(cluster, str(tmp_path / "csv" / "*.csv"), "demo", 0.05)
    remote = read_cluster_data(cluster, url + "/*.csv", "demo", 0.05)
    assert remote.report == local.report and remote.report.rows_in == 400
    pd.testing.assert_frame_equal(remote.frame.compute(), local.frame.compute())


def test_a_url_glob_scores_on_the_cluster_as_its_local_path_does(
    bundle_dir: Path, cluster_address: str, tmp_path: Path, publish: Publish
) -> None:
    write_demo_parquet(tmp_path / "in", n=400, seed=4, partition_rows=200)
    local = tmp_path / "in" / "*.parquet"
    code, output = score(bundle_dir, local, tmp_path / "local", "--cluster", cluster_address)
    assert code == 0, output
    url = publish(tmp_path / "in") + "/*.parquet"
    code, output = score(bundle_dir, url, tmp_path / "url", "--cluster", cluster_address)
    assert code == 0, output
    assert "scored 400 rows from 2 files into 2 part files" in output
    pd.testing.assert_frame_equal(read_parts(tmp_path / "url"), read_parts(tmp_path / "local"))


def test_salary_train_from_s3_on_the_cluster_registers_a_bundle_evaluated_on_the_same_rows(
    cluster_address: str, parts: Path, s3_publish: Publish, mlflow_store: str
) -> None:
    """One run: the rows read from s3:// equal those on disk (above); two cluster runs differ anyway."""
    code, output = _train(cluster_address, s3_publish(parts) + "/*.parquet")
    assert code == 0, output
    assert "3000 rows read, 3000 rows out" in output
    assert "registered salary-estimator version 1 (now champion)" in output
    frame = pd.concat([pd.read_parquet(p) for p in sorted(parts.glob("*.parquet"))], ignore_index=True)
    frame["skills"] = frame["skills"].map(list)
    assert f"evaluation digest {split_frame(conform(frame)).digest}" in output  # the rows on disk, split
    coverage = re.search(r"coverage_p10_p90 +([\d.]+)", output)
    assert coverage and 0.70 <= float(coverage.group(1)) <= 0.90, output
    model = mlflow.pyfunc.load_model(registry.alias_uri())  # as serving loads the champion
    estimate = model.predict(pd.DataFrame([{"title": "Senior Data Scientist", "location": "Seattle, WA"}]))
    assert estimate.iloc[0]["p10"] < estimate.iloc[0]["p50"] < estimate.iloc[0]["p90"]


def test_a_bad_or_missing_file_on_s3_stops_training_naming_its_url(
    cluster_address: str, parts: Path, s3_root: str, mlflow_store: str
) -> None:
    fs = fsspec.filesystem("s3")
    fs.put_file(str(sorted(parts.glob("*.parquet"))[0]), f"{s3_root}/train/part-00000.parquet")
    fs.pipe_file(f"{s3_root}/train/part-00001.parquet", b"title,salary_usd\nnot parquet,1\n")
    code, output = _train(cluster_address, f"{s3_root}/train/*.parquet")
    assert code == 2, output
    assert f"{s3_root}/train/part-00001.parquet: cannot be used as demo data" in output
    for missing in (f"{s3_root}/train/*.csv", f"{s3_root}-gone/train/*.parquet"):
        code, output = _train(cluster_address, missing)
        assert code == 2, output
        assert f"{missing}: no such file" in output
    assert MlflowClient().search_registered_models() == []
