"""Partial records are first-class: a field left out is unknown, and the range says how much is unknown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from models.bundle import SalaryModel
from training.sources.base import TARGET
from training.train import TrainConfig, fit_bundle

FULL: dict[str, Any] = {
    "title": "Senior Data Engineer",
    "skills": ["Python", "SQL", "Docker", "AWS", "Git"],
    "location": "Chicago, IL",
    "years_experience": 7.0,
    "company_size": "M",
    "work_year": 2024,
}
# Each optional field with the values the demo data commonly holds for it.
COMMON_VALUES: dict[str, list[Any]] = {
    "location": ["San Francisco, CA", "New York, NY", "Austin, TX", "London, UK", "Bengaluru, India"],
    "years_experience": [2.0, 5.0, 8.0, 12.0, 16.0],
    "company_size": ["S", "M", "L"],
    "skills": [["Python", "SQL"], ["Rust", "Go"], ["Excel", "Tableau"], ["Java", "AWS", "Docker"]],
    "title": ["Junior Data Engineer", "Data Engineer", "Senior Data Engineer", "Staff Data Engineer"],
}
UNREMARKABLE = [
    "Git",
    "Excel",
    "SQL",
    "JavaScript",
    "Java",
    "Docker",
    "AWS",
    "Tableau",
    "Go",
    "Python",
    "Bash",
    "Linux",
    "Jira",
    "HTML/CSS",
    "TypeScript",
    "Node.js",
    "PostgreSQL",
    "MySQL",
    "Redis",
    "Terraform",
    "Kotlin",
    "Ruby",
    "PHP",
    "C#",
    "Swift",
]


def p50(bundle: SalaryModel, record: dict[str, Any]) -> float:
    return bundle.estimate(record, explain=False).quantiles["p50"]


def spread(bundle: SalaryModel, record: dict[str, Any]) -> float:
    q = bundle.estimate(record, explain=False).quantiles
    return q["p90"] / q["p10"]


@pytest.mark.parametrize("field", list(COMMON_VALUES))
def test_leaving_a_field_out_lands_between_its_common_values(demo_bundle: SalaryModel, field: str) -> None:
    stated = [p50(demo_bundle, {**FULL, field: value}) for value in COMMON_VALUES[field]]
    unknown = p50(demo_bundle, {k: v for k, v in FULL.items() if k != field})
    assert min(stated) < unknown < max(stated), (field, stated, unknown)


def test_a_title_alone_gets_a_wider_range_than_the_full_record(demo_bundle: SalaryModel) -> None:
    assert spread(demo_bundle, {"title": FULL["title"]}) > spread(demo_bundle, FULL) * 1.1


def test_nothing_stated_gets_the_widest_range(demo_bundle: SalaryModel) -> None:
    assert spread(demo_bundle, {}) > spread(
        demo_bundle, {"title": FULL["title"], "location": FULL["location"]}
    )


def test_an_unseen_role_family_is_named_and_has_low_confidence(demo_bundle: SalaryModel) -> None:
    estimate = demo_bundle.estimate({"title": "Registered Nurse", "location": "Chicago, IL"})
    assert estimate.confidence == "low"
    assert any(
        w.startswith("registered_nurse: no comparable records in the training data")
        for w in estimate.warnings
    )
    assert estimate.evidence is not None and estimate.evidence["matching_all_stated"] == 0
    seen = demo_bundle.estimate({"title": "Data Engineer", "location": "Chicago, IL"})
    assert seen.evidence is not None and seen.evidence["records"] >= 20
    assert not any("no comparable records" in w for w in seen.warnings)


def test_an_unseen_country_is_named(demo_bundle: SalaryModel) -> None:
    estimate = demo_bundle.estimate({"title": "Data Engineer", "country": "BR"})
    assert "country BR: no comparable records in the training data (demo)" in estimate.warnings
    assert estimate.confidence == "low"


def test_five_skills_and_twenty_more_unremarkable_ones_agree(demo_bundle: SalaryModel) -> None:
    five = {**FULL, "skills": ["Python", "SQL", "Docker", "AWS", "Rust"]}
    many = {**five, "skills": [*five["skills"], *[s for s in UNREMARKABLE if s not in five["skills"]][:20]]}
    assert len(many["skills"]) == 25
    assert p50(demo_bundle, many) == pytest.approx(p50(demo_bundle, five), rel=0.04)


def test_fields_left_out_have_no_driver_and_drivers_multiply_back(demo_bundle: SalaryModel) -> None:
    estimate = demo_bundle.estimate({"title": "Data Engineer", "location": "Chicago, IL"})
    factors = [d["factor"] for d in estimate.drivers]
    assert factors and not any(
        "not stated" in f or f.startswith(("experience", "company size", "work year", "skill"))
        for f in factors
    ), factors
    product = estimate.baseline * np.prod([1 + d["effect_pct"] / 100 for d in estimate.drivers])
    assert product == pytest.approx(estimate.quantiles["p50"], rel=1e-6)


def test_confidence_is_high_for_a_well_covered_specific_record(demo_bundle: SalaryModel) -> None:
    estimate = demo_bundle.estimate({**FULL, "title": "Data Engineer"})
    assert estimate.confidence in ("high", "medium")
    assert estimate.evidence is not None and estimate.evidence["records"] >= 20


@pytest.fixture(scope="module")
def two_details_bundle(demo_frame: pd.DataFrame, small_config: TrainConfig) -> SalaryModel:
    """The demo rows with a second detail: a quarter are contracts, paid 25% less (invented)."""
    contract = np.random.default_rng(5).random(len(demo_frame)) < 0.25
    frame = demo_frame.assign(
        employment_type=np.where(contract, "contract", "full_time"),
        **{TARGET: demo_frame[TARGET] * np.where(contract, 0.75, 1.0)},
    )
    return fit_bundle(frame, small_config)


@pytest.mark.parametrize("others", [FULL, {"title": FULL["title"], "company_size": "M"}])
def test_one_detail_left_out_of_several_lands_between_its_values(
    two_details_bundle: SalaryModel, others: dict[str, Any]
) -> None:
    # A center fitted on complete rows never saw a company size without an employment type; it read
    # the missing type as a contract (P50 equal to the contract's, with three rows in four full time).
    full_time = p50(two_details_bundle, {**others, "employment_type": "full_time"})
    contract = p50(two_details_bundle, {**others, "employment_type": "contract"})
    unknown = p50(two_details_bundle, others)
    assert contract < unknown < full_time
    assert unknown > contract + 0.4 * (full_time - contract), (contract, unknown, full_time)


@pytest.fixture(scope="module")
def no_years_bundle(demo_frame: pd.DataFrame, small_config: TrainConfig) -> SalaryModel:
    """The demo rows without years of experience, as a survey that never asks for them."""
    return fit_bundle(demo_frame.drop(columns=["years_experience"]), small_config)


def _unused(field: str) -> str:
    return f"{field}: not used; the training data (demo) never states it"


@pytest.mark.parametrize(
    ("bundle_name", "field", "value"),
    [
        ("no_years_bundle", "years_experience", 12.0),
        ("demo_bundle", "industry", "Finance"),
        ("demo_bundle", "experience_level", "senior"),
    ],
)
def test_a_field_the_training_rows_never_state_plays_no_part_and_is_named(
    request: pytest.FixtureRequest, bundle_name: str, field: str, value: Any
) -> None:
    bundle: SalaryModel = request.getfixturevalue(bundle_name)
    # A title without a seniority word: years would be the only experience the record states (before,
    # they moved the title-only P50 and narrowed both ranges of a model that never saw years).
    for record in ({"title": "Data Engineer", "location": FULL["location"]}, {"title": "Data Engineer"}):
        without = bundle.estimate(record)
        sent = bundle.estimate({**record, field: value})
        assert sent.quantiles == without.quantiles, (record, field)
        assert sent.confidence == without.confidence
        assert sent.drivers == without.drivers
        assert sent.warnings == [*without.warnings, _unused(field)]


def test_batch_scoring_ignores_and_names_a_field_the_training_rows_never_state(
    no_years_bundle: SalaryModel,
) -> None:
    from training.score import score_frame

    frame = pd.DataFrame({"title": ["Data Engineer"] * 3, "location": [FULL["location"], None, "Austin, TX"]})
    plain = score_frame(no_years_bundle, frame)
    sent = score_frame(no_years_bundle, frame.assign(years_experience=[3.0, None, 20.0]))
    pd.testing.assert_frame_equal(sent.drop(columns="warnings"), plain.drop(columns="warnings"))
    stated = sent["warnings"].str.contains(_unused("years_experience"), regex=False).tolist()
    assert stated == [True, False, True]


def test_batch_scoring_gives_a_level_the_training_rows_never_state_no_part(demo_bundle: SalaryModel) -> None:
    from training.score import score_frame

    # The seniority a level implies (senior, executive: director) is no part of the evidence either.
    frame = pd.DataFrame({"title": ["Data Engineer"] * 3, "location": [FULL["location"], None, "Austin, TX"]})
    plain = score_frame(demo_bundle, frame)
    sent = score_frame(demo_bundle, frame.assign(experience_level=["senior", None, "executive"]))
    pd.testing.assert_frame_equal(sent.drop(columns="warnings"), plain.drop(columns="warnings"))
    stated = sent["warnings"].str.contains(_unused("experience_level"), regex=False).tolist()
    assert stated == [True, False, True]


def test_a_value_the_training_rows_lack_plays_no_part_and_the_values_known_are_named(
    two_details_bundle: SalaryModel,
) -> None:
    record = {"title": "Data Engineer", "location": FULL["location"]}
    without = two_details_bundle.estimate(record)
    sent = two_details_bundle.estimate({**record, "employment_type": "freelance"})
    assert sent.quantiles == without.quantiles
    assert sent.warnings == [
        *without.warnings,
        f"employment_type 'freelance': not used; the training data (demo) has fewer than "
        f"{two_details_bundle.features.min_count} records with it (it knows contract, full_time)",
    ]


def test_a_seniority_no_training_row_holds_is_unknown_not_a_rank(demo_bundle: SalaryModel) -> None:
    # The demo titles say junior, senior, staff or principal, never lead: "lead" is not a rank the
    # model has seen between or beyond those, so the answer is the one for no seniority at all.
    plain = demo_bundle.estimate({"title": "Data Engineer", "location": FULL["location"]})
    lead = demo_bundle.estimate({"title": "Lead Data Engineer", "location": FULL["location"]})
    assert lead.quantiles == plain.quantiles
    assert "lead: no comparable records in the training data (demo)" in lead.warnings
    staff = demo_bundle.estimate({"title": "Staff Data Engineer", "location": FULL["location"]})
    assert staff.quantiles["p50"] > plain.quantiles["p50"] * 1.1  # a rank it has seen still counts


def _gibberish(rng: np.random.Generator) -> str:
    """A two-word job title no role or title word reads (each word is new)."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    return " ".join(
        "".join(rng.choice(list(consonants if i % 2 == 0 else vowels)) for i in range(7)).capitalize()
        for _ in range(2)
    )


