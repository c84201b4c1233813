"""What the cluster path adds up across partitions gives what one process computes on all the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.pipeline import FeatureCounts, JobFeatures, interpret_all
from features.population import Population
from models.quantile import QUANTILES, slope_from_sums, year_slope, year_sums
from training.cleaning import CleaningReport, clean
from training.evaluate import metric_sums, metrics_from_sums, regression_metrics
from training.splits import (
    HoldoutRule,
    YearCounts,
    calibration_fold,
    calibration_rule,
    hold_out,
    holdout_rule,
)

PARTS = (slice(0, 700), slice(700, 1100), slice(1100, 3000))  # uneven partitions of the demo frame


def test_features_fitted_from_summed_counts_equal_features_fitted_on_the_rows(
    demo_frame: pd.DataFrame,
) -> None:
    rows = interpret_all(demo_frame)
    counts = sum((FeatureCounts.of(rows[part]) for part in PARTS), FeatureCounts())
    from_counts = JobFeatures(min_count=5).fit_counts(counts)
    from_rows = JobFeatures(min_count=5).fit(rows)
    assert from_counts.feature_names_ == from_rows.feature_names_
    assert from_counts.categories_ == from_rows.categories_
    assert from_counts.default_work_year_ == from_rows.default_work_year_
    np.testing.assert_array_equal(from_counts.transform(rows[:50]), from_rows.transform(rows[:50]))
    merged = Population.merge((Population.count(rows[part], "demo") for part in PARTS), "demo")
    assert merged.to_dict() == Population.count(rows, "demo").to_dict()


def test_the_year_slope_from_summed_group_sums_is_the_slope_on_all_rows() -> None:
    rng = np.random.default_rng(0)
    years = rng.choice([2021.0, 2022.0, 2023.0, np.nan], size=2000)
    groups = rng.integers(0, 12, size=2000)
    y = 11.5 + 0.04 * np.nan_to_num(years - 2021) + 0.1 * groups + rng.normal(0, 0.2, 2000)
    keys = groups.astype(str)
    sums = pd.concat([year_sums(y[p], years[p], keys[p], origin=2023.0) for p in PARTS])
    whole = year_slope(y, years, groups)
    assert slope_from_sums(sums.groupby(level=0).sum()) == pytest.approx(whole, abs=1e-9)
    assert year_slope(y, years, groups) == pytest.approx(0.04, abs=0.02)


def test_metrics_from_summed_partitions_are_the_metrics_on_all_rows() -> None:
    rng = np.random.default_rng(1)
    y = rng.lognormal(11.5, 0.3, 3000)
    preds = np.sort(y[:, None] * rng.lognormal(0, 0.25, (3000, len(QUANTILES))), axis=1)
    whole = regression_metrics(y, preds, QUANTILES)
    sums: dict[str, float] = {}
    for part in PARTS:
        for key, value in metric_sums(y[part], preds[part], QUANTILES).items():
            sums[key] = sums.get(key, 0.0) + value
    parted = metrics_from_sums(sums, QUANTILES, whole["mdape"])
    assert parted.keys() == whole.keys()
    for key, value in whole.items():
        assert parted[key] == pytest.approx(value, rel=1e-9), key


def test_hold_out_rules_from_summed_year_counts_pick_the_rows_one_process_picks() -> None:
    years = np.repeat([2021.0, 2022.0, 2023.0], [1200, 1000, 800])
    counts = sum((YearCounts.of(years[p]) for p in PARTS), YearCounts({}))
    rule = calibration_rule(counts, seed=3)
    assert rule.newest == 2023.0
    parted = np.concatenate([rule.mask(years[p], i) for i, p in enumerate(PARTS)])
    np.testing.assert_array_equal(parted, calibration_fold(years, seed=3).mask)
    with_missing = np.where(np.arange(3000) % 10 == 0, np.nan, years)
    sample = holdout_rule(YearCounts.of(with_missing), fraction=0.2, seed=3, purpose="evaluation")
    assert sample.newest is None and sample.why == "300 rows have no work_year"
    assert not hold_out(with_missing, fraction=0.2, seed=3, purpose="evaluation").temporal


def test_a_random_rule_draws_each_partition_from_its_own_stream() -> None:
    rule = HoldoutRule(None, 0.2, 7, "evaluation", "random split requested", "")
    years = np.zeros(5000)
    first, again, second = rule.mask(years, 0), rule.mask(years, 0), rule.mask(years, 1)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)
    assert first.mean() == pytest.approx(0.2, abs=0.02)


def test_cleaning_reports_of_partitions_add_up_to_one_report(demo_frame: pd.DataFrame) -> None:
    frame = demo_frame.copy()
    frame.loc[::50, "salary_usd"] = 1000.0  # below every floor
    reports = [clean(frame.iloc[p], "demo")[1] for p in PARTS]
    merged = CleaningReport.merge(reports, "demo")
    whole = clean(frame, "demo")[1]
    assert (merged.rows_in, merged.rows_out, merged.dropped) == (whole.rows_in, whole.rows_out, whole.dropped)
    assert merged.unaccounted() == 0
