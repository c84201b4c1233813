"""Country, region, city, metro and remote flag from free-text or structured location fields."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import pycountry
from rapidfuzz import fuzz, process

from features.matcher import PhraseMatcher
from features.taxonomy import read_rows
from features.text import fold, to_ascii
from features.titles import split_words

COUNTRY_FUZZY_CUTOFF = 90.0
# Countries whose states and provinces people write without the country ("Austin, TX", "London, ON",
# "Perth, WA", "Nagpur, Maharashtra"): their subdivision codes and names are read anywhere after a
# city, US ones first when a code is shared. Other countries' subdivisions are read once the country
# is known.
BARE_REGION_COUNTRIES = ("US", "CA", "AU", "IN")
_REMOTE = re.compile(
    r"\b(remote|remotely|anywhere|work from home|wfh|telecommute|virtual|distributed)\b"
)
_PARTS = re.compile(r"[,;/()|\[\]]|\s[-–—]+\s|\s[-–—]+|[-–—]+\s|\s{2,}")
_ISO_CODE = re.compile(r"\b[A-Z]{2}-[A-Z0-9]{1,3}\b")


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


# One mention of a place: its readings, the most common first ("portland": Oregon, then Maine).
Readings = tuple[_Place, ...]


def _subdivision_keys(name: str) -> list[str]:
    """'Wales [Cymru GB-CYM]' -> wales, cymru; 'Madrid, Comunidad de' -> madrid."""
    names = [name.split(",")[0], *re.findall(r"\[([^\]]+)\]", name)]
    return [k for k in (split_words(_ISO_CODE.sub(" ", n).split(",")[0]) for n in names) if k]


def _add(table: dict[str, Readings], key: str, place: _Place) -> None:
    if key and place not in table.get(key, ()):
        table[key] = (*table.get(key, ()), place)


class _Gazetteer:
    """Every place name we know (locations.csv, US states, pycountry countries), normalised."""

    def __init__(self) -> None:
        self.places: dict[str, Readings] = {}
        self.us_states = {
            s.code.split("-")[1]: s.name for s in pycountry.subdivisions.get(country_code="US")
        }
        for row in read_rows("locations.csv"):
            kind = "city" if row["city"] or row["metro"] else "country"
            if row["region"] and not row["city"] and not row["metro"]:
                kind = "region"
            place = _Place(
                row["country"] or None,
                row["region"] or None,
                row["city"] or None,
                row["metro"] or None,
                kind,
            )
            _add(self.places, split_words(row["alias"]), place)
        for code, name in self.us_states.items():
            # "new york" is a city and a state
            _add(self.places, split_words(name), _Place("US", code, kind="region"))
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
            self.places.setdefault(key, (_Place(code, kind="country"),))
        self.region_codes: dict[str, Readings] = {}
        self.region_names: dict[str, Readings] = {}
        for country_code in BARE_REGION_COUNTRIES:
            for sub in pycountry.subdivisions.get(country_code=country_code) or []:
                if sub.parent_code is None:
                    code = sub.code.split("-", 1)[1]
                    place = _Place(country_code, code, kind="region")
                    _add(self.region_codes, code.lower(), place)
                    for key in _subdivision_keys(sub.name):
                        _add(self.region_names, key, place)
        self.country_names = [
            k for k, p in self.places.items() if p[0].kind == "country" and len(k) >= 5
        ]
        phrases = [(k, k) for k in self.places if len(k) > 2]
        phrases += [(k, k) for k, p in self.places.items() if len(k) == 2 and p[0].kind == "country"]
        self.matcher: PhraseMatcher[str] = PhraseMatcher(phrases)

    @lru_cache(maxsize=256)  # noqa: B019 - one gazetteer per process
    def subdivisions(self, country: str) -> tuple[dict[str, str], dict[str, str]]:
        """Every subdivision of one country: by lower-case code, and by name, to its code."""
        codes: dict[str, str] = {}
        names: dict[str, str] = {}
        for sub in pycountry.subdivisions.get(country_code=country) or []:
            code = sub.code.split("-", 1)[1]
            codes.setdefault(code.lower(), code)
            for key in _subdivision_keys(sub.name):
                names.setdefault(key, code)
        return codes, names


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
    readings = gaz.places.get(key)
    if readings and readings[0].country:
        return readings[0].country
    if key in gaz.codes:
        return gaz.codes[key]
    hits = gaz.matcher.longest_hits(key)
    countries = {gaz.places[h.value][0].country for h in hits} - {None}
    if len(countries) == 1:
        return countries.pop()
    if len(key) >= 5:
        found = process.extractOne(
            key, gaz.country_names, scorer=fuzz.ratio, score_cutoff=COUNTRY_FUZZY_CUTOFF
        )
        if found is not None:
            return gaz.places[found[0]][0].country
    return None


def _unique(places: Iterable[_Place]) -> Readings:
    return tuple(dict.fromkeys(places))


def _region_readings(key: str, country: str | None) -> Readings:
    """What a region field or part may mean: within `country` when known, else a bare state or province."""
    gaz = _gazetteer()
    places = gaz.places.get(key, ())
    if country is None:
        bare = (*gaz.region_codes.get(key, ()), *gaz.region_names.get(key, ()))
        return _unique((*bare, *(p for p in places if p.region and p.kind != "country")))
    codes, names = gaz.subdivisions(country)
    found = [_Place(country, codes[key], kind="region")] if key in codes else []
    found += [p for p in places if p.country == country and p.region and p.kind == "region"]
    found += [p for p in places if p.country == country and p.region and p.kind == "city"]
    if key in names:
        found.append(_Place(country, names[key], kind="region"))
    return _unique(_Place(country, p.region, kind="region") for p in found)


def _code_readings(key: str) -> Readings:
    """A two-letter part after a city: a US state, a country, or another country's state or province."""
    gaz = _gazetteer()
    regions = gaz.region_codes.get(key, ())
    country = (_Place(gaz.codes[key], kind="country"),) if key in gaz.codes else ()
    return _unique(
        (
            *(p for p in regions if p.country == "US"),
            *gaz.places.get(key, ()),
            *country,
            *(p for p in regions if p.country != "US"),
        )
    )


