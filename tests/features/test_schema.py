"""JobRecord accepts what clients send, normalises codes, and rejects impossible numbers."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from features.interpret import interpret
from features.schema import JobRecord, record_from_mapping


def test_aijobs_codes_and_casing_are_normalised() -> None:
    record = JobRecord(experience_level="SE", employment_type="ft", company_size="l")
    assert (record.experience_level, record.employment_type, record.company_size) == (
        "senior",
        "full_time",
        "L",
    )
    assert JobRecord(experience_level="Executive").experience_level == "executive"


@pytest.mark.parametrize(
    ("wording", "level"),
    [
        ("College degree", "bachelor"),
        ("Bachelor's degree", "bachelor"),
        ("BSc", "bachelor"),
        ("B.S. in Physics", "bachelor"),
        ("Master's degree", "master"),
        ("M.S.", "master"),
        ("MBA", "master"),
        ("PhD", "doctorate"),
        ("Ph.D.", "doctorate"),
        ("Professional degree (JD, MD, Ph.D)", "professional"),
        ("Some college/university study without earning a degree", "some_college"),
        ("Associate degree", "associate"),
        ("High School", "secondary"),
        ("Secondary school", "secondary"),
        ("Primary/elementary school", "primary"),
        ("Something else", "other"),
        ("doctorate", "doctorate"),
    ],
)
def test_education_wordings_of_surveys_and_clients_share_one_level(wording: str, level: str) -> None:
    assert JobRecord(education=wording).education == level
    assert interpret({"education": wording}).education == level


def test_an_education_no_rule_reads_is_warned_about_and_left_out() -> None:
    reading = interpret(JobRecord(title="Data Analyst", education="Diploma in basket weaving"))
    assert reading.education is None
    assert [w for w in reading.warnings if w.startswith("education")] == [
        "education 'diploma in basket weaving' not recognised; expected one of primary, secondary, "
        "some_college, associate, bachelor, master, professional, doctorate, other"
    ]


def test_unknown_codes_are_kept_and_warned_about_once_each() -> None:
    record = JobRecord(experience_level="guru", company_size="XL")
    assert record.experience_level == "guru"
    warnings = interpret(record).warnings
    assert [w for w in warnings if w.startswith("experience_level")] == [
        "experience_level 'guru' not recognised; expected one of entry, mid, senior, executive"
    ]
    assert [w for w in warnings if w.startswith("company_size")] == [
        "company_size 'XL' not recognised; expected one of S, M, L"
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("years_experience", -1),
        ("years_experience", math.nan),
        ("remote_ratio", 150),
        ("remote_ratio", math.inf),
        ("work_year", 1800),
        ("company_employees", 0),
        ("company_employees", 12.5),
        ("company_employees", 10**9),
    ],
)
def test_out_of_range_numbers_are_rejected_naming_the_field(field: str, value: float) -> None:
    with pytest.raises(ValidationError) as info:
        JobRecord(**{field: value})
    assert info.value.errors()[0]["loc"] == (field,)


def test_empty_strings_are_missing_and_nan_rows_load() -> None:
    record = record_from_mapping(
        {"title": "  ", "years_experience": float("nan"), "skills": ["", "SQL"]}
    )
    assert record.title is None
    assert record.years_experience is None
    assert record.skills == ["SQL"]


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        JobRecord.model_validate({"salary": 5})
