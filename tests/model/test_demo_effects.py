"""Model behaviour on the demo data: it recovers the planted effects and respects basic invariants."""

from __future__ import annotations

from typing import Any

from models.bundle import SalaryModel
from training.sources.demo import PREMIUM_SKILL

BASE: dict[str, Any] = {
    "title": "Data Engineer",
    "skills": ["Python", "SQL"],
    "location": "Chicago, IL",
    "years_experience": 6.0,
    "company_size": "M",
    "work_year": 2023,
}


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
    assert p50(demo_bundle, location="San Francisco, CA") > p50(
        demo_bundle, location="Bengaluru, India"
    )


def test_title_casing_and_whitespace_do_not_change_estimate(demo_bundle: SalaryModel) -> None:
    assert p50(demo_bundle, title="  data ENGINEER ") == p50(demo_bundle)