def _read_part(part: str, first: bool, alone: bool) -> list[tuple[str, Readings]]:
    """The places one part names, each with the words that named it ("Portland ME": Portland, ME)."""
    gaz = _gazetteer()
    key = split_words(part)
    if not key:
        return []
    whole: Readings = ()
    if not first and len(key) == 2:
        whole = _code_readings(key)
    whole = whole or gaz.places.get(key, ())
    if not whole and key in gaz.codes:
        whole = (_Place(gaz.codes[key], kind="country"),)
    if not whole and first and (state := _us_state_code(part)):
        whole = (_Place("US", state, kind="region"),)
    if not whole and (not first or alone):
        whole = _region_readings(key, None)
    if whole:
        return [(part, whole)]
    words = part.split()
    last = words[-1] if len(words) > 1 else ""
    code = _code_readings(last.lower()) if len(last) == 2 and last.isupper() else ()
    rest = " ".join(words[:-1]) if code else part
    found = [(rest, gaz.places[h.value]) for h in gaz.matcher.longest_hits(split_words(rest))]
    return [*found, (words[-1], code)] if code else found


def _us_state_code(part: str) -> str | None:
    stripped = part.strip().strip(".")
    if len(stripped) == 2 and stripped.isalpha() and stripped.upper() in _gazetteer().us_states:
        return stripped.upper()
    return None


class _Mention(NamedTuple):
    part: int  # which comma-separated part of the text named it
    typed: str  # that part as written
    readings: Readings


def _contains(outer: _Place, inner: _Place) -> bool:
    return outer.country == inner.country and (outer.kind == "country" or outer.region == inner.region)


@dataclass(frozen=True)
class _Text:
    """What a free-text location names, part by part."""

    remote: bool = False
    mentions: tuple[_Mention, ...] = ()
    first: str | None = None  # the first part when it names no place we know there: a city
    unread: tuple[str, ...] = ()  # later parts that named nothing: maybe a subdivision of the country


