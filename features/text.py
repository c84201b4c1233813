"""Text hygiene shared by every extractor: bounded length, no control characters, plain tokens."""

from __future__ import annotations

import html
import re
import unicodedata

MAX_TEXT_CHARS = 20_000
_TAG = re.compile(r"<[^>]{0,200}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_TOKEN = re.compile(r"[a-z0-9]+(?:[+#]+|\.net|\.js)?")
_SPACES = re.compile(r"\s+")


def clean_text(text: str | None, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    """Strip HTML and control characters and cut at `limit`, saying whether anything was cut."""
    if not text:
        return "", False
    truncated = len(text) > limit
    text = text[:limit]
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    text = _CONTROL.sub(" ", text)
    return text, truncated


def to_ascii(text: str) -> str:
    """Drop accents and non-Latin characters, keeping case, so matching works on plain ASCII."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def fold(text: str) -> str:
    """Lower-case and drop accents so 'Zürich' and 'zurich' compare equal."""
    return to_ascii(text.lower())


def squash(text: str) -> str:
    """Collapse runs of whitespace to one space and trim the ends."""
    return _SPACES.sub(" ", text).strip()


def tokens(text: str | None) -> list[str]:
    """Lower-case word tokens of a title, keeping 'c++', 'c#', '.net' and 'node.js' whole."""
    if not text:
        return []
    return _TOKEN.findall(fold(text))
