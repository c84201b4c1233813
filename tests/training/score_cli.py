"""`salary score` run through the CLI in this process, and the part files it wrote read back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from training.cli import app as cli


def score(bundle_dir: Path, pattern: Path | str, out: Path | str, *extra: str) -> tuple[int, str]:
    """`salary score` with the bundle folder: its exit code and output; an uncaught exception fails."""
    args = ["score", "--input", str(pattern), "--output", str(out), "--model", str(bundle_dir), *extra]
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def read_parts(directory: Path) -> pd.DataFrame:
    """The part files in `directory`, in name order, as one frame."""
    parts = sorted(directory.glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