def _read_text(location: str | None) -> _Text:
    if not location:
        return _Text()
    gaz = _gazetteer()
    text = location[:200]
    folded = fold(text)
    remote = bool(_REMOTE.search(folded))
    whole = split_words(_REMOTE.sub(" ", folded))
    cleaned = _REMOTE.sub(" ", to_ascii(text))
    if whole in gaz.places:
        return _Text(remote, (_Mention(0, " ".join(cleaned.split()).strip(" .-"), gaz.places[whole]),))
    parts = [" ".join(p.split()) for p in _PARTS.split(cleaned) if p and p.strip(" .-")]
    parts = [p.strip(" .-") for p in parts]
    mentions: list[_Mention] = []
    first: str | None = None
    unread: list[str] = []
    for i, part in enumerate(parts):
        read = _read_part(part, i == 0, len(parts) == 1)
        mentions.extend(_Mention(i, typed, r) for typed, r in read)
        if not read and i == 0 and len(parts) > 1 and len(part) <= 60:
            first = part
        elif not read and i > 0:
            unread.append(split_words(part))
    opening = [p for m in mentions if m.part == 0 for p in m.readings]
    later = [p for m in mentions if m.part > 0 for p in m.readings if p.kind == "region"]
    if (
        opening
        and later
        and all(p.kind != "city" for p in opening)
        and not any(_contains(o, r) for o in opening for r in later)
    ):
        # "Washington, PA", "Malta, New York": a first part that names a state or a country the
        # later parts contradict is the name of a city there
        mentions = [m for m in mentions if m.part > 0]
        first = parts[0]
    return _Text(remote, tuple(mentions), first, tuple(unread))


def _fits(place: _Place, country: str | None, region: str | None = None) -> bool:
    return (country is None or place.country == country) and (region is None or place.region == region)


def _choose(readings: Readings, country: str | None, cities: Sequence[_Place]) -> _Place | None:
    """The state or country a mention names: one that fits the country and, when one does, the city."""
    fitting = [p for p in readings if p.kind != "city" and _fits(p, country)]
    for place in fitting:
        if any(_fits(c, place.country, place.region if place.kind == "region" else None) for c in cities):
            return place
    return fitting[0] if fitting else None


def _city_readings(key: str, region: str | None = None) -> list[_Place]:
    """A city name's readings; with a region also its "city state" alias ("washington dc", "cambridge ma")."""
    gaz = _gazetteer()
    found = [*gaz.places.get(key, ()), *(gaz.places.get(f"{key} {region.lower()}", ()) if region else ())]
    return [p for p in found if p.kind == "city"]


def _display(typed: str, known: Sequence[_Place], recase: bool) -> str:
    """A city's name as we show it: our spelling when it is the same words, else as typed."""
    same = next((p.city for p in known if p.city and split_words(p.city) == split_words(typed)), None)
    if same:
        return same
    return typed.title() if recase and (typed.isupper() or typed.islower()) else typed


@lru_cache(maxsize=16384)
def parse_location(
    location: str | None = None,
    country: str | None = None,
    region: str | None = None,
    city: str | None = None,
) -> Location:
    """What the client named wins: fields over text, a named state or country over a city's usual one."""
    text = _read_text(location)
    countries = [m.readings[0].country for m in text.mentions if all(p.kind == "country" for p in m.readings)]
    named_country = resolve_country(country) or next(iter(countries), None)
    typed_region = " ".join(region.split())[:100] if region else None
    if typed_region:
        key = split_words(typed_region)
        region_mentions = [_region_readings(key, named_country)] if key else []
    else:
        region_mentions = [m.readings for m in sorted(text.mentions, key=lambda m: m.part == 0)]
    given_city = " ".join(city.split())[:100] if city else None
    typed_city = given_city
    if given_city:
        cities = _city_readings(split_words(given_city))
    else:
        named = next(
            (
                m
                for m in text.mentions
                if any(p.kind == "city" for p in m.readings)
                and (text.first is None or all(p.kind == "city" for p in m.readings))
            ),
            None,
        )
        cities = [p for p in named.readings if p.kind == "city"] if named else []
        typed_city = named.typed if named else text.first
    named_region: str | None = None
    for readings in region_mentions:
        chosen = _choose(readings, named_country, cities)
        if chosen is not None:
            named_country = named_country or chosen.country
            named_region = named_region or chosen.region
    if typed_region and named_region is None and named_country:
        named_region = typed_region  # a subdivision we do not know is kept as typed
    if named_region is None and named_country:
        codes, names = _gazetteer().subdivisions(named_country)
        named_region = next((codes.get(k) or names[k] for k in text.unread if k in codes or k in names), None)
    if typed_city and named_region:  # "Washington, DC, USA": the alias "washington dc"
        cities += _city_readings(split_words(typed_city), named_region)
    fit = next((p for p in cities if _fits(p, named_country, named_region)), None)
    if fit is not None:
        return Location(
            named_country or fit.country,
            named_region or fit.region,
            fit.city or given_city,
            fit.metro,
            text.remote,
        )
    if not cities and not named_country:
        typed_city = given_city  # an unread first part is a city only in a country we know
    return Location(
        named_country,
        named_region,
        _display(typed_city, cities, recase=not given_city) if typed_city else None,
        None,
        text.remote,
    )
