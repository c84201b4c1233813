"""Country, region, city, metro and remote flag from free-text or structured location fields."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pycountry
from rapidfuzz import fuzz, process

from features.matcher import PhraseMatcher
from features.taxonomy import read_rows
from features.text import fold, to_ascii
from features.titles import split_words

COUNTRY_FUZZY_CUTOFF = 90.0
_REMOTE = re.compile(
    r"\b(remote|remotely|anywhere|work from home|wfh|telecommute|virtual|distributed)\b"
)
_PARTS = re.compile(r"[,;/()|\[\]]|\s[-–—]+\s|\s[-–—]+|[-–—]+\s|\s{2,}")


@dataclass(frozen=True)
class Location:
    """A location as understood: ISO country, region code, city, metro area and remote flag."""

    country: str | None = None
    region: str | None = None
    city: str | None = None
    metro: str | None = None
    remote: bool = False


@dataclass(frozen=True)
class _Place:
    country: str | None
    region: str | None = None
    city: str | None = None
    metro: str | None = None
    kind: str = "city"


class _Gazetteer:
    """Every place name we know (locations.csv, US states, pycountry countries), normalised."""

    def __init__(self) -> None:
        self.places: dict[str, _Place] = {}
        self.us_states = {
            s.code.split("-")[1]: s.name for s in pycountry.subdivisions.get(country_code="US")
        }
        for row in read_rows("locations.csv"):
            key = split_words(row["alias"])
            kind = "city" if row["city"] or row["metro"] else "country"
            if row["region"] and not row["city"] and not row["metro"]:
                kind = "region"
            self.places.setdefault(
                key,
                _Place(
                    row["country"] or None,
                    row["region"] or None,
                    row["city"] or None,
                    row["metro"] or None,
                    kind,
                ),
            )
        for code, name in self.us_states.items():
            self.places.setdefault(split_words(name), _Place("US", code, kind="region"))
        self.codes: dict[str, str] = {}
        names: dict[str, str] = {}
        for country in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                value = getattr(country, attr, None)
                if value:
                    names.setdefault(split_words(value), country.alpha_2)
            self.codes[country.alpha_2.lower()] = country.alpha_2
            self.codes[country.alpha_3.lower()] = country.alpha_2
        for key, code in names.items():
            self.places.setdefault(key, _Place(code, kind="country"))
        self.country_names = [
            k for k, p in self.places.items() if p.kind == "country" and len(k) >= 5
        ]
        phrases = [(k, k) for k in self.places if len(k) > 2]
        phrases += [(k, k) for k, p in self.places.items() if len(k) == 2 and p.kind == "country"]
        self.matcher: PhraseMatcher[str] = PhraseMatcher(phrases)

    @lru_cache(maxsize=256)  # noqa: B019 - one gazetteer per process
    def subdivisions(self, country: str) -> dict[str, str]:
        table: dict[str, str] = {}
        for sub in pycountry.subdivisions.get(country_code=country) or []:
            code = sub.code.split("-", 1)[1]
            table.setdefault(split_words(sub.name), code)
            table.setdefault(code.lower(), code)
        return table


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    return _Gazetteer()


@lru_cache(maxsize=4096)
def resolve_country(text: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code for a country name, code or common alias, or None."""
    if not text:
        return None
    key = split_words(text[:200])
    if not key:
        return None
    gaz = _gazetteer()
    place = gaz.places.get(key)
    if place is not None and place.country:
        return place.country
    if key in gaz.codes:
        return gaz.codes[key]
    hits = gaz.matcher.longest_hits(key)
    countries = {gaz.places[h.value].country for h in hits} - {None}
    if len(countries) == 1:
        return countries.pop()
    if len(key) >= 5:
        found = process.extractOne(
            key, gaz.country_names, scorer=fuzz.ratio, score_cutoff=COUNTRY_FUZZY_CUTOFF
        )
        if found is not None:
            return gaz.places[found[0]].country
    return None


