"""Seniority from title words, level numbers (II, 'Engineer 3', L5) and experience-level codes."""

from __future__ import annotations

import re
from functools import lru_cache

from features.matcher import PhraseMatcher
from features.taxonomy import read_rows
from features.titles import normalize_title

SENIORITY_LEVELS = (
    "intern",
    "junior",
    "mid",
    "senior",
    "staff",
    "principal",
    "lead",
    "manager",
    "director",
    "vp",
    "c_level",
)
SENIORITY_RANK = {level: rank for rank, level in enumerate(SENIORITY_LEVELS)}
NO_LEVEL = "none"
_NUMBER = re.compile(r"^(?:level )?(?:i{1,3}|iv|v|\d{1,2}|[le]\d)$")
_FROM_EXPERIENCE_LEVEL = {
    "entry": "junior",
    "mid": "mid",
    "senior": "senior",
    "executive": "director",
}


@lru_cache(maxsize=1)
def _matcher() -> PhraseMatcher[tuple[str, bool]]:
    phrases = []
    for row in read_rows("seniority.csv"):
        level = row["level"]
        if level != NO_LEVEL and level not in SENIORITY_RANK:
            raise ValueError(f"seniority.csv: level {level!r} is not one of {SENIORITY_LEVELS}")
        key = normalize_title(row["phrase"])
        phrases.append((key, (level, bool(_NUMBER.match(key)))))
    return PhraseMatcher(phrases)


@lru_cache(maxsize=65536)
def seniority_from_title(title: str | None) -> tuple[str | None, str | None]:
    """Level and its source ('title' for words, 'level_number' for II/3/L5), or (None, None)."""
    words = normalize_title(title)
    if not words:
        return None, None
    found_words: list[str] = []
    found_numbers: list[str] = []
    for hit in _matcher().longest_hits(words):
        level, is_number = hit.value
        if level != NO_LEVEL:
            (found_numbers if is_number else found_words).append(level)
    if "intern" in found_words:
        return "intern", "title"
    if found_words:
        return max(found_words, key=SENIORITY_RANK.__getitem__), "title"
    if found_numbers:
        return found_numbers[-1], "level_number"
    return None, None


def seniority_with_source(
    title: str | None, experience_level: str | None = None
) -> tuple[str | None, str | None]:
    """Level plus where it came from: 'title', 'level_number', 'experience_level' or None."""
    level, source = seniority_from_title(title)
    if level is None and experience_level:
        level = _FROM_EXPERIENCE_LEVEL.get(experience_level)
        source = "experience_level" if level else None
    return level, source


def stated_seniority(seniority: str | None, source: str | None, levels_used: bool) -> str | None:
    """The seniority a record states to a model: none that a level implies, if the model uses no levels
    (its training rows never state one, so the level plays no part, in the features or the evidence)."""
    return None if not levels_used and source == "experience_level" else seniority


def extract_seniority(title: str | None, experience_level: str | None = None) -> str | None:
    """Read a seniority level from the title, falling back to the experience-level code."""
    return seniority_with_source(title, experience_level)[0]
