"""The bundle predicts ordered quantiles, round-trips through disk, and explains how it read input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.bundle import SalaryModel


def test_quantiles_never_cross(demo_bundle: SalaryModel, demo_frame: pd.DataFrame) -> None:
    preds = demo_bundle.predict(demo_frame.head(500))
    assert preds.shape == (500, len(demo_bundle.model.quantiles))
    assert np.all(np.diff(preds, axis=1) >= 0)
    assert np.all(preds > 0)


def test_save_and_load_give_identical_predictions(demo_bundle: SalaryModel, tmp_path: Path) -> None:
    path = demo_bundle.save(tmp_path)
    loaded = SalaryModel.load(tmp_path)
    records = [{"title": "Senior Software Engineer", "location": "Seattle, WA"}, {}]
    assert path.exists()
    np.testing.assert_allclose(loaded.predict(records), demo_bundle.predict(records))


def test_load_rejects_a_folder_without_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no salary model bundle"):
        SalaryModel.load(tmp_path)


def test_estimate_reports_interpretation_and_names(demo_bundle: SalaryModel) -> None:
    estimate = demo_bundle.estimate({"title": "Junior Data Analyst", "location": "Austin, TX"})
    assert list(estimate.quantiles) == ["p10", "p25", "p50", "p75", "p90"]
    assert estimate.interpreted.role == "data_analyst"
    assert estimate.interpreted.seniority == "junior"
    assert estimate.interpreted.region == "TX"


def test_empty_record_still_gets_an_estimate_with_a_warning(demo_bundle: SalaryModel) -> None:
    estimate = demo_bundle.estimate({})
    assert estimate.quantiles["p10"] <= estimate.quantiles["p90"]
    assert estimate.warnings
