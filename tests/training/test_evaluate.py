"""Evaluation metrics say what each quantile promises, not only whether an interval covers."""

from __future__ import annotations

import numpy as np
import pytest

from training.evaluate import regression_metrics


def test_each_quantile_reports_the_share_below_it() -> None:
    y = np.arange(1.0, 101.0)  # 1..100
    # Every row gets the same range: 10% of salaries are below 11, 40% above 60.
    preds = np.tile([11.0, 26.0, 51.0, 61.0, 91.0], (100, 1))
    metrics = regression_metrics(y, preds, (0.1, 0.25, 0.5, 0.75, 0.9))
    assert [metrics[f"below_p{p}"] for p in (10, 25, 50, 75, 90)] == pytest.approx([0.1, 0.25, 0.5, 0.6, 0.9])
    assert metrics["coverage_p10_p90"] == pytest.approx(0.81)  # 11..91 inclusive
    assert metrics["coverage_p25_p75"] == pytest.approx(0.36)  # the P75 error shows only in the tails
