"""Training copies of each row with parts left out, so a field a client does not send means unknown.

Survey rows state everything; API calls state a title and a place, sometimes a seniority, rarely the
rest. A model fitted on complete rows alone reads a missing field as a value. Fitted also on copies
with parts blanked, the rows that lack a part are the whole population with that part unknown, so
the estimate for a partial record is the estimate for the training rows that match what it states
(docs/model.md, "Missing means unknown").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# The parts a client may leave out, as JobRecord columns. work_year is never blanked: a record without
# one asks about the model's latest year (JobRecord.work_year), which is a value, not an unknown.
PARTS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "location": ("location", "country", "region", "city"),
    "experience": ("experience_level", "years_experience"),
    "skills": ("skills",),
    "description": ("description",),
    "details": (
        "employment_type",
        "remote_ratio",
        "company_size",
        "company_employees",
        "industry",
        "education",
    ),
}
DETAIL_KEEP = 0.7  # of a copy that keeps its details, the share that keeps each one
SKILLS_SENT = 5  # how many skills an API client lists, against a survey respondent's thirty


@dataclass(frozen=True)
class Profile:
    """One kind of call: the parts it states, and the share of training copies that follow it."""

    name: str
    share: float
    parts: frozenset[str]


# What API clients send. The remaining share of copies keeps each part at random (RANDOM_KEEP), so every
# combination is seen, and leaving out any one field is learned too.
CLIENT_PROFILES = (
    Profile("title+location+experience", 0.15, frozenset({"title", "location", "experience"})),
    Profile("title+location", 0.15, frozenset({"title", "location"})),
    Profile("title", 0.10, frozenset({"title"})),
    Profile("title+location+skills", 0.10, frozenset({"title", "location", "skills"})),
    Profile("description", 0.05, frozenset({"description"})),
)
RANDOM_KEEP = {
    "title": 0.8,
    "location": 0.7,
    "experience": 0.6,
    "skills": 0.5,
    "description": 0.5,
    "details": 0.5,
}


def _keep_masks(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Per part, which of n copies keep it."""
    shares = np.array([p.share for p in CLIENT_PROFILES])
    choice = rng.choice(len(CLIENT_PROFILES) + 1, size=n, p=[*shares, 1.0 - shares.sum()])
    keep = {}
    for part, chance in RANDOM_KEEP.items():
        by_profile = np.array([part in p.parts for p in CLIENT_PROFILES] + [False])
        randomly = (choice == len(CLIENT_PROFILES)) & (rng.random(n) < chance)
        keep[part] = by_profile[choice] | randomly
    # A client that gives its experience gives a level, years, or both.
    which = rng.integers(0, 3, size=n)
    keep["experience_level"] = keep["experience"] & (which != 1)
    keep["years_experience"] = keep["experience"] & (which != 0)
    # A client that gives details gives some of them: a company size without an employment type is
    # a call every booster must have seen, or it reads the missing type as a value.
    for column in PARTS["details"]:
        keep[column] = keep["details"] & (rng.random(n) < DETAIL_KEEP)
    keep["few_skills"] = choice < len(CLIENT_PROFILES)  # client profiles list at most SKILLS_SENT
    return keep


def _fewer_skills(skills: pd.Series, keep: np.ndarray, few: np.ndarray, rng: np.random.Generator) -> list:
    """Each kept list cut to a random subset: SKILLS_SENT for client profiles, any length otherwise."""
    out: list = []
    for value, kept, limit_to_few in zip(skills.tolist(), keep, few, strict=True):
        if not kept or not isinstance(value, list | tuple) or not value:
            out.append(None)
            continue
        size = min(len(value), SKILLS_SENT) if limit_to_few else int(rng.integers(1, len(value) + 1))
        picked = rng.choice(len(value), size=size, replace=False)
        out.append([value[i] for i in sorted(picked)])
    return out


def blank_parts(
    frame: pd.DataFrame, copies: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows followed by `copies` partial copies of each; and each output row's original position."""
    n = len(frame)
    origin = np.concatenate([np.arange(n)] * (copies + 1)) if copies > 0 else np.arange(n)
    if copies <= 0 or n == 0:
        return frame, origin
    pieces = [frame]
    for _ in range(copies):
        keep = _keep_masks(rng, n)
        copy = frame.copy()
        for part, columns in PARTS.items():
            for column in columns:
                if column not in copy.columns or column == "skills":
                    continue
                kept = keep.get(column, keep[part])
                copy[column] = copy[column].astype(object).where(kept, None)
        if "skills" in copy.columns:
            copy["skills"] = _fewer_skills(copy["skills"], keep["skills"], keep["few_skills"], rng)
        pieces.append(copy)
    return pd.concat(pieces, ignore_index=True), origin


# The kinds of call a dedicated center is fitted for (models/centers.py): the rows as the data gives
# them, then what clients send most. A posting-text call keeps the shared center: no dataset here has
# postings for most rows.
COMPLETE = Profile("all", 1.0, frozenset(PARTS))
CENTER_PROFILES = (COMPLETE, *(p for p in CLIENT_PROFILES if p.parts != frozenset({"description"})))


def stated_parts(frame: pd.DataFrame) -> frozenset[str]:
    """The parts this data states on at least some rows."""
    return frozenset(
        part for part, columns in PARTS.items() if any(c in frame and frame[c].notna().any() for c in columns)
    )


def center_profiles(frame: pd.DataFrame) -> list[Profile]:
    """The profiles worth a center of their own on this data (`center_profiles_of` its stated parts)."""
    return center_profiles_of(stated_parts(frame))


def center_profiles_of(have: frozenset[str]) -> list[Profile]:
    """The profiles worth a center of their own on data that states `have`: the complete rows, and each
    client profile that states less than the data does and all of its parts that the data has."""
    out = [COMPLETE]
    for profile in CENTER_PROFILES[1:]:
        if profile.parts <= have and not have <= profile.parts:
            out.append(profile)
    return out


# A client part as the part of a feature row that states it (models/profiles.py PARTS).
CENTER_PARTS = {
    "title": "role",
    "location": "location",
    "experience": "experience",
    "skills": "skills",
    "details": "details",
}


def center_parts(profile: Profile) -> frozenset[str]:
    """The feature-row parts a center's call states, as its routes and kinds read them (none: complete)."""
    return frozenset() if profile is COMPLETE else frozenset(CENTER_PARTS[p] for p in profile.parts)


def blank_except(frame: pd.DataFrame, parts: frozenset[str]) -> pd.DataFrame:
    """A copy of the rows with every part but `parts` left blank, as a call that states only those."""
    out = frame.copy()
    for part, columns in PARTS.items():
        if part not in parts:
            for column in columns:
                if column in out.columns:
                    out[column] = None
    return out


def as_called(frame: pd.DataFrame, profile: Profile, rng: np.random.Generator) -> pd.DataFrame:
    """Every row as a call of this profile states it: other parts blank, skills cut to SKILLS_SENT."""
    if profile is COMPLETE:
        return frame
    out = blank_except(frame, profile.parts)
    if "skills" in out.columns and "skills" in profile.parts:
        n = len(out)
        out["skills"] = _fewer_skills(out["skills"], np.ones(n, dtype=bool), np.ones(n, dtype=bool), rng)
    return out