def resolve_region(text: str | None, country: str | None) -> str | None:
    """Subdivision code (US 'CA', India 'KA') from a name or code; unknown ones kept as typed."""
    if not text:
        return None
    typed = " ".join(text.split())[:100]
    key = split_words(typed)
    gaz = _gazetteer()
    if country in (None, "US"):
        if key.upper() in gaz.us_states:
            return key.upper()
        place = gaz.places.get(key)
        if place is not None and place.country == "US" and place.region:
            return place.region
        if country is None:
            return None
    if country:
        code = gaz.subdivisions(country).get(key)
        if code:
            return code
    return typed or None


def _us_state_code(part: str) -> str | None:
    stripped = part.strip().strip(".")
    if len(stripped) == 2 and stripped.isalpha() and stripped.upper() in _gazetteer().us_states:
        return stripped.upper()
    return None


def _read_part(part: str, first: bool) -> list[_Place]:
    gaz = _gazetteer()
    key = split_words(part)
    if not key:
        return []
    if not first and (code := _us_state_code(part)):
        return [_Place("US", code, kind="region")]
    if key in gaz.places:
        return [gaz.places[key]]
    if key in gaz.codes:
        return [_Place(gaz.codes[key], kind="country")]
    if first and (code := _us_state_code(part)):
        return [_Place("US", code, kind="region")]
    found = [gaz.places[h.value] for h in gaz.matcher.longest_hits(key)]
    words = part.split()
    if len(words) > 1 and (code := _us_state_code(words[-1])) and words[-1].isupper():
        found.append(_Place("US", code, kind="region"))
    return found


@lru_cache(maxsize=16384)
def parse_location(
    location: str | None = None,
    country: str | None = None,
    region: str | None = None,
    city: str | None = None,
) -> Location:
    """Combine structured fields (which win) with what a free-text location says."""
    gaz = _gazetteer()
    remote = False
    places: list[_Place] = []
    unread_first: str | None = None
    if location:
        text = location[:200]
        folded = fold(text)
        remote = bool(_REMOTE.search(folded))
        whole = split_words(_REMOTE.sub(" ", folded))
        if whole in gaz.places:
            places.append(gaz.places[whole])
        else:
            cleaned = _REMOTE.sub(" ", to_ascii(text))
            parts = [p.strip(" .-") for p in _PARTS.split(cleaned) if p and p.strip(" .-")]
            for i, part in enumerate(parts):
                read = _read_part(part, i == 0)
                places.extend(read)
                if i == 0 and not read and len(parts) > 1 and len(part) <= 60:
                    unread_first = " ".join(part.split()).title()
    found_country = resolve_country(country)
    explicit = [p.country for p in places if p.kind == "country" and p.country]
    from_region = [p.country for p in places if p.kind == "region" and p.country]
    from_city = [p.country for p in places if p.kind == "city" and p.country]
    found_country = found_country or next(iter(explicit + from_region + from_city), None)
    found_region = resolve_region(region, found_country)
    found_city = " ".join(city.split())[:100] if city else None
    metro = None
    city_place = None
    if found_city:
        candidate = gaz.places.get(split_words(found_city))
        if (candidate is None or candidate.kind != "city") and found_region:
            candidate = gaz.places.get(split_words(f"{found_city} {found_region}"))
        if candidate is not None and candidate.kind == "city":
            city_place = candidate
            found_city = candidate.city or found_city
    for place in places:
        if place.kind == "city" and city_place is None:
            city_place = place
    if city_place is not None and city_place.country == found_country:
        if found_region is None or found_region == city_place.region:
            found_region = found_region or city_place.region
            metro = city_place.metro
        found_city = found_city or city_place.city
    if found_region is None:
        regions = [p.region for p in places if p.kind == "region" and p.country == found_country]
        found_region = regions[0] if regions else None
    if found_city is None and unread_first and found_country:
        found_city = unread_first
    return Location(found_country, found_region, found_city, metro, remote)
