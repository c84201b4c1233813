"""Per-estimate drivers: P50 feature contributions grouped back into the things the user gave."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from features.interpret import Interpretation
from features.pipeline import EMPLOYEES, SKILL_PREFIX, TITLE_PREFIX


def _years(value: float | None) -> str:
    return "not stated" if value is None else f"{value:g} years"


def factor_of(name: str, row: Interpretation) -> str:
    """The user-facing factor a feature column belongs to, e.g. 'skill: PyTorch' or 'location: US/CA'."""
    if name.startswith(SKILL_PREFIX):
        skill = name[len(SKILL_PREFIX) :]
        return f"skill: {skill}" if skill in row.skills else "skills not listed"
    if name.startswith(TITLE_PREFIX):
        return "title wording"
    if name in ("country", "region", "metro", "city"):
        where = "/".join(p for p in (row.country, row.region) if p) or "not stated"
        return f"location: {where}"
    if name in ("remote", "remote_ratio"):
        ratio = f"{row.remote_ratio:g}%" if row.remote_ratio is not None else ("yes" if row.remote else "no")
        return f"remote: {ratio}"
    labels: dict[str, tuple[str, Any]] = {
        "seniority_rank": ("seniority", row.seniority),
        "role": ("role", row.role),
        "role_group": ("role", row.role),
        "company_size_rank": ("company size", row.company_size),
        EMPLOYEES: ("company size", row.company_size),
        "employment_type": ("employment type", row.employment_type),
        "experience_level": ("experience level", row.experience_level),
        "work_year": ("work year", row.work_year),
        "industry": ("industry", row.industry),
        "education": ("education", row.education),
    }
    if name == "years_experience":
        return f"experience: {_years(row.years_experience)}"
    if name == "skill_count":
        return f"number of skills: {len(row.skills)}"
    if name in labels:
        label, value = labels[name]
        return f"{label}: {'not stated' if value is None else value}"
    return name


def drivers(
    contributions: np.ndarray, feature_names: Sequence[str], row: Interpretation
) -> list[dict[str, Any]]:
    """Grouped effects on P50 in percent, largest first; baseline × Π(1 + effect) reproduces P50."""
    grouped: dict[str, float] = {}
    for name, value in zip(feature_names, contributions, strict=True):
        if value != 0.0:
            factor = factor_of(name, row)
            grouped[factor] = grouped.get(factor, 0.0) + float(value)
    ordered = sorted(grouped.items(), key=lambda kv: -abs(kv[1]))
    return [
        {"factor": factor, "effect_pct": math.expm1(log_effect) * 100.0}
        for factor, log_effect in ordered
        if log_effect != 0.0
    ]
