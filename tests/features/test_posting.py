"""A posting's text stands in for a missing title and location, and never over stated ones."""

from __future__ import annotations

import pytest

from features.interpret import interpret
from features.posting import posting_location, posting_title
from features.role import UNKNOWN_ROLE

POSTING = "Senior Data Engineer\nLocation: Austin, TX\nYou have 7+ years of Python and Spark."


def test_first_line_title_and_labelled_location_are_read() -> None:
    read = interpret({"description": POSTING})
    assert (read.role, read.seniority, read.seniority_source) == ("data_engineer", "senior", "title")
    assert (read.country, read.region, read.city) == ("US", "TX", "Austin")
    assert "title read from the posting text: 'Senior Data Engineer'" in read.warnings
    assert "location read from the posting text: 'Austin, TX'" in read.warnings
    assert not any("no title given" in w for w in read.warnings)


def test_stated_title_and_location_win_over_the_text() -> None:
    read = interpret({"title": "Registered Nurse", "location": "Boston, MA", "description": POSTING})
    assert (read.role, read.country, read.region) == ("registered_nurse", "US", "MA")
    assert not any("posting text" in w for w in read.warnings)
    assert interpret({"country": "DE", "description": POSTING}).country == "DE"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Job Title: Lead Data Scientist\nTeam: Forecasting", "Lead Data Scientist"),
        ("Job Title\n\nPayroll Specialist\n\nCategory: Finance", "Payroll Specialist"),
        ("Description\nStaff Software Engineer - Payments\nWe move money.", "Staff Software Engineer"),
        ("We are hiring a senior ML engineer in Seattle, WA. 5+ years Python.", "senior ML engineer"),
        ("Acme is looking for an experienced Registered Nurse to join us.", "Registered Nurse"),
        ("As a Product Designer, you will shape our checkout.", "Product Designer"),
    ],
)
def test_title_forms_in_a_posting(text: str, title: str) -> None:
    assert posting_title(text) == title


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("Data Analyst\nLocation: Leeds, United Kingdom\n", "Leeds, United Kingdom"),
        ("Job Location\n\nAlexandria, VA\n\nTracking Code", "Alexandria, VA"),
        ("We are hiring a senior ML engineer in Seattle, WA. 5+ years Python.", "Seattle, WA"),
        ("Work from our new Hartford, CT office.", "Hartford, CT"),
        ("Hiring a DevOps engineer in London, Kubernetes and Go.", "London"),
    ],
)
def test_place_forms_in_a_posting(text: str, place: str) -> None:
    assert posting_location(text) == place


@pytest.mark.parametrize(
    "text",
    [
        "Orchard Analytics, a fast-growing company that helps farmers plan their harvest, is growing.",
        "Who are we? A small studio making puzzle games.",
        "Experience in AI, ML and PR; fluent in Excel, MS Access and Power BI.",
        "\x00\x01 <<<>>> ::: Job Title: \n Location: \n in , XX" * 50,
        "ñ" * 5000,
        "",
    ],
)
def test_junk_text_reads_as_nothing_without_raising(text: str) -> None:
    read = interpret({"description": text})
    assert (read.role, read.country) == (UNKNOWN_ROLE, None)
    assert posting_title(text) is None and posting_location(text) is None
