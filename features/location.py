"""Country, region, city and remote flag from free-text or structured location fields."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pycountry

from features.text import fold

_COUNTRY_ALIASES = {
    "us": "US", "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states": "US",
    "united states of america": "US", "america": "US",
    "uk": "GB", "u.k.": "GB", "united kingdom": "GB", "england": "GB", "scotland": "GB", "britain": "GB",
    "germany": "DE", "india": "IN", "canada": "CA", "remote - us": "US",
}
_US_STATES = {s.code.split("-")[1]: s.name for s in pycountry.subdivisions.get(country_code="US")}
_US_STATE_NAMES = {fold(name): code for code, name in _US_STATES.items()}
_CITIES = {
    "san francisco": ("US", "CA", "San Francisco"), "new york": ("US", "NY", "New York"),
    "nyc": ("US", "NY", "New York"), "seattle": ("US", "WA", "Seattle"), "austin": ("US", "TX", "Austin"),
    "chicago": ("US", "IL", "Chicago"), "london": ("GB", None, "London"), "berlin": ("DE", None, "Berlin"),
    "bengaluru": ("IN", None, "Bengaluru"), "bangalore": ("IN", None, "Bengaluru"),
}
_REMOTE = re.compile(r"\bremote\b")


@dataclass(frozen=True)
class Location:
    """A location as understood: ISO country, region code, city, metro area and remote flag."""

    country: str | None = None
    region: str | None = None
    city: str | None = None
    metro: str | None = None
    remote: bool = False


@lru_cache(maxsize=4096)
def resolve_country(text: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code for a country name, code or common alias, or None."""
    if not text:
        return None
    key = fold(text.strip()).rstrip(".")
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    if key in _US_STATE_NAMES:
        return "US"
    try:
        return str(pycountry.countries.lookup(text.strip()).alpha_2)
    except LookupError:
        return None


def resolve_region(text: str | None, country: str | None) -> str | None:
    """US state code from a state name or code; other subdivisions are kept as typed."""
    if not text:
        return None
    key = text.strip()
    if country in (None, "US"):
        if key.upper() in _US_STATES:
            return key.upper()
        return _US_STATE_NAMES.get(fold(key), key if country else None)
    return key


@lru_cache(maxsize=16384)
def parse_location(
    location: str | None = None,
    country: str | None = None,
    region: str | None = None,
    city: str | None = None,
) -> Location:
    """Combine structured fields (which win) with what a free-text location says."""
    remote = False
    found_country = resolve_country(country)
    found_region = resolve_region(region, found_country)
    found_city = city
    if location:
        text = fold(location)
        remote = bool(_REMOTE.search(text))
        parts = [p.strip() for p in re.split(r"[,/()\-]", text) if p.strip()]
        for part in parts:
            if part in _CITIES:
                c, r, name = _CITIES[part]
                found_country = found_country or c
                found_region = found_region or r
                found_city = found_city or name
            elif (code := resolve_country(part)) and part.upper() not in _US_STATES:
                found_country = found_country or code
            elif part.upper() in _US_STATES or part in _US_STATE_NAMES:
                found_region = found_region or resolve_region(part, "US")
                found_country = found_country or "US"
    if found_region and not found_country and found_region in _US_STATES:
        found_country = "US"
    return Location(found_country, found_region, found_city, None, remote)
