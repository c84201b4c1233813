"""Drivers explain P50 exactly, name what the user gave, and stay correct under concurrent calls."""

from __future__ import annotations

import math
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest

from features.pipeline import interpret_all
from models.bundle import Estimate, SalaryModel
from models.quantile import QuantileModel
from training.sources.base import TARGET

RECORDS: list[dict[str, Any]] = [
    {
        "title": "Senior Data Engineer",
        "skills": ["Python", "Rust"],
        "location": "San Francisco, CA",
        "years_experience": 7.0,
        "company_size": "L",
        "work_year": 2024,
    },
    {"title": "Junior Data Analyst", "location": "Bengaluru, India", "company_size": "S"},
    {"title": "Staff Software Engineer", "skills": ["Go"], "location": "London, UK", "work_year": 2022},
    {"title": "Unheard-of Role"},
    {},
]


@pytest.fixture(scope="module")
def varied(demo_frame: pd.DataFrame) -> list[dict[str, Any]]:
    """150 demo jobs as full records, then the same jobs as a title and a location only."""
    full = [
        {k: v for k, v in row.items() if k != TARGET and v is not None and v == v}
        for row in demo_frame.head(150).to_dict("records")
    ]
    partial = [{k: r[k] for k in ("title", "location") if k in r} for r in full]
    return full + partial


def model_and_rows(bundle: SalaryModel, records: list[dict[str, Any]]) -> tuple[QuantileModel, np.ndarray]:
    assert isinstance(bundle.model, QuantileModel)
    return bundle.model, bundle.features.transform_interpretations(interpret_all(records))


def reproduced_p50(estimate: Estimate) -> float:
    assert estimate.baseline is not None
    return estimate.baseline * math.prod(1 + d["effect_pct"] / 100 for d in estimate.drivers)


@pytest.mark.parametrize("record", RECORDS)
def test_baseline_times_effects_reproduces_p50(demo_bundle: SalaryModel, record: dict[str, Any]) -> None:
    estimate = demo_bundle.estimate(record)
    assert reproduced_p50(estimate) == pytest.approx(estimate.quantiles["p50"], rel=1e-9)


def test_drivers_name_the_inputs_largest_first(demo_bundle: SalaryModel) -> None:
    drivers = demo_bundle.estimate(RECORDS[0]).drivers
    factors = [d["factor"] for d in drivers]
    assert {"skill: rust", "seniority: senior", "location: us/ca"} <= {f.lower() for f in factors}
    sizes = [abs(d["effect_pct"]) for d in drivers]
    assert sizes == sorted(sizes, reverse=True)
    premium = next(d for d in drivers if d["factor"].lower() == "skill: rust")
    assert premium["effect_pct"] > 0


def test_explain_false_leaves_drivers_empty_and_quantiles_unchanged(demo_bundle: SalaryModel) -> None:
    plain = demo_bundle.estimate(RECORDS[0], explain=False)
    assert plain.drivers == []
    assert plain.quantiles == demo_bundle.estimate(RECORDS[0]).quantiles


def test_concurrent_explanations_equal_sequential(demo_bundle: SalaryModel) -> None:
    jobs = [{**r, "years_experience": float(i % 20)} for i, r in enumerate(RECORDS * 40)]
    sequential = [demo_bundle.estimate(r) for r in jobs]
    with ThreadPoolExecutor(max_workers=16) as pool:
        concurrent = list(pool.map(demo_bundle.estimate, jobs))
    for a, b in zip(sequential, concurrent, strict=True):
        assert a.quantiles == b.quantiles
        assert a.drivers == b.drivers
        assert a.baseline == b.baseline


def test_a_pickled_bundle_still_explains(demo_bundle: SalaryModel) -> None:
    copy: SalaryModel = pickle.loads(pickle.dumps(demo_bundle))
    assert copy.estimate(RECORDS[0]).drivers == demo_bundle.estimate(RECORDS[0]).drivers


@pytest.mark.parametrize("method", ["path", "shap"])
def test_drivers_multiply_back_to_p50_for_varied_and_partial_records(
    demo_bundle: SalaryModel, varied: list[dict[str, Any]], method: str
) -> None:
    batch = demo_bundle.estimate_many(varied, drivers_method=method)
    singles = [demo_bundle.estimate(r, drivers_method=method) for r in varied[::10]]
    for estimate in [*batch, *singles]:
        assert estimate.drivers or not estimate.interpreted.title_tokens
        assert reproduced_p50(estimate) == pytest.approx(estimate.quantiles["p50"], rel=1e-9)


def test_estimates_explain_by_path_attribution_unless_asked_for_treeshap(
    demo_bundle: SalaryModel, varied: list[dict[str, Any]]
) -> None:
    records = varied[:40]
    default = [demo_bundle.estimate(r) for r in records]
    assert [e.drivers for e in default] == [
        demo_bundle.estimate(r, drivers_method="path").drivers for r in records
    ]
    assert [e.drivers for e in default] == [e.drivers for e in demo_bundle.estimate_many(records)]
    shap = [demo_bundle.estimate(r, drivers_method="shap") for r in records]
    assert [e.drivers for e in default] != [e.drivers for e in shap]
    with pytest.raises(ValueError, match="method"):
        demo_bundle.estimate(records[0], drivers_method="saabas")


def test_path_attribution_and_treeshap_sum_to_the_same_log_p50(
    demo_bundle: SalaryModel, varied: list[dict[str, Any]]
) -> None:
    model, X = model_and_rows(demo_bundle, varied)
    log_p50 = model.predict(X)[:, model.quantiles.index(0.5)]
    for method in ("path", "shap"):
        contrib, baseline = model.contributions(X, method=method)
        np.testing.assert_allclose(baseline + contrib.sum(axis=1), log_p50, rtol=0, atol=1e-9)
        single = [model.contributions(X[i : i + 1], method=method) for i in range(0, len(X), 7)]
        sums = np.array([b[0] + c.sum() for c, b in single])
        np.testing.assert_allclose(sums, log_p50[::7], rtol=0, atol=1e-9)
    path, shap = model.contributions(X, method="path"), model.contributions(X, method="shap")
    np.testing.assert_allclose(path[1], shap[1], rtol=0, atol=1e-9)  # the same baseline


def test_path_contributions_are_safe_from_many_threads(
    demo_bundle: SalaryModel, varied: list[dict[str, Any]]
) -> None:
    model, X = model_and_rows(demo_bundle, varied[::4])
    expected = [model.contributions(X[i : i + 1], method="path") for i in range(len(X))]
    results: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}

    def work(i: int) -> None:
        results[i] = [model.contributions(X[i : i + 1], method="path") for _ in range(20)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(X))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(threads) >= 64
    for i, (contrib, baseline) in enumerate(expected):
        for got_contrib, got_baseline in results[i]:
            np.testing.assert_array_equal(got_contrib, contrib)
            np.testing.assert_array_equal(got_baseline, baseline)
