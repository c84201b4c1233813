"""Role family from a job title, using the roles taxonomy file (family, SOC 2018 code, keywords)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from features.text import fold

UNKNOWN_ROLE = "unknown"


@dataclass(frozen=True)
class RoleMatch:
    """The role family a title resolved to, its SOC code, and how sure the match is (0-1)."""

    family: str
    soc: str | None
    score: float


@lru_cache(maxsize=1)
def _taxonomy() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    text = resources.files("features.taxonomy").joinpath("roles.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return tuple((r["family"], r["soc"], tuple(r["keywords"].split("|"))) for r in rows)


def role_families() -> list[str]:
    """Every family name in the taxonomy, for documentation and validation."""
    return [family for family, _, _ in _taxonomy()]


@lru_cache(maxsize=65536)
def extract_role(title: str | None) -> RoleMatch:
    """Resolve a title to a role family; titles matching nothing are explicitly 'unknown'."""
    if not title:
        return RoleMatch(UNKNOWN_ROLE, None, 0.0)
    text = f" {fold(title)} "
    for family, soc, keywords in _taxonomy():
        if any(f" {k} " in text or text.strip().startswith(k) for k in keywords):
            return RoleMatch(family, soc, 1.0)
    return RoleMatch(UNKNOWN_ROLE, None, 0.0)
