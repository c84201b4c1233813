"""Drivers explain P50 exactly, name what the user gave, and stay correct under concurrent calls."""

from __future__ import annotations

import math
import pickle
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from models.bundle import Estimate, SalaryModel

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
