"""Years of experience from numbers, ranges and phrases such as '5+ years' or '3-5 yrs'."""

from __future__ import annotations

import re

_RANGE = re.compile(r"(\d{1,2})\s*(?:-|–|to)\s*(\d{1,2})\s*\+?\s*(?:years?|yrs?)")
_PLUS = re.compile(r"(\d{1,2})\s*\+?\s*(?:years?|yrs?)")


def parse_years(text: str | None) -> float | None:
    """The years of experience a phrase states; a range gives its midpoint."""
    if not text:
        return None
    lowered = text.lower()
    if m := _RANGE.search(lowered):
        return (float(m.group(1)) + float(m.group(2))) / 2
    if m := _PLUS.search(lowered):
        return float(m.group(1))
    return None
