"""Model behaviour on the demo data: it recovers the planted effects and respects basic invariants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from models.bundle import SalaryModel
from training.sources.base import TARGET
from training.sources.demo import PREMIUM_SKILL, generate_demo
from training.train import TrainConfig, fit_bundle

BASE: dict[str, Any] = {
    "title": "Data Engineer",
    "skills": ["Python", "SQL"],
    "location": "Chicago, IL",
    "years_experience": 6.0,
    "company_size": "M",
    "work_year": 2023,
}
VARIED: list[dict[str, Any]] = [
    BASE,
    {"title": "Senior Machine Learning Engineer", "skills": ["PyTorch"], "location": "San Francisco, CA"},
    {"title": "junior data analyst", "location": "Bengaluru, India", "company_size": "S"},
    {
        "title": "Staff Software Engineer",
        "skills": ["Rust", "Go"],
        "location": "London, UK",
        "work_year": 2021,
    },
    {"title": "Principal Product Manager", "location": "Remote - US", "company_size": "L"},
    {"title": "Astronaut Chef"},
    {},
]
YEARS_GRID = np.arange(0.0, 31.0, 0.5)


def p50(bundle: SalaryModel, **changes: Any) -> float:
    return bundle.estimate({**BASE, **changes}).quantiles["p50"]


def test_seniority_raises_p50(demo_bundle: SalaryModel) -> None:
    junior = p50(demo_bundle, title="Junior Data Engineer", years_experience=1.0)
    mid = p50(demo_bundle)
    senior = p50(demo_bundle, title="Senior Data Engineer")
    assert junior < mid < senior


def test_premium_skill_raises_p50(demo_bundle: SalaryModel) -> None:
    assert p50(demo_bundle, skills=["Python", "SQL", PREMIUM_SKILL]) > p50(demo_bundle)


def test_location_effect_has_planted_direction(demo_bundle: SalaryModel) -> None:
    assert p50(demo_bundle, location="San Francisco, CA") > p50(demo_bundle, location="Bengaluru, India")


@pytest.mark.parametrize("title", ["  data ENGINEER ", "DATA ENGINEER", "data engineer", "\tData Engineer\n"])
def test_title_casing_and_whitespace_do_not_change_estimate(demo_bundle: SalaryModel, title: str) -> None:
    assert demo_bundle.estimate({**BASE, "title": title}).quantiles == demo_bundle.estimate(BASE).quantiles


@pytest.mark.parametrize("record", VARIED)
def test_more_experience_never_lowers_any_quantile(demo_bundle: SalaryModel, record: dict[str, Any]) -> None:
    grid = demo_bundle.predict([{**record, "years_experience": float(y)} for y in YEARS_GRID])
    assert np.all(np.diff(grid[:, 2]) >= 0), "P50 fell as experience grew"
    assert np.all(np.diff(grid, axis=0) >= 0), "a quantile fell as experience grew"


LEVELS = ["entry", "mid", "senior", "executive"]
# The level a demo row's title implies (invented): the demo data states none of its own.
LEVEL_OF_TITLE = {"Junior": "entry", "Senior": "senior", "Staff": "executive", "Principal": "executive"}


@pytest.fixture(scope="module")
def levels_bundle(demo_frame: pd.DataFrame, small_config: TrainConfig) -> SalaryModel:
    """The demo rows with the level their title implies, and half the titles without their seniority."""
    first = demo_frame["title"].str.split().str[0]
    bare = np.random.default_rng(3).random(len(demo_frame)) < 0.5
    frame = demo_frame.assign(
        experience_level=first.map(LEVEL_OF_TITLE).fillna("mid"),
        title=np.where(bare & first.isin(list(LEVEL_OF_TITLE)), demo_frame["title"].str.split(n=1).str[1],
                       demo_frame["title"]),
    )
    return fit_bundle(frame, small_config)


@pytest.mark.parametrize("record", [*VARIED, {"title": "Data Analyst", "location": "Austin, TX"}])
@pytest.mark.parametrize("years", [None, 8.0])
def test_a_higher_experience_level_never_lowers_any_quantile(
    levels_bundle: SalaryModel, record: dict[str, Any], years: float | None
) -> None:
    records = [{**record, "years_experience": years, "experience_level": lv} for lv in LEVELS]
    grid = levels_bundle.predict(records)
    assert np.all(np.diff(grid, axis=0) >= 0), f"a quantile fell as the level rose: {grid.round()}"


def test_a_saved_model_keeps_the_level_rank(levels_bundle: SalaryModel, tmp_path: Path) -> None:
    levels_bundle.save(tmp_path)
    loaded = SalaryModel.load(tmp_path)
    records = [{**BASE, "experience_level": lv} for lv in LEVELS]
    np.testing.assert_array_equal(loaded.predict(records), levels_bundle.predict(records))


def test_quantiles_are_ordered_on_odd_and_ordinary_records(
    demo_bundle: SalaryModel, demo_frame: pd.DataFrame
) -> None:
    odd = [{**r, "years_experience": y} for r in VARIED for y in (0.0, 45.0, None)]
    odd += [{**BASE, "work_year": y} for y in (1990, 2030)]
    preds = np.vstack([demo_bundle.predict(odd), demo_bundle.predict(demo_frame.head(300))])
    assert np.all(np.diff(preds, axis=1) >= 0)


def test_a_year_after_the_data_is_not_stuck_at_the_last_level(demo_bundle: SalaryModel) -> None:
    assert p50(demo_bundle, work_year=2026) > p50(demo_bundle, work_year=2024)


def test_intervals_cover_fresh_demo_draws_near_nominal(demo_bundle: SalaryModel) -> None:
    fresh = generate_demo(n=1500, seed=99)
    preds = demo_bundle.predict(fresh)
    y = fresh[TARGET].to_numpy(dtype=float)
    assert 0.72 <= np.mean((y >= preds[:, 0]) & (y <= preds[:, 4])) <= 0.88
    assert 0.42 <= np.mean((y >= preds[:, 1]) & (y <= preds[:, 3])) <= 0.58
