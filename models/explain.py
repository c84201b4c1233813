"""Per-estimate drivers: P50 feature contributions grouped back into the things the user gave."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from features.interpret import Interpretation
from features.pipeline import EMPLOYEES, LEVEL_RANK, SKILL_PREFIX, TITLE_PREFIX
from features.role import UNKNOWN_ROLE


def factor_of(name: str, row: Interpretation) -> str | None:
    """The user-facing factor a feature column belongs to, e.g. 'skill: PyTorch', or None when the
    record did not state it: what a client left out is part of the baseline, not a driver."""
    if name.startswith(SKILL_PREFIX):
        if not row.skills:
            return None
        skill = name[len(SKILL_PREFIX) :]
        return f"skill: {skill}" if skill in row.skills else "skills not listed"
    if name.startswith(TITLE_PREFIX) or name in ("role", "role_group"):
        if row.role != UNKNOWN_ROLE and name in ("role", "role_group"):
            return f"role: {row.role}"
        return "title wording" if row.title_tokens else None
    if name in ("country", "region", "metro", "city"):
        where = "/".join(p for p in (row.country, row.region) if p)
        return f"location: {where}" if where else None
    if name in ("remote", "remote_ratio"):
        if row.remote_ratio is not None:
            return f"remote: {row.remote_ratio:g}%"
        return "remote: yes" if row.remote else None
    if name == "years_experience":
        return f"experience: {row.years_experience:g} years" if row.years_experience is not None else None
    labels: dict[str, tuple[str, Any]] = {
        "seniority_rank": ("seniority", row.seniority),
        "company_size_rank": ("company size", row.company_size),
        EMPLOYEES: ("company size", row.company_size),
        "employment_type": ("employment type", row.employment_type),
        "experience_level": ("experience level", row.experience_level),
        LEVEL_RANK: ("experience level", row.experience_level),
        "work_year": ("work year", row.work_year),
        "industry": ("industry", row.industry),
        "education": ("education", row.education),
    }
    if name in labels:
        label, value = labels[name]
        return None if value is None else f"{label}: {value}"
    return name


def drivers(
    contributions: np.ndarray, feature_names: Sequence[str], row: Interpretation, features: np.ndarray
) -> tuple[list[dict[str, Any]], float]:
    """Grouped effects on P50 in percent, largest first, and the log effect of what was not stated.

    A column the model reads as missing (NaN in `features`: not stated, or a value it never saw, such
    as an unseen role family) is no driver either. The second value belongs to the baseline:
    baseline × exp(unstated) × Π(1 + effect) reproduces P50.
    """
    grouped: dict[str, float] = {}
    unstated = 0.0
    for name, value, x in zip(feature_names, contributions, features, strict=True):
        if value != 0.0:
            factor = None if x != x else factor_of(name, row)
            if factor is None:
                unstated += float(value)
            else:
                grouped[factor] = grouped.get(factor, 0.0) + float(value)
    pct = {factor: math.expm1(log_effect) * 100.0 for factor, log_effect in grouped.items() if log_effect}
    ordered = sorted(pct.items(), key=lambda kv: -abs(kv[1]))  # as shown: -3.7% comes after +3.8%
    effects: list[dict[str, Any]] = [{"factor": factor, "effect_pct": value} for factor, value in ordered]
    return effects, unstated
