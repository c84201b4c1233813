"""Titles as normalised token strings: folded, abbreviations expanded ("Sr." -> "senior")."""

from __future__ import annotations

import re
from functools import lru_cache

from features.taxonomy import read_rows
from features.text import fold

_WORD = re.compile(r"[a-z0-9]+(?:[+#]+)?")


def split_words(text: str) -> str:
    """Plain lower-case word tokens joined by single spaces; '&' becomes 'and'."""
    return " ".join(_WORD.findall(fold(text).replace("&", " and ")))


@lru_cache(maxsize=1)
def _abbreviations() -> tuple[dict[str, str], re.Pattern[str] | None]:
    table: dict[str, str] = {}
    for row in read_rows("abbreviations.csv"):
        key = split_words(row["abbreviation"])
        value = split_words(row["expansion"])
        if key and key != value:
            table[key] = value
    if not table:
        return table, None
    keys = sorted(table, key=len, reverse=True)
    pattern = re.compile(r"(?<!\S)(?:" + "|".join(re.escape(k) for k in keys) + r")(?!\S)")
    return table, pattern


def expand(words: str) -> str:
    """Replace whole-word abbreviations in an already split token string."""
    table, pattern = _abbreviations()
    if pattern is None or not words:
        return words
    return pattern.sub(lambda m: table[m.group(0)], words)


@lru_cache(maxsize=65536)
def normalize_title(title: str | None) -> str:
    """The normalised token string every title rule and taxonomy phrase is compared in."""
    if not title:
        return ""
    return expand(split_words(title[:300]))
