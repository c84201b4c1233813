"""Text hygiene shared by every extractor: bounded length, no control characters, plain tokens."""

from __future__ import annotations

import html
import re
import unicodedata

MAX_TEXT_CHARS = 20_000
_TAG = re.compile(r"<[^>]{0,200}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TOKEN = re.compile(r"[a-z0-9]+(?:[+#]+|\.net|\.js)?")


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


def fold(text: str) -> str:
    """Lower-case and drop accents so 'Zürich' and 'zurich' compare equal."""
    text = text.lower()
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def tokens(text: str | None) -> list[str]:
    """Lower-case word tokens of a title, keeping 'c++', 'c#', '.net' and 'node.js' whole."""
    if not text:
        return []
    return _TOKEN.findall(fold(text))
