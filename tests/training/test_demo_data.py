"""`salary data demo --format parquet`: N seeded synthetic rows in partitions of bounded size."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from training.cli import app as cli


def _demo(out: Path, rows: int, seed: int, partition_rows: int) -> list[pd.DataFrame]:
    args = ["data", "demo", "--rows", str(rows), "--out", str(out), "--format", "parquet"]
    result = CliRunner().invoke(cli, [*args, "--seed", str(seed), "--partition-rows", str(partition_rows)])
    assert result.exit_code == 0, result.output
    return [pd.read_parquet(p) for p in sorted(out.glob("*.parquet"))]


def test_demo_parquet_writes_n_rows_in_seeded_partitions(tmp_path: Path) -> None:
    parts = _demo(tmp_path / "a", rows=25, seed=3, partition_rows=10)
    assert [len(p) for p in parts] == [10, 10, 5]
    assert {"title", "skills", "location", "salary_usd"} <= set(parts[0].columns)
    again = _demo(tmp_path / "b", rows=25, seed=3, partition_rows=10)
    for mine, theirs in zip(parts, again, strict=True):
        pd.testing.assert_frame_equal(mine, theirs)
    other = _demo(tmp_path / "c", rows=25, seed=4, partition_rows=10)
    assert not parts[0]["salary_usd"].equals(other[0]["salary_usd"])
    # Each partition has its own seed: the first partition does not depend on how many follow.
    longer = _demo(tmp_path / "d", rows=40, seed=3, partition_rows=10)
    pd.testing.assert_frame_equal(parts[0], longer[0])
