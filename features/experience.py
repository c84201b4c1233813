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
_NUM = r"(\d{1,2}(?:\.\d)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_UNIT = r"\s*\+?\s*(?:\(\s*\d{1,2}\s*\)\s*)?(?:years?|yrs?|yoe)\b"
_YEARS = re.compile(
    rf"\b{_NUM}\s*(?:(?:-|–|—|to)\s*{_NUM})?{_UNIT}"
    r"(?P<tail>\s*(?:or less|or fewer|or more|\+|and above|and up))?"
)
_LESS = re.compile(r"(?:less than|under|fewer than|up to)\s*$")
_NOT_EXPERIENCE = re.compile(r"\s*(?:ago|old|of age|in business|history|warranty|guarantee)")
_EXPERIENCE_WORD = re.compile(
    r"experience|exp\b|background|working|professional|industry|track record"
)
_LEVELS = re.compile(
    r"\b(?:(?P<executive>executive[- ]level|c[- ]suite|c[- ]level)"
    r"|(?P<senior>senior[- ]level|seasoned|highly experienced|extensive experience)"
    r"|(?P<mid>mid[- ]level|mid[- ]career|intermediate[- ]level)"
    r"|(?P<entry>entry[- ]level|new grads?|recent graduates?"
    r"|no (?:prior )?experience (?:required|needed)|early[- ]career|junior[- ]level"
    r"|graduate (?:role|programme|program)))\b"
)
_LEVEL_ORDER = ("executive", "senior", "mid", "entry")
# Every phrase in _LEVELS contains one of these; the regex only runs near them.
_LEVEL_ANCHORS = ("level", "suite", "seasoned", "experience", "career", "grad")


def _number(text: str) -> float:
    return float(_NUMBER_WORDS.get(text, text))


def _value(match: re.Match[str], lowered: str) -> float | None:
    low = _number(match.group(1))
    high = _number(match.group(2)) if match.group(2) else None
    tail = (match.group("tail") or "").strip()
    if high is not None:
        if high < low or high > MAX_YEARS:
            return None
        return (low + high) / 2
    if low > MAX_YEARS:
        return None
    if tail in ("or less", "or fewer") or _LESS.search(
        lowered, max(0, match.start() - 14), match.start()
    ):
        return low / 2
    return low


def parse_years(text: str | None) -> float | None:
    """The years of experience a phrase states; a range gives its midpoint, '1 year or less' 0.5."""
    if not text:
        return None
    lowered = fold(text[:20_000])
    if "y" not in lowered:
        return None
    first: float | None = None
    for match in _YEARS.finditer(lowered):
        value = _value(match, lowered)
        if value is None or _NOT_EXPERIENCE.match(lowered, match.end()):
            continue
        if first is None:
            first = value
        around = lowered[max(0, match.start() - 40) : match.end() + 30]
        if _EXPERIENCE_WORD.search(around):
            return value
    return first


def _windows(lowered: str) -> list[str]:
    windows = []
    for anchor in _LEVEL_ANCHORS:
        at = lowered.find(anchor)
        while at != -1:
            windows.append(lowered[max(0, at - 30) : at + 40])
            at = lowered.find(anchor, at + 1)
    return windows


def parse_experience_level(text: str | None) -> str | None:
    """entry, mid, senior or executive when a text states a level in words but no number."""
    if not text:
        return None
    found = {
        k
        for window in _windows(fold(text[:20_000]))
        for m in _LEVELS.finditer(window)
        for k, v in m.groupdict().items()
        if v
    }
    return next((level for level in _LEVEL_ORDER if level in found), None)
