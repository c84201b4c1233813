"""Titles as normalised token strings: folded, abbreviations expanded ("Sr." -> "senior")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from features.taxonomy import read_rows
from features.text import fold

_WORD = re.compile(r"[a-z0-9]+(?:[+#]+)?")
CAPITALS = "="  # abbreviations.csv: "=DE" expands only where written "DE" (not the Spanish "de")
MAX_CAPITAL_WORDS = 2  # in a title all in capitals, "=DE" expands only in titles this short ("SENIOR DE")
COMPOUND = "*"  # abbreviations.csv: "*entwickler" also ends German compounds ("Softwareentwicklerin")
MIN_COMPOUND_PREFIX = 3
FEMININE = "in"  # German feminine ending a compound head may carry ("Entwicklerin")


def split_words(text: str) -> str:
    """Plain lower-case word tokens joined by single spaces; '&' becomes 'and'."""
    return " ".join(_WORD.findall(fold(text).replace("&", " and ")))


def _whole_words(keys: list[str], edge: str) -> re.Pattern[str] | None:
    """One pattern for all keys, longest first, matching only where no `edge` character touches a key."""
    if not keys:
        return None
    ordered = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(rf"(?<!{edge})(?:{ordered})(?!{edge})")


@dataclass(frozen=True)
class _Abbreviations:
    words: dict[str, str]
    pattern: re.Pattern[str] | None
    capitals: dict[str, str]
    capitals_pattern: re.Pattern[str] | None
    heads: dict[str, str]
    heads_pattern: re.Pattern[str] | None


@lru_cache(maxsize=1)
def _abbreviations() -> _Abbreviations:
    words: dict[str, str] = {}
    capitals: dict[str, str] = {}
    heads: dict[str, str] = {}
    for row in read_rows("abbreviations.csv"):
        raw, value = row["abbreviation"], split_words(row["expansion"])
        table = capitals if raw.startswith(CAPITALS) else heads if raw.startswith(COMPOUND) else words
        key = split_words(raw.lstrip(CAPITALS + COMPOUND))
        if key and (key != value or table is heads):
            table[key.upper() if table is capitals else key] = value
    heads_pattern = None
    if heads:
        alternatives = "|".join(re.escape(h) for h in sorted(heads, key=len, reverse=True))
        heads_pattern = re.compile(rf"^(?P<prefix>[a-z0-9]*?)(?P<head>{alternatives})(?:{FEMININE})?$")
    return _Abbreviations(
        words,
        _whole_words(list(words), r"\S"),  # in split tokens: between spaces
        capitals,
        _whole_words(list(capitals), r"\w"),  # in the title as written: not inside a word
        heads,
        heads_pattern,
    )


def _compound(word: str, table: _Abbreviations) -> str:
    """'softwareentwicklerin' -> 'software developer': a German compound split at a known head."""
    found = table.heads_pattern.match(word) if table.heads_pattern is not None else None
    if found is None or 0 < len(found["prefix"]) < MIN_COMPOUND_PREFIX:
        return word
    prefix = found["prefix"]
    return f"{table.words.get(prefix, prefix)} {table.heads[found['head']]}".strip()


def expand(words: str) -> str:
    """Replace whole-word abbreviations and translations, then split German compounds, in split tokens."""
    table = _abbreviations()
    if not words:
        return words
    if table.pattern is not None:
        words = table.pattern.sub(lambda m: table.words[m.group(0)], words)
    if table.heads_pattern is not None:
        words = " ".join(_compound(w, table) for w in words.split())
    return words


@lru_cache(maxsize=65536)
def normalize_title(title: str | None) -> str:
    """The normalised token string every title rule and taxonomy phrase is compared in."""
    if not title:
        return ""
    text = title[:300]
    table = _abbreviations()
    if table.capitals_pattern is not None and (not text.isupper() or len(text.split()) <= MAX_CAPITAL_WORDS):
        text = table.capitals_pattern.sub(lambda m: f" {table.capitals[m.group(0)]} ", text)
    return expand(split_words(text))
