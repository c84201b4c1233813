"""How one JobRecord is read: the one place that runs every extractor, in training and serving."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from features.experience import parse_experience_level, parse_years
from features.location import parse_location
from features.posting import posting_location, posting_title
from features.role import UNKNOWN_ROLE, RoleMatch, extract_role, role_info
from features.schema import (
    COMPANY_SIZES,
    EDUCATION_LEVELS,
    EMPLOYMENT_TYPES,
    EXPERIENCE_LEVELS,
    JobRecord,
    company_size_of,
    normalize_company_size,
    normalize_education,
    normalize_employment_type,
    normalize_experience_level,
)
from features.seniority import seniority_with_source
from features.skills import canonical_skills, find_skills
from features.text import MAX_TEXT_CHARS, clean_text
from features.titles import normalize_title

_PRIVATE = frozenset({"title_tokens", "warnings"})


@dataclass
class Interpretation:
    """What the pipeline understood from a record; the API shows it as `interpreted`."""

    role: str = UNKNOWN_ROLE
    role_soc: str | None = None
    seniority: str | None = None
    skills: list[str] = field(default_factory=list)
    country: str | None = None
    region: str | None = None
    city: str | None = None
    remote: bool = False
    years_experience: float | None = None
    experience_level: str | None = None
    employment_type: str | None = None
    remote_ratio: float | None = None
    company_size: str | None = None
    work_year: int | None = None
    title_tokens: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    metro: str | None = None
    role_score: float = 0.0
    role_group: str | None = None
    seniority_source: str | None = None
    industry: str | None = None  # lower-cased free text; the pipeline keeps frequent values only
    education: str | None = None
    company_employees: float | None = None

    def public(self) -> dict[str, Any]:
        """The fields a client sees (no internal tokens); shallow: asdict's deep copy showed in profiles."""
        out = {k: v for k, v in self.__dict__.items() if k not in _PRIVATE}
        out["skills"] = list(self.skills)
        return out


@dataclass(frozen=True)
class _TitleReading:
    role: RoleMatch
    group: str | None
    seniority: str | None
    seniority_source: str | None
    words: tuple[str, ...]


@lru_cache(maxsize=65536)
def _read_title(title: str | None, level: str | None) -> _TitleReading:
    """Everything a title says, cached: a dataset repeats a few thousand titles many times."""
    role = extract_role(title)
    info = role_info(role.family)
    seniority, source = seniority_with_source(title, level)
    words = tuple(dict.fromkeys(normalize_title(title).split()))
    return _TitleReading(role, info.group if info else None, seniority, source, words)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _category_text(value: Any) -> str | None:
    text = _text(value)
    return " ".join(text.lower().split())[:80] if text else None


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _coded(value: Any, normalize: Any, known: tuple[str, ...], name: str, warnings: list[str]) -> str | None:
    text = _text(value)
    if text is None:
        return None
    code = str(normalize(text))
    if code not in known:
        warnings.append(f"{name} {text!r} not recognised; expected one of {', '.join(known)}")
        return None
    return code


def _given_skills(raw: Any) -> list[str]:
    # Parquet list columns reach pandas as NumPy arrays: read them as lists, not as no skills at all.
    if isinstance(raw, list | tuple | np.ndarray):
        return canonical_skills(s for s in raw if isinstance(s, str))
    return []


def interpret(record: JobRecord | Mapping[str, Any]) -> Interpretation:
    """Run every extractor on one record; never raises on odd text, reports what it missed."""
    row: Mapping[str, Any] = record.model_dump() if isinstance(record, JobRecord) else record
    warnings: list[str] = []
    title = _text(row.get("title"))
    description, truncated = clean_text(_text(row.get("description")))
    if truncated:
        warnings.append(f"description longer than {MAX_TEXT_CHARS} characters; the rest was ignored")
    level = _coded(
        row.get("experience_level"),
        normalize_experience_level,
        EXPERIENCE_LEVELS,
        "experience_level",
        warnings,
    )
    if level is None and description:
        level = parse_experience_level(description)
    read_title = posting_title(description) if not title and description else None
    reading = _read_title((title or read_title or "")[:300] or None, level)
    if reading.role.family == UNKNOWN_ROLE and title:
        warnings.append(f"role not recognised from title {title!r}; estimate uses its words only")
    elif read_title:
        warnings.append(f"title read from the posting text: {read_title!r}")
    elif not title:
        warnings.append("no title given; the estimate is broad")
    skills = _given_skills(row.get("skills"))
    if description:
        skills = canonical_skills([*skills, *find_skills(description)])
    location = _text(row.get("location"))
    country = _text(row.get("country"))
    region, city = _text(row.get("region")), _text(row.get("city"))
    loc = parse_location(location, country, region, city)
    if loc.country is None and (country or (location and not loc.remote)):
        warnings.append("location could not be read; estimate is not location-specific")
    elif description and not (location or country or region or city):
        read_place = posting_location(description)
        if read_place:
            loc = parse_location(read_place)
            warnings.append(f"location read from the posting text: {read_place!r}")
    years = _number(row.get("years_experience"))
    if years is None and description:
        years = parse_years(description)
    year = _number(row.get("work_year"))
    remote_ratio = _number(row.get("remote_ratio"))
    size = _coded(row.get("company_size"), normalize_company_size, COMPANY_SIZES, "company_size", warnings)
    employees = _number(row.get("company_employees"))
    if employees is not None and employees < 1:
        warnings.append(f"company_employees {employees:g} is not a headcount; ignored")
        employees = None
    if size is None and employees is not None:
        size = company_size_of(employees)
    return Interpretation(
        role=reading.role.family,
        role_soc=reading.role.soc,
        seniority=reading.seniority,
        skills=skills,
        country=loc.country,
        region=loc.region,
        city=loc.city,
        remote=loc.remote or (remote_ratio or 0) >= 100,
        years_experience=years,
        experience_level=level,
        employment_type=_coded(
            row.get("employment_type"),
            normalize_employment_type,
            EMPLOYMENT_TYPES,
            "employment_type",
            warnings,
        ),
        remote_ratio=remote_ratio,
        company_size=size,
        company_employees=employees,
        work_year=int(year) if year is not None and 1900 <= year <= 2200 else None,
        title_tokens=list(reading.words),
        warnings=warnings,
        metro=loc.metro,
        role_score=reading.role.score,
        role_group=reading.group,
        seniority_source=reading.seniority_source,
        industry=_category_text(row.get("industry")),
        education=_coded(row.get("education"), normalize_education, EDUCATION_LEVELS, "education", warnings),
    )
