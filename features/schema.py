"""JobRecord: the one canonical description of a job, shared by adapters, features and the API."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

EXPERIENCE_LEVELS = ("entry", "mid", "senior", "executive")
EMPLOYMENT_TYPES = ("full_time", "part_time", "contract", "freelance")
COMPANY_SIZES = ("S", "M", "L")
EDUCATION_LEVELS = (
    "primary",
    "secondary",
    "some_college",
    "associate",
    "bachelor",
    "master",
    "professional",
    "doctorate",
    "other",
)
# Each survey words education its own way ("College degree", "Bachelor's degree") and clients another
# ("BSc", "PhD"): the first rule whose pattern a text matches names its level, so every model and
# client share one spelling. Order matters: "some college/university study without earning a degree"
# is not a degree, and "professional degree (JD, MD, Ph.D)" is professional.
_EDUCATION_RULES = tuple(
    (re.compile(pattern), level)
    for pattern, level in (
        (r"professional", "professional"),
        (r"ph\.? ?d|doctor|dphil", "doctorate"),
        (r"some college|without (earning|completing)|no degree|incomplete|dropped out", "some_college"),
        (r"master|(?<!\w)(msc?|m\.sc|m\.s\.|ma|m\.a\.|mba|meng|mphil)(?!\w)", "master"),
        (r"associate", "associate"),
        (
            r"bachelor|college degree|university degree|undergrad"
            r"|(?<!\w)(bsc?|b\.sc|b\.s\.|ba|b\.a\.|beng|btech)(?!\w)",
            "bachelor",
        ),
        (r"high school|secondary|\bged\b|a[- ]levels?", "secondary"),
        (r"primary|elementary", "primary"),
        (r"something else|^other", "other"),
    )
)

_EXPERIENCE_CODES = {"en": "entry", "mi": "mid", "se": "senior", "ex": "executive"}
_EMPLOYMENT_CODES = {
    "ft": "full_time",
    "pt": "part_time",
    "ct": "contract",
    "fl": "freelance",
    "full-time": "full_time",
    "part-time": "part_time",
    "full time": "full_time",
    "part time": "part_time",
}

MAX_TITLE_CHARS = 300
MAX_SHORT_TEXT_CHARS = 200
MAX_DESCRIPTION_CHARS = 200_000
MAX_SKILLS = 100

EXAMPLE_RECORD: dict[str, Any] = {
    "title": "Senior Machine Learning Engineer",
    "skills": ["Python", "PyTorch", "Kubernetes"],
    "location": "San Francisco, CA",
    "years_experience": 6.0,
}

ShortText = Annotated[str, Field(max_length=MAX_SHORT_TEXT_CHARS)]


def normalize_experience_level(value: str) -> str:
    """Accept the aijobs codes and any casing so clients need not know our spelling."""
    key = value.strip().lower()
    return _EXPERIENCE_CODES.get(key, key)


def normalize_employment_type(value: str) -> str:
    """Accept FT/PT/CT/FL codes and hyphenated spellings as the canonical names."""
    key = value.strip().lower()
    return _EMPLOYMENT_CODES.get(key, key.replace("-", "_").replace(" ", "_"))


def normalize_education(value: str) -> str:
    """A level of EDUCATION_LEVELS for the common wordings of surveys and clients; else the text itself."""
    key = " ".join(value.strip().lower().split())
    if key in EDUCATION_LEVELS:
        return key
    return next((level for pattern, level in _EDUCATION_RULES if pattern.search(key)), key)


def company_size_of(employees: float) -> str:
    """The S/M/L code a headcount falls in (S <50, M 50-250, L >250, as aijobs defines them)."""
    return "S" if employees < 50 else "M" if employees <= 250 else "L"


def normalize_company_size(value: str) -> str:
    """Company size codes are upper-case letters; casing from clients varies."""
    return value.strip().upper()


class JobRecord(BaseModel):
    """A job as a client, an adapter or a posting describes it; every field is optional."""

    # Strict types: a boolean or a string where a number belongs is a client bug, not a number (only
    # record_from_mapping, for loose rows of a DataFrame, converts). Integers may be written 2024.0.
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        str_strip_whitespace=True,
        json_schema_extra={"examples": [EXAMPLE_RECORD]},
    )

    title: str | None = Field(
        None,
        max_length=MAX_TITLE_CHARS,
        description="Job title as written, e.g. 'Sr. Data Scientist II'.",
    )
    description: str | None = Field(
        None,
        max_length=MAX_DESCRIPTION_CHARS,
        description="Free text of a job posting; skills and experience are read from it, and the title "
        "and location when they are not given. "
        "Text beyond the feature pipeline's limit is ignored with a warning.",
    )
    skills: list[ShortText] | None = Field(
        None,
        max_length=MAX_SKILLS,
        description="Skills as a list, e.g. ['Python', 'k8s']; aliases are resolved.",
    )
    location: str | None = Field(
        None,
        max_length=MAX_SHORT_TEXT_CHARS,
        description="Free-text location, e.g. 'NYC', 'London, UK', 'Remote - US'.",
    )
    country: str | None = Field(
        None,
        max_length=MAX_SHORT_TEXT_CHARS,
        description="Country name or ISO 3166-1 code, e.g. 'US'.",
    )
    region: str | None = Field(
        None,
        max_length=MAX_SHORT_TEXT_CHARS,
        description="State or other subdivision, e.g. 'CA' or 'California'.",
    )
    city: str | None = Field(None, max_length=MAX_SHORT_TEXT_CHARS, description="City, e.g. 'Seattle'.")
    years_experience: float | None = Field(
        None,
        ge=0,
        le=70,
        allow_inf_nan=False,
        description="Years of professional experience (0-70).",
    )
    experience_level: str | None = Field(
        None,
        max_length=40,
        description="entry, mid, senior or executive (any case); aijobs codes EN, MI, SE, EX accepted.",
    )
    employment_type: str | None = Field(
        None,
        max_length=40,
        description="full_time, part_time, contract or freelance; codes FT, PT, CT, FL accepted.",
    )
    remote_ratio: float | None = Field(
        None,
        ge=0,
        le=100,
        allow_inf_nan=False,
        description="Share of remote work in percent (0-100).",
    )
    company_size: str | None = Field(
        None, max_length=40, description="S (<50 employees), M (50-250) or L (>250)."
    )
    company_employees: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description="About how many people the employer has; finer than company_size, which is "
        "derived from it when not given.",
    )
    industry: str | None = Field(None, max_length=MAX_SHORT_TEXT_CHARS, description="Industry, free text.")
    education: str | None = Field(
        None,
        max_length=MAX_SHORT_TEXT_CHARS,
        description="Highest education: one of " + ", ".join(EDUCATION_LEVELS) + ", or a common wording "
        "of one ('PhD', 'BSc', \"Master's degree\", 'High school', 'Some college').",
    )
    work_year: int | None = Field(
        None,
        ge=1990,
        le=2100,
        description="Year the salary applies to; defaults to the model's latest year.",
    )

    @field_validator("company_employees", "work_year", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        """JSON Schema counts 2024.0 as an integer, so strict mode must not refuse it."""
        return int(value) if isinstance(value, float) and value.is_integer() else value

    @field_validator("experience_level")
    @classmethod
    def _experience_level(cls, value: str | None) -> str | None:
        return normalize_experience_level(value) if value else None

    @field_validator("employment_type")
    @classmethod
    def _employment_type(cls, value: str | None) -> str | None:
        return normalize_employment_type(value) if value else None

    @field_validator("company_size")
    @classmethod
    def _company_size(cls, value: str | None) -> str | None:
        return normalize_company_size(value) if value else None

    @field_validator("education")
    @classmethod
    def _education(cls, value: str | None) -> str | None:
        return normalize_education(value) if value else None

    @field_validator("title", "description", "location", "country", "region", "city", "industry", "education")
    @classmethod
    def _empty_is_missing(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("skills")
    @classmethod
    def _drop_empty_skills(cls, value: list[str] | None) -> list[str] | None:
        return [s for s in value if s] if value is not None else None


JOB_RECORD_FIELDS: tuple[str, ...] = tuple(JobRecord.model_fields)


def record_from_mapping(row: dict[str, Any]) -> JobRecord:
    """Build a JobRecord from a loose mapping (a DataFrame row), treating NaN and '' as missing."""
    clean: dict[str, Any] = {}
    for name in JOB_RECORD_FIELDS:
        value = row.get(name)
        if value is None or (isinstance(value, float) and value != value):
            continue
        clean[name] = value
    return JobRecord.model_validate(clean, strict=False)
