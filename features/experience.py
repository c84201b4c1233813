"""Years of experience from numbers, ranges and phrases: '5+ years', '3-5 yrs', 'seven years'."""

from __future__ import annotations

import re

from features.text import fold

MAX_YEARS = 60.0
_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "twenty-five": 25,
    "thirty": 30,
    "forty": 40,
}
_WORDS = re.compile(r"\b(" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b")
_NUM = r"(\d{1,2}(?:\.\d)?)"
_UNIT = r"\s*\+?\s*(?:\(\s*\d{1,2}\s*\)\s*)?(?:years?|yrs?|yoe)\b"
_YEARS = re.compile(
    rf"(?P<less>less than|under|fewer than|up to)?\s*{_NUM}\s*(?:(?:-|–|—|to)\s*{_NUM})?{_UNIT}"
    r"(?P<tail>\s*(?:or less|or fewer|or more|\+|and above|and up))?"
)
_NOT_EXPERIENCE = re.compile(r"\s*(?:ago|old|of age|in business|history|warranty|guarantee)")
_EXPERIENCE_WORD = re.compile(
    r"experience|exp\b|background|working|professional|industry|track record"
)
_LEVEL_PHRASES = (
    ("executive", re.compile(r"\b(executive[- ]level|c[- ]suite|c[- ]level)\b")),
    (
        "senior",
        re.compile(r"\b(senior[- ]level|seasoned|highly experienced|extensive experience)\b"),
    ),
    ("mid", re.compile(r"\b(mid[- ]level|mid[- ]career|intermediate[- ]level)\b")),
    (
        "entry",
        re.compile(
            r"\b(entry[- ]level|new grads?|recent graduates?"
            r"|no (?:prior )?experience (?:required|needed)|early[- ]career|junior[- ]level"
            r"|graduate (?:role|programme|program))\b"
        ),
    ),
)


def _value(match: re.Match[str]) -> float | None:
    low = float(match.group(2))
    high = float(match.group(3)) if match.group(3) else None
    tail = (match.group("tail") or "").strip()
    if high is not None:
        if high < low or high > MAX_YEARS:
            return None
        return (low + high) / 2
    if low > MAX_YEARS:
        return None
    if match.group("less") or tail in ("or less", "or fewer"):
        return low / 2
    return low


def parse_years(text: str | None) -> float | None:
    """The years of experience a phrase states; a range gives its midpoint, '1 year or less' 0.5."""
    if not text:
        return None
    lowered = _WORDS.sub(lambda m: str(_NUMBER_WORDS[m.group(1)]), fold(text[:20_000]))
    first: float | None = None
    for match in _YEARS.finditer(lowered):
        value = _value(match)
        if value is None or _NOT_EXPERIENCE.match(lowered, match.end()):
            continue
        if first is None:
            first = value
        around = lowered[max(0, match.start() - 40) : match.end() + 30]
        if _EXPERIENCE_WORD.search(around):
            return value
    return first


def parse_experience_level(text: str | None) -> str | None:
    """entry, mid, senior or executive when a text states a level in words but no number."""
    if not text:
        return None
    lowered = fold(text[:20_000])
    for level, pattern in _LEVEL_PHRASES:
        if pattern.search(lowered):
            return level
    return None
