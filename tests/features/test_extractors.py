"""Behaviour of each extractor on the cases the taxonomies exist for."""

from __future__ import annotations

import pytest

from features.experience import parse_experience_level, parse_years
from features.location import parse_location, resolve_country
from features.role import UNKNOWN_ROLE, extract_role, role_families, role_info
from features.seniority import SENIORITY_LEVELS, extract_seniority, seniority_with_source
from features.skills import canonical_skills, find_skills, skill_names
from features.taxonomy import read_rows


@pytest.mark.parametrize(
    ("title", "family"),
    [
        ("Sr. Software Eng II", "software_engineer"),
        ("ML Engineer - Ads", "machine_learning_engineer"),
        ("Head of Data Science", "data_scientist"),
        ("Staff SWE", "software_engineer"),
        ("Data Scientist (NLP)", "data_scientist"),
        ("Senior Machine Learning Researcher", "research_scientist"),
        ("Sofware Engneer", "software_engineer"),
        ("SENIOR DATA SCIENTIST", "data_scientist"),
    ],
)
def test_titles_resolve_to_families(title: str, family: str) -> None:
    assert extract_role(title).family == family


@pytest.mark.parametrize(
    ("title", "family"),
    [
        ("Senior DE", "data_engineer"),  # "DE" in capitals is the abbreviation
        ("Ingeniero de Software", "software_engineer"),  # "de" is Spanish
        ("INGENIERO DE SOFTWARE", "software_engineer"),  # all capitals: "DE" is a word there
        ("Frontend-Entwicklerin", "web_developer"),  # German compound, feminine ending
        ("Softwareentwickler (m/w/d)", "software_engineer"),
        ("Director, Engineering", "engineering_manager"),  # a rank without "of"
        ("Assistant Director", "operations_manager"),  # not an assistant
        ("Director, Software Engineering", "engineering_manager"),
    ],
)
def test_abbreviations_translations_and_ranks_read_as_written(title: str, family: str) -> None:
    assert extract_role(title).family == family


def test_unmatched_title_is_explicitly_unknown() -> None:
    match = extract_role("Xyzzy Frobnicator")
    assert (match.family, match.soc, match.score) == (UNKNOWN_ROLE, None, 0.0)
    assert extract_role(None).family == UNKNOWN_ROLE


def test_typo_match_scores_below_exact_match() -> None:
    assert extract_role("Software Engineer").score == 1.0
    assert 0 < extract_role("Sofware Engineer").score < 1.0


def test_role_taxonomy_is_broad_and_carries_soc_codes() -> None:
    families = role_families()
    assert len(families) >= 60
    for family in families:
        info = role_info(family)
        assert info is not None and len(info.soc) == 7 and info.soc[2] == "-"
    groups = {role_info(f).group for f in families}  # type: ignore[union-attr]
    assert {"software", "data", "ml_ai", "teaching", "health", "finance", "legal"} <= groups


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("Sr. Software Eng II", "senior"),
        ("Software Engineer II", "mid"),
        ("Software Engineer III", "senior"),
        ("Engineer 3", "senior"),
        ("Jr. Developer", "junior"),
        ("Staff SWE", "staff"),
        ("Head of Data Science", "director"),
        ("VP, Engineering", "vp"),
        ("Chief Technology Officer", "c_level"),
        ("Senior Manager", "manager"),
        ("Data Science Intern", "intern"),
        ("Principal Engineer", "principal"),
        ("Tech Lead", "lead"),
    ],
)
def test_seniority_from_title(title: str, level: str) -> None:
    assert extract_seniority(title) == level


def test_seniority_falls_back_to_experience_level() -> None:
    assert seniority_with_source("Data Scientist", "senior") == ("senior", "experience_level")
    assert seniority_with_source("Senior Data Scientist", "entry") == ("senior", "title")
    assert extract_seniority("Product Manager") is None
    taxonomy_levels = {r["level"] for r in read_rows("seniority.csv")}
    assert taxonomy_levels <= {*SENIORITY_LEVELS, "none"}


def test_skill_aliases_resolve() -> None:
    assert canonical_skills(["k8s", "sklearn", "Postgres", "GCP", "python", "k8s"]) == [
        "Kubernetes",
        "scikit-learn",
        "PostgreSQL",
        "Google Cloud",
        "Python",
    ]
    assert canonical_skills(["Basket weaving"]) == ["Basket weaving"]
    assert len(skill_names()) >= 400


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We use R, Python and SQL.", ["R", "Python", "SQL"]),
        ("Our R&D team is hiring.", []),
        ("Experience in Go and Rust.", ["Go", "Rust"]),
        ("Go to our website and go to market.", []),
        ("C, C++ and C# on .NET with Node.js", ["C", "C++", "C#", ".NET", "Node.js"]),
        ("You excel at Excel.", ["Excel"]),
        ("Excel in a fast-paced team.", []),
        ("Reports to the C-level team.", []),
        ("vitamin C and section R of the form", []),
        ("scikit-learn, PyTorch; deployed on k8s", ["scikit-learn", "PyTorch", "Kubernetes"]),
        ("Python/R/SQL", ["Python", "R", "SQL"]),
    ],
)
def test_find_skills_hard_cases(text: str, expected: list[str]) -> None:
    assert find_skills(text) == expected