@pytest.fixture(scope="module")
def unread_titles_bundle(demo_frame: pd.DataFrame, small_config: TrainConfig) -> SalaryModel:
    """The demo rows where a fifth have titles nobody can read, paid 40% of the row's salary (invented)."""
    rng = np.random.default_rng(8)
    odd = rng.random(len(demo_frame)) < 0.2
    titles = [_gibberish(rng) if o else t for o, t in zip(odd, demo_frame["title"], strict=True)]
    frame = demo_frame.assign(title=titles, **{TARGET: demo_frame[TARGET] * np.where(odd, 0.4, 1.0)})
    return fit_bundle(frame, small_config)


def test_a_title_sent_but_unread_is_answered_as_such_not_as_no_title(
    unread_titles_bundle: SalaryModel,
) -> None:
    # Read as "no title", such a call got the whole population's level for its place, 2.5 times what
    # the training rows with unreadable titles earn.
    place = {"location": "Chicago, IL"}
    no_title = p50(unread_titles_bundle, place)
    unread = p50(unread_titles_bundle, {**place, "title": _gibberish(np.random.default_rng(99))})
    known = p50(unread_titles_bundle, {**place, "title": "Data Engineer"})
    assert unread < 0.75 * no_title, (unread, no_title)
    assert unread < 0.75 * known, (unread, known)


def test_a_saved_model_keeps_the_unread_title_column(
    unread_titles_bundle: SalaryModel, tmp_path: Path
) -> None:
    unread_titles_bundle.save(tmp_path)
    loaded = SalaryModel.load(tmp_path)
    records = [{"title": "Vemblor Tantik", "location": "Chicago, IL"}, {"location": "Chicago, IL"}]
    np.testing.assert_array_equal(loaded.predict(records), unread_titles_bundle.predict(records))
