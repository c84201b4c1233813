"""`salary score`: batch estimates from CSV and Parquet files, streamed in chunks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from models.bundle import SalaryModel
from training.cli import app as cli
from training.score import ScoreCache, score_frame

# Invented records: repeats (scored once, answered per row), partial rows, an unknown title.
CSV_TEXT = """id,title,location,years_experience,company_size,skills,work_year
a1,Senior Data Scientist,"San Francisco, CA",6,L,Python;PyTorch,2024
a2,Junior Data Analyst,"Austin, TX",,,,
a3,Senior Data Scientist,"San Francisco, CA",6,L,Python;PyTorch,2024
a4,Zookeeper,Atlantis,3.5,S,Basket weaving,2023
a5,,"Berlin, Germany",,M,,
a6,Staff DevOps Engineer,"Seattle, WA",11,,Kubernetes;Go;Rust,2022
a7,Junior Data Analyst,"Austin, TX",,,,
"""
QUANTILES = ["p10", "p25", "p50", "p75", "p90"]


@pytest.fixture(scope="module")
def bundle_dir(demo_bundle: SalaryModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's demo bundle saved as a folder, as `--model PATH` loads it."""
    return demo_bundle.save(tmp_path_factory.mktemp("model") / "bundle")


def _read_output(directory: Path) -> pd.DataFrame:
    parts = sorted(directory.glob("part-*.parquet"))
    assert parts, f"no part files in {directory}"
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def _as_records(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as SalaryModel.predict takes it: skills as lists, no id column."""
    out = frame.drop(columns=["id"], errors="ignore")
    out["skills"] = out["skills"].map(lambda s: s.split(";") if isinstance(s, str) else None)
    return out


def test_score_csv_gives_one_row_per_record_with_the_models_numbers(
    demo_bundle: SalaryModel, bundle_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(CSV_TEXT)
    out_dir = tmp_path / "scored"
    args = ["score", "--input", str(path), "--output", str(out_dir), "--model", str(bundle_dir)]
    result = CliRunner().invoke(cli, [*args, "--chunk-rows", "3"])  # three chunks, repeats across them
    assert result.exit_code == 0, result.output
    scored = _read_output(out_dir)
    frame = pd.read_csv(path)
    assert list(scored["row_id"]) == list(frame["id"])
    values = scored[QUANTILES].to_numpy()
    assert (np.diff(values, axis=1) >= 0).all()
    np.testing.assert_allclose(values, demo_bundle.predict(_as_records(frame)), rtol=1e-9)
    estimates = demo_bundle.estimate_many(_as_records(frame).to_dict("records"), explain=False)
    assert list(scored["confidence"]) == [e.confidence for e in estimates]
    assert list(scored["warnings"]) == ["; ".join(e.warnings) for e in estimates]
    assert list(scored["evidence_records"]) == [e.evidence["records"] for e in estimates if e.evidence]
    assert "role not recognised" in scored.loc[3, "warnings"]


def test_score_a_parquet_glob_scores_every_file(
    demo_bundle: SalaryModel, bundle_dir: Path, tmp_path: Path
) -> None:
    first = pd.DataFrame(
        {
            "title": ["Data Engineer", "Senior Software Engineer", None],
            "skills": [["SQL", "Python"], [], None],
            "location": ["Chicago, IL", "London, UK", "Remote - US"],
            "work_year": [2023, 2024, None],
        }
    )
    second = pd.DataFrame({"title": ["Principal Product Manager"], "years_experience": [18.0]})
    (tmp_path / "in").mkdir()
    first.to_parquet(tmp_path / "in" / "a.parquet", index=False)
    second.to_parquet(tmp_path / "in" / "b.parquet", index=False)
    result = CliRunner().invoke(
        cli,
        ["score", "--input", str(tmp_path / "in" / "*.parquet"), "--output", str(tmp_path / "out"),
         "--model", str(bundle_dir)],
    )
    assert result.exit_code == 0, result.output
    scored = _read_output(tmp_path / "out")
    assert list(scored["file"]) == ["a.parquet"] * 3 + ["b.parquet"]
    assert list(scored["row_id"]) == [0, 1, 2, 0]
    records = [*first.to_dict("records"), *second.to_dict("records")]
    np.testing.assert_allclose(scored[QUANTILES].to_numpy(), demo_bundle.predict(records), rtol=1e-9)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("notes.txt", "title\nData Analyst\n", "not a CSV or Parquet file"),
        ("numbers.csv", "title,years_experience\nData Analyst,3\nData Engineer,lots\n", "'lots'"),
        ("other.csv", "colour,shape\nred,round\n", "no JobRecord column"),
        ("broken.parquet", "this is not parquet", "cannot be read as PARQUET"),
    ],
)
def test_a_bad_input_file_exits_2_naming_the_file(
    bundle_dir: Path, tmp_path: Path, name: str, content: str, says: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = CliRunner().invoke(
        cli, ["score", "--input", str(path), "--output", str(tmp_path / "out"), "--model", str(bundle_dir)]
    )
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and says in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback


def test_a_parquet_column_of_the_wrong_type_is_refused(bundle_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "typed.parquet"
    pd.DataFrame({"title": ["Data Analyst"], "work_year": ["last year"]}).to_parquet(path)
    result = CliRunner().invoke(
        cli, ["score", "--input", str(path), "--output", str(tmp_path / "out"), "--model", str(bundle_dir)]
    )
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and "'work_year'" in result.output


def test_a_bad_file_in_a_glob_is_refused_before_anything_is_written(bundle_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text(CSV_TEXT)
    (tmp_path / "in" / "b.csv").write_text("colour,shape\nred,round\n")
    out = tmp_path / "out"
    args = ["score", "--input", str(tmp_path / "in" / "*.csv"), "--output", str(out)]
    result = CliRunner().invoke(cli, [*args, "--model", str(bundle_dir)])
    assert result.exit_code == 2, result.output
    assert "b.csv" in result.output
    assert not list(out.glob("*.parquet"))


def test_the_prediction_cache_starts_afresh_past_its_limit_with_the_same_answers(
    demo_bundle: SalaryModel, demo_frame: pd.DataFrame
) -> None:
    frame = demo_frame.drop(columns=["salary_usd"])
    small = ScoreCache(limit=30)
    first = [score_frame(demo_bundle, frame.iloc[i : i + 20], small) for i in (0, 20, 0)]
    assert len(small.values) <= 40  # the third chunk found its rows again, or started afresh
    for i, scored in zip((0, 20, 0), first, strict=True):
        pd.testing.assert_frame_equal(scored, score_frame(demo_bundle, frame.iloc[i : i + 20]))