@pytest.mark.parametrize(
    ("location", "country", "region", "metro", "remote"),
    [
        ("San Francisco, CA", "US", "CA", "SF Bay Area", False),
        ("SF Bay Area", "US", "CA", "SF Bay Area", False),
        ("NYC", "US", "NY", "New York", False),
        ("Remote - US", "US", None, None, True),
        ("London, UK", "GB", "ENG", "London", False),
        ("Bengaluru, India", "IN", "KA", "Bengaluru", False),
        ("Washington, DC", "US", "DC", "Washington DC", False),
        ("Berlin, Germany", "DE", "BE", "Berlin", False),
        ("Austin, TX", "US", "TX", "Austin", False),
    ],
)
def test_locations(
    location: str, country: str, region: str | None, metro: str | None, remote: bool
) -> None:
    found = parse_location(location)
    assert (found.country, found.region, found.metro, found.remote) == (
        country,
        region,
        metro,
        remote,
    )


@pytest.mark.parametrize(
    "text", ["US", "USA", "U.S.", "United States of America", "united states", "Unites States"]
)
def test_us_spellings_resolve(text: str) -> None:
    assert resolve_country(text) == "US"


def test_structured_fields_win_over_free_text() -> None:
    found = parse_location("London, UK", country="Canada")
    assert found.country == "CA"
    assert parse_location(None, "United States", "Massachusetts", "Boston").region == "MA"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (("Portland, ME",), ("US", "ME", "Portland", None)),
        (("Portland, OR",), ("US", "OR", "Portland", "Portland")),
        (("London, Ontario",), ("CA", "ON", "London", None)),
        (("London, ON",), ("CA", "ON", "London", None)),
        (("London, UK",), ("GB", "ENG", "London", "London")),
        (("Cambridge, MA",), ("US", "MA", "Cambridge", "Boston")),
        (("Cambridge, UK",), ("GB", "ENG", "Cambridge", None)),
        (("Vancouver, WA",), ("US", "WA", "Vancouver", "Portland")),
        (("Vancouver, BC",), ("CA", "BC", "Vancouver", "Vancouver")),
        (("Paris, TX",), ("US", "TX", "Paris", None)),
        (("Birmingham, AL",), ("US", "AL", "Birmingham", None)),
        (("Dublin, OH",), ("US", "OH", "Dublin", None)),
        (("Springfield, IL",), ("US", "IL", "Springfield", None)),
        (("Perth, WA",), ("AU", "WA", "Perth", "Perth")),
        (("Washington, PA",), ("US", "PA", "Washington", None)),
        (("Brooklyn Park, MINNESOTA",), ("US", "MN", "Brooklyn Park", None)),
        ((None, None, "ME", "Portland"), ("US", "ME", "Portland", None)),
        ((None, None, "Ontario", "London"), ("CA", "ON", "London", None)),
        ((None, "Canada", None, "London"), ("CA", "ON", "London", None)),
        (("Portland", None, "ME"), ("US", "ME", "Portland", None)),
    ],
)
def test_the_state_or_province_the_client_named_decides_the_city(
    fields: tuple[str | None, ...], expected: tuple[str | None, ...]
) -> None:
    found = parse_location(*fields)
    assert (found.country, found.region, found.city, found.metro) == expected


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("5+ years", 5.0),
        ("3-5 yrs", 4.0),
        ("minimum of seven years of experience", 7.0),
        ("5-7 years", 6.0),
        ("21 - 30 years", 25.5),
        ("1 year or less", 0.5),
        ("41 years or more", 41.0),
        ("Founded 20 years ago; you bring 4+ years of experience.", 4.0),
        ("no numbers here", None),
    ],
)
def test_parse_years(text: str, years: float | None) -> None:
    assert parse_years(text) == years


def test_experience_level_from_words() -> None:
    assert parse_experience_level("An entry-level role for new grads") == "entry"
    assert parse_experience_level("We want a seasoned leader") == "senior"
    assert parse_experience_level("Nothing said") is None


def test_taxonomy_phrases_and_aliases_are_unique() -> None:
    phrases = [k for r in read_rows("roles.csv") for k in r["keywords"].split("|")]
    assert len(phrases) == len(set(phrases))
    aliases = [
        a.lstrip("=~!").lower() for r in read_rows("skills.csv") for a in r["aliases"].split("|")
    ]
    assert len(aliases) == len(set(aliases))
    for row in read_rows("locations.csv"):
        assert len(row["country"]) == 2, row
