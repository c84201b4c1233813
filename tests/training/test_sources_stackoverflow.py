"""The Stack Overflow adapter reads both survey layouts and maps the answers to JobRecord fields."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_files import FIXTURES, shared_data_file

from training.sources import get_source
from training.sources.base import TARGET


def test_2023_layout_maps_answers() -> None:
    result = get_source("stackoverflow").read(FIXTURES / "stackoverflow_2023.csv")
    frame = result.frame
    assert result.rejected == {"unparseable_salary": 1}
    first = frame.iloc[0]
    assert first["title"] == "Developer, back-end"
    assert first["skills"] == ["Python", "Go", "PostgreSQL", "Amazon Web Services (AWS)",
                               "FastAPI", "Docker", "Kubernetes", "Jira", "Vim", "MacOS"]
    assert first["years_experience"] == 6  # YearsCodePro wins over WorkExp
    assert (first["country"], first["work_year"], first["remote_ratio"]) == ("US", 2023, 100)
    assert first["company_size"] == "M" and first["industry"] == "Financial Services"
    assert first["company_employees"] == 224  # 100-499: the geometric middle of the bucket
    second = frame.iloc[1]
    assert second["employment_type"] == "full_time"  # full-time employment wins over side work
    assert second["years_experience"] == 0.5  # 'Less than 1 year', no WorkExp
    assert (second["company_size"], second["remote_ratio"]) == ("L", 50)
    assert frame.iloc[2]["employment_type"] == "part_time"
    assert second["title"] == "Engineering manager"  # a people manager already titled manager
    assert frame.iloc[3]["title"] == "Manager, Developer, full-stack"  # ICorPM 'People manager'
    assert frame.iloc[2]["title"] == "Developer, front-end"  # ICorPM not answered
    assert frame[TARGET].tolist()[2:4] == [0, 1e16]  # absurd answers are cleaning's to drop


def test_public_layout_uses_converted_compensation_and_country(tmp_path: Path) -> None:
    result = get_source("stackoverflow").read(FIXTURES / "stackoverflow_2024.csv")
    frame = result.frame
    assert frame[TARGET].tolist()[:2] == [75600, 120000]
    assert frame["country"].tolist() == ["Germany", "United States of America", "India"]
    assert frame["work_year"].tolist() == [2024, 2024, 2024]
    assert frame.iloc[1]["years_experience"] == 50  # 'More than 50 years'
    assert frame.iloc[1]["employment_type"] == "freelance"
    assert frame.iloc[1]["company_size"] == "S"
    assert frame["company_employees"].tolist()[:2] == [224, 1]  # a sole proprietor is one person
    assert frame["skills"].isna().all()
    assert any("HaveWorkedWith" in note for note in result.notes)


def test_unknown_layout_names_both_expected_headers(tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_text("Age,Country\n25-34,France\n")
    with pytest.raises(ValueError, match=r"ConvertedCompYearly.*found"):
        get_source("stackoverflow").read(path)


@pytest.mark.realdata
def test_real_2023_extract() -> None:
    result = get_source("stackoverflow").read(shared_data_file("stackoverflow/so2023_us.csv"))
    assert result.rows_read == len(result.frame)
    assert result.frame["skills"].map(len).median() > 5
    assert result.frame["title"].notna().mean() > 0.95


def test_tuned_entry_fits_a_robust_center_and_keeps_experience_monotone() -> None:
    """The Stack Overflow tuned entry (huber center, no median booster) must still give sane quantiles."""
    import json

    import numpy as np

    from models.quantile import QuantileModel

    entry = json.loads((Path(__file__).parents[2] / "benchmarks" / "stackoverflow_tuned_params.json")
                       .read_text())["stackoverflow"]
    rng = np.random.default_rng(0)
    n = 600
    X = np.column_stack([rng.uniform(0, 30, n), rng.integers(0, 4, n).astype(float)])
    y = 11 + 0.03 * X[:, 0] + 0.1 * X[:, 1] + rng.standard_t(3, n) * 0.2
    names = ["years_experience", "role"]
    model = QuantileModel(params={**entry["params"], "num_threads": 1}, num_boost_round=50).fit(
        X, y, names, categorical_features=["role"], monotone_increasing=["years_experience"]
    )
    assert model.center_.params["objective"] == "huber"
    grid = np.column_stack([np.linspace(0, 30, 31), np.ones(31)])
    preds = model.predict(grid)
    assert (np.diff(preds, axis=0) >= -1e-12).all()  # more experience never lowers a quantile
    assert (np.diff(preds, axis=1) >= 0).all()  # quantiles do not cross
    # Without the median correction, P50 is the center itself.
    np.testing.assert_allclose(preds[:, 2], model.center_.predict(grid))
