"""Role family from a job title: taxonomy phrases (longest wins), typo repair, fuzzy matching."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from features.matcher import PhraseMatcher
from features.taxonomy import read_rows
from features.titles import normalize_title, split_words

UNKNOWN_ROLE = "unknown"
# Rank phrases say how senior, not which field: in "VP, Product" or "Director, AI" the field word wins.
RANK_PHRASES = frozenset(
    (
        "director",
        "executive",
        "president",
        "vice president",
        "partner",
        "principal",
        "chief",
        "head",
        "senior director",
        "associate director",
        "assistant director",
        "deputy director",
        "assistant vice president",
        "associate vice president",
        "owner",
        "founder",
    )
)
# Head words and rank phrases that name no occupation by themselves; any specific phrase beats them.
GENERIC_PHRASES = RANK_PHRASES | frozenset(
    (
        "analyst",
        "manager",
        "engineer",
        "specialist",
        "consultant",
        "associate",
        "coordinator",
        "assistant",
        "administrator",
        "officer",
        "advisor",
        "adviser",
        "developer",
        "scientist",
        "technician",
        "senior manager",
        "senior analyst",
        "engineering",
        "data",
        "ai",
        "machine learning",
        "product",
        "operations",
        "administrative",
        "creative",
    )
)
# "Director, Engineering" and "VP Sales" read as "director of engineering" and "vice president of sales".
_RANK_FIELD = re.compile(r"\b(head|director|vice president)(?= (?!of\b)\S)")
TYPO_CUTOFF = 88.0
FUZZY_CUTOFF = 88.0


@dataclass(frozen=True)
class RoleMatch:
    """The role family a title resolved to, its SOC code, and how sure the match is (0-1)."""

    family: str
    soc: str | None
    score: float


@dataclass(frozen=True)
class RoleFamily:
    """One taxonomy row: family name, SOC 2018 code and the group it belongs to."""

    family: str
    soc: str
    group: str


class _Roles:
    """The compiled roles taxonomy: phrase matcher, known words and phrases for fuzzy lookups."""

    def __init__(self) -> None:
        self.families: dict[str, RoleFamily] = {}
        phrases: dict[str, str] = {}
        for row in read_rows("roles.csv"):
            family = RoleFamily(row["family"], row["soc"], row["group"])
            self.families[family.family] = family
            for keyword in row["keywords"].split("|"):
                key = _role_words(keyword)
                if key:
                    phrases.setdefault(key, family.family)
        self.phrases = phrases
        self.matcher: PhraseMatcher[str] = PhraseMatcher(phrases.items())
        self.phrase_list = list(phrases)
        words = {w for p in phrases for w in p.split()}
        for row in read_rows("seniority.csv"):
            words.update(split_words(row["phrase"]).split())
        for row in read_rows("abbreviations.csv"):
            words.update(split_words(row["abbreviation"]).split())
        self.words = words
        self.long_words = sorted(w for w in words if len(w) >= 5)


@lru_cache(maxsize=1)
def _roles() -> _Roles:
    return _Roles()


def role_families() -> list[str]:
    """Every family name in the taxonomy, for documentation and validation."""
    return list(_roles().families)


def role_info(family: str) -> RoleFamily | None:
    """The taxonomy row of a family (SOC code, group), or None for unknown."""
    return _roles().families.get(family)


def _weight(phrase: str, n_tokens: int) -> float:
    return 0.25 if phrase in RANK_PHRASES else 0.5 if phrase in GENERIC_PHRASES else float(n_tokens)


def _role_words(title: str | None) -> str:
    """The normalised title as role phrases are matched: 'VP Sales' reads as 'vice president of sales'."""
    return _RANK_FIELD.sub(r"\1 of", normalize_title(title))


def _best(words: str) -> str | None:
    found = _roles().matcher.all_hits(words)
    # a phrase inside a longer one ("assistant" in "assistant director") names nothing by itself
    hits = [h for h in found if not any(o.start <= h.start and h.end <= o.end and o != h for o in found)]
    if not hits:
        return None
    best = max(hits, key=lambda h: (_weight(h.phrase, h.n_tokens), len(h.phrase), h.end))
    return best.value


def names_a_field(title: str | None) -> bool:
    """Whether a title names an occupation by a specific phrase, not only by a head word or a rank."""
    return any(hit.phrase not in GENERIC_PHRASES for hit in _roles().matcher.all_hits(_role_words(title)))


@lru_cache(maxsize=16384)
def _repair_word(word: str) -> str:
    roles = _roles()
    if len(word) < 5 or word in roles.words or word.isdigit():
        return word
    found = process.extractOne(word, roles.long_words, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
    if found is None or found[0][0] != word[0]:
        return word
    return str(found[0])


@lru_cache(maxsize=65536)
def extract_role(title: str | None) -> RoleMatch:
    """Resolve a title to a role family; titles matching nothing are explicitly 'unknown'."""
    words = _role_words(title)
    if not words:
        return RoleMatch(UNKNOWN_ROLE, None, 0.0)
    roles = _roles()
    repaired = " ".join(_repair_word(w) for w in words.split())
    family = _best(repaired)
    score = 1.0 if repaired == words else 0.9
    if family is None:
        found = process.extractOne(
            repaired, roles.phrase_list, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
        )
        if found is None:
            return RoleMatch(UNKNOWN_ROLE, None, 0.0)
        family = roles.phrases[found[0]]
        score = round(0.8 * found[1] / 100, 3)
    info = roles.families[family]
    return RoleMatch(family, info.soc, score)
