"""Skills from a list or from free text, resolved through the skills taxonomy's aliases."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from features.text import fold


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    text = resources.files("features.taxonomy").joinpath("skills.csv").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for row in csv.DictReader(text.splitlines()):
        table[fold(row["skill"])] = row["skill"]
        for alias in row["aliases"].split("|"):
            if alias:
                table[fold(alias)] = row["skill"]
    return table


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    names = sorted(_aliases(), key=len, reverse=True)
    return re.compile(r"(?<![\w+#.])(" + "|".join(re.escape(n) for n in names) + r")(?![\w+#])")


def canonical_skills(skills: Iterable[str]) -> list[str]:
    """Map given skill names to canonical names, keeping unknown ones as typed (deduplicated)."""
    table = _aliases()
    seen: dict[str, None] = {}
    for skill in skills:
        name = table.get(fold(skill.strip()), skill.strip())
        if name:
            seen.setdefault(name, None)
    return list(seen)


def find_skills(text: str | None) -> list[str]:
    """Canonical skills mentioned in free text, in order of first mention."""
    if not text:
        return []
    table = _aliases()
    return canonical_skills(table[m] for m in _pattern().findall(fold(text)))
