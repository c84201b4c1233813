"""How one JobRecord is read: the single place that runs every extractor, for training and serving alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from features.experience import parse_years
from features.location import parse_location
from features.role import UNKNOWN_ROLE, extract_role
from features.schema import (
    COMPANY_SIZES,
    EMPLOYMENT_TYPES,
    EXPERIENCE_LEVELS,
    JobRecord,
    normalize_company_size,
    normalize_employment_type,
    normalize_experience_level,
)
from features.seniority import extract_seniority
from features.skills import canonical_skills, find_skills
from features.text import MAX_TEXT_CHARS, clean_text, tokens


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

    def public(self) -> dict[str, Any]:
        """The fields a client sees (no internal tokens)."""
        out = asdict(self)
        out.pop("title_tokens")
        out.pop("warnings")
        return out


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _coded(
    value: Any, normalize: Any, known: tuple[str, ...], name: str, warnings: list[str]
) -> str | None:
    text = _text(value)
    if text is None:
        return None
    code = str(normalize(text))
    if code not in known:
        warnings.append(f"{name} {text!r} not recognised; expected one of {', '.join(known)}")
        return None
    return code


def interpret(record: JobRecord | Mapping[str, Any]) -> Interpretation:
    """Run every extractor on one record; never raises on odd text, reports what it could not read."""
    row: Mapping[str, Any] = record.model_dump() if isinstance(record, JobRecord) else record
    warnings: list[str] = []
    title = _text(row.get("title"))
    description, truncated = clean_text(_text(row.get("description")))
    if truncated:
        warnings.append(
            f"description longer than {MAX_TEXT_CHARS} characters; the rest was ignored"
        )
    level = _coded(
        row.get("experience_level"),
        normalize_experience_level,
        EXPERIENCE_LEVELS,
        "experience_level",
        warnings,
    )
    role = extract_role(title)
    if role.family == UNKNOWN_ROLE and title:
        warnings.append(f"role not recognised from title {title!r}; estimate uses its words only")
    elif not title:
        warnings.append("no title given; the estimate is broad")
    raw_skills = row.get("skills")
    skills = (
        canonical_skills(s for s in raw_skills if isinstance(s, str))
        if isinstance(raw_skills, list)
        else []
    )
    if description:
        skills = canonical_skills([*skills, *find_skills(description)])
    loc = parse_location(
        _text(row.get("location")),
        _text(row.get("country")),
        _text(row.get("region")),
        _text(row.get("city")),
    )
    if loc.country is None and (row.get("location") or row.get("country")):
        warnings.append("location could not be read; estimate is not location-specific")
    years = _number(row.get("years_experience"))
    if years is None and description:
        years = parse_years(description)
    year = _number(row.get("work_year"))
    return Interpretation(
        role=role.family,
        role_soc=role.soc,
        seniority=extract_seniority(title, level),
        skills=skills,
        country=loc.country,
        region=loc.region,
        city=loc.city,
        remote=loc.remote or (_number(row.get("remote_ratio")) or 0) >= 100,
        years_experience=years,
        experience_level=level,
        employment_type=_coded(
            row.get("employment_type"),
            normalize_employment_type,
            EMPLOYMENT_TYPES,
            "employment_type",
            warnings,
        ),
        remote_ratio=_number(row.get("remote_ratio")),
        company_size=_coded(
            row.get("company_size"), normalize_company_size, COMPANY_SIZES, "company_size", warnings
        ),
        work_year=int(year) if year is not None else None,
        title_tokens=tokens(title),
        warnings=warnings,
    )
