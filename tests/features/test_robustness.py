"""Odd input never raises: empty, None, huge, HTML, emoji, mixed scripts, control characters."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.experience import parse_years
from features.interpret import interpret
from features.location import parse_location
from features.role import extract_role
from features.seniority import extract_seniority
from features.skills import canonical_skills, find_skills
from features.text import MAX_TEXT_CHARS, clean_text

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ODD = [
    "",
    "   ",
    "\x00\x01\x7f",
    "<script>alert(1)</script><b>Senior</b> Data Scientist",
    "🚀 Senior 数据 Scientist — Zürich ✨",
    "Инженер-программист",
    "&amp;&lt;&gt;&#0;&#xffff;",
    "C++" * 1000,
    "R" * 500,
]


def test_odd_strings_everywhere_never_raise() -> None:
    for text in ODD:
        interpretation = interpret(
            {
                "title": text,
                "description": text,
                "skills": [text, None, 3],
                "location": text,
                "country": text,
                "region": text,
                "city": text,
                "years_experience": text,
                "experience_level": text,
                "work_year": text,
            }
        )
        assert interpretation.role


def test_none_everywhere_gives_empty_interpretation() -> None:
    keys = ["title", "description", "skills", "location", "country", "region", "city"]
    interpretation = interpret(dict.fromkeys(keys))
    assert interpretation.role == "unknown"
    assert interpretation.skills == []
    assert interpretation.country is None


def test_oversized_description_is_truncated_with_a_warning() -> None:
    big = ("Python and SQL. " * 7000)[:100_000]
    interpretation = interpret({"title": "Data Engineer", "description": big})
    assert any(str(MAX_TEXT_CHARS) in w for w in interpretation.warnings)
    assert {"Python", "SQL"} <= set(interpretation.skills)
    text, truncated = clean_text(big)
    assert truncated and len(text) <= MAX_TEXT_CHARS


@FAST
@given(st.text(max_size=400))
def test_extractors_accept_any_text(text: str) -> None:
    extract_role(text)
    extract_seniority(text, None)
    find_skills(text)
    canonical_skills([text])
    parse_location(text)
    parse_location(None, text, text, text)
    parse_years(text)


@FAST
@given(
    st.lists(
        st.sampled_from(
            ["Python", "R", "Go", "C", "C++", "Excel", "go", "to", "&", ",", " ", "\n"]
        ),
        max_size=40,
    )
)
def test_found_skills_are_unique_and_canonical(parts: list[str]) -> None:
    found = find_skills(" ".join(parts))
    assert len(found) == len(set(found))
    assert canonical_skills(found) == found
