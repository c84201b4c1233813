"""Skills from a list or from free text, resolved through the skills taxonomy's aliases.

Aliases in skills.csv may carry a marker for words that are also plain English:
'=' needs a capital letter in the text ('Rust', not 'rust'); '~' also rejects verb use
('Excel', not 'excel at'); '!' needs a capital and a list context ('R, Python', 'in Go').
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from features.matcher import Hit, PhraseMatcher
from features.taxonomy import read_rows
from features.text import fold, to_ascii


def _words(text: str) -> frozenset[str]:
    """A set of words written as one string, for the short word lists below."""
    return frozenset(text.split())


_TOKEN = re.compile(r"\.?[a-z0-9]+[+#]*(?:\.[a-z0-9]+[+#]*)*", re.IGNORECASE)
_BEFORE_WORDS = _words(
    "in with like using including e.g as plus both either of knowledge languages language "
    "experience skills"
)
_AFTER_WORDS = _words(
    "programming language languages code coding developer developers scripts scripting studio "
    "shiny lang skills experience ecosystem"
)
_JOINERS = frozenset(("and", "or"))
_VERB_FOLLOWERS = _words("at in as when within under on over to")
_BLOCK_FOLLOWERS = _words(
    "to ahead beyond through live above back out further into over the a an get be home when "
    "within under at on from it this that is was are"
)
_LIST_PUNCT = ",/();:|"


@dataclass(frozen=True)
class SkillAlias:
    """One alias: the canonical skill it stands for and the check it needs ('', '=', '~', '!')."""

    skill: str
    rule: str


@dataclass(frozen=True)
class Skill:
    """One taxonomy row: canonical name and category."""

    name: str
    category: str


def _alias_tokens(alias: str) -> str:
    return " ".join(_TOKEN.findall(fold(alias)))


@lru_cache(maxsize=1)
def _taxonomy() -> tuple[dict[str, Skill], dict[str, str], PhraseMatcher[SkillAlias]]:
    skills: dict[str, Skill] = {}
    lookup: dict[str, str] = {}
    phrases: dict[str, SkillAlias] = {}
    for row in read_rows("skills.csv"):
        name = row["skill"]
        skills[name] = Skill(name, row["category"])
        lookup.setdefault(fold(name), name)
        for raw in [name.lower(), *row["aliases"].split("|")]:
            rule = raw[0] if raw[:1] in "=~!" and raw else ""
            alias = raw[1:] if rule else raw
            key = _alias_tokens(alias)
            if not key:
                continue
            lookup.setdefault(fold(alias), name)
            lookup.setdefault(key, name)
            if key not in phrases or (rule and phrases[key].skill == name):
                phrases[key] = SkillAlias(name, rule)
    return skills, lookup, PhraseMatcher(phrases.items())


def skill_names() -> list[str]:
    """Every canonical skill in the taxonomy."""
    return list(_taxonomy()[0])


def skill_category(name: str) -> str | None:
    """The category of a canonical skill ('language', 'cloud', ...), or None if unknown."""
    skill = _taxonomy()[0].get(name)
    return skill.category if skill else None


@lru_cache(maxsize=65536)
def canonical_skill(skill: str) -> str:
    """The canonical name of one given skill, or the skill as typed (trimmed) when unknown."""
    text = " ".join(skill.split())[:100]
    _, lookup, _ = _taxonomy()
    key = fold(text)
    return lookup.get(key) or lookup.get(_alias_tokens(text)) or text


def canonical_skills(skills: Iterable[str]) -> list[str]:
    """Map given skill names to canonical names, keeping unknown ones as typed (deduplicated)."""
    seen: dict[str, None] = {}
    for skill in skills:
        if isinstance(skill, str) and (name := canonical_skill(skill)):
            seen.setdefault(name, None)
    return list(seen)


@lru_cache(maxsize=1024)
def _surface_pattern(surface: str) -> re.Pattern[str]:
    """A token as it appears in text: the tokenizer's boundaries, any separator between words."""
    body = r"[^A-Za-z0-9+#.]+".join(re.escape(part) for part in surface.split(" "))
    return re.compile(rf"(?<![A-Za-z0-9+#.]){body}(?![A-Za-z0-9+#]|\.[A-Za-z0-9])")


class _Context:
    """The text around hits, in the padded token string's coordinates; spans computed on demand."""

    def __init__(self, plain: str, padded: str, original: str, hits: list[Hit[SkillAlias]]) -> None:
        self.plain, self.padded, self.original = plain, padded, original
        self.starts = {h.start for h in hits}
        self.ends = {h.end for h in hits}

    def locate(self, hit: Hit[SkillAlias]) -> tuple[int, int] | None:
        """Where in the plain text this hit's surface occurs (the same occurrence, counted)."""
        surface = self.original[hit.start + 1 : hit.end]
        nth = self.original.count(f" {surface} ", 0, hit.start + 1)
        pattern = _surface_pattern(surface)
        for i, match in enumerate(pattern.finditer(self.plain)):
            if i == nth:
                return match.span()
        return None

    def accepts(self, hit: Hit[SkillAlias]) -> bool:
        rule, padded = hit.value.rule, self.padded
        if not any(c.isupper() for c in self.original[hit.start + 1 : hit.end]):
            return False
        next_space = padded.find(" ", hit.end + 1)
        following = padded[hit.end + 1 : next_space] if next_space != -1 else ""
        if rule == "~":
            return following not in _VERB_FOLLOWERS
        if rule != "!":
            return True
        if following in _BLOCK_FOLLOWERS:
            return False
        preceding = padded[padded.rfind(" ", 0, hit.start) + 1 : hit.start]
        span = self.locate(hit)
        if span is None:
            return False
        text = self.plain
        before = text[max(0, span[0] - 3) : span[0]].rstrip()
        after = text[span[1] : span[1] + 3].lstrip()
        if (after and after[0] in "&'’-") or (before and before[-1] in "&'’-"):
            return False
        return (
            (before != "" and before[-1] in _LIST_PUNCT)
            or (after != "" and after[0] in _LIST_PUNCT)
            or preceding in _BEFORE_WORDS
            or following in _AFTER_WORDS
            or (following in _JOINERS and hit.end + len(following) + 1 in self.starts)
            or (preceding in _JOINERS and hit.start - len(preceding) - 1 in self.ends)
        )


def find_skills(text: str | None) -> list[str]:
    """Canonical skills mentioned in free text, in order of first mention."""
    if not text:
        return []
    plain = to_ascii(text)
    original = " ".join(_TOKEN.findall(plain))
    if not original:
        return []
    joined = original.lower()
    _, _, matcher = _taxonomy()
    hits = matcher.longest_hits(joined)
    seen: dict[str, None] = {}
    context: _Context | None = None
    for hit in hits:
        alias = hit.value
        if alias.rule:
            if context is None:
                context = _Context(plain, f" {joined} ", f" {original} ", hits)
            if not context.accepts(hit):
                continue
        seen.setdefault(alias.skill, None)
    return list(seen)
