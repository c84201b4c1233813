"""Seniority level from title words and experience-level codes."""

from __future__ import annotations

import re

from features.text import fold

SENIORITY_LEVELS = (
    "intern", "junior", "mid", "senior", "staff", "principal", "lead",
    "manager", "director", "vp", "c_level",
)
SENIORITY_RANK = {level: rank for rank, level in enumerate(SENIORITY_LEVELS)}
_WORDS = [
    ("c_level", r"\b(chief|cto|ceo|cfo|coo)\b"),
    ("vp", r"\b(vp|vice president)\b"),
    ("director", r"\b(director|head of)\b"),
    ("principal", r"\bprincipal\b"),
    ("staff", r"\bstaff\b"),
    ("lead", r"\blead\b"),
    ("manager", r"\bmanager\b"),
    ("senior", r"\b(senior|sr)\b"),
    ("junior", r"\b(junior|jr|entry|graduate)\b"),
    ("intern", r"\b(intern|internship)\b"),
]
_PATTERNS = [(level, re.compile(p)) for level, p in _WORDS]
_FROM_EXPERIENCE_LEVEL = {"entry": "junior", "mid": "mid", "senior": "senior", "executive": "director"}


def extract_seniority(title: str | None, experience_level: str | None = None) -> str | None:
    """Read a seniority level from the title, falling back to the experience-level code."""
    if title:
        text = fold(title)
        for level, pattern in _PATTERNS:
            if pattern.search(text):
                return level
    if experience_level:
        return _FROM_EXPERIENCE_LEVEL.get(experience_level)
    return None
