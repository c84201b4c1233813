"""The job title and place a posting's text states, for records that send the text without them.

Postings often open with the title, label it ("Job Title:", "Position:", "Location:") or name it in a
phrase ("We are hiring a senior ML engineer in Seattle, WA"). Each reader tries those forms in a fixed
order on the first part of the text and returns the words as written, for the title and location
readers to interpret; nothing here guesses beyond what the text states.
"""

from __future__ import annotations

import re
from itertools import chain

from features.location import parse_location, resolve_country
from features.role import UNKNOWN_ROLE, extract_role, names_a_field
from features.skills import find_skills

HEAD_CHARS = 3000  # titles and places are stated near the top; phrases are looked for this far
MAX_TITLE_WORDS = 8
MAX_OPENING_WORDS = 12  # a first sentence this short may be "Title, City, ST."
MIN_ROLE_SCORE = 1.0  # exact phrases only: typo repair and fuzzy matching on prose find noise
_LABEL_VALUE = r"[ \t]*(?::|-|–|—)?[ \t]*(?:\n[ \t]*){0,3}(?P<value>[^\n]{2,100})"
# Short labels need a colon ("Position: X", not "Position Type"); "Job Title" may put X on the next line.
_TITLE_LABEL = re.compile(
    r"^[ \t]*(?:job title|position title|title|position|role|job)[ \t]*:[ \t]*(?P<value>[^\n]{2,100})"
    r"|^[ \t]*(?:job title|position title)[ \t]*(?:\n[ \t]*){1,3}(?P<next>[^\n]{2,100})",
    re.IGNORECASE | re.MULTILINE,
)
_PLACE_LABEL = re.compile(
    r"^[ \t]*(?:job location|work location|location|locations|based in|located in|office)"
    r"(?:[ \t]*\([^)\n]{0,20}\))?" + _LABEL_VALUE,
    re.IGNORECASE | re.MULTILINE,
)
# Words that end a title named in a phrase ("hiring a data engineer to build ...").
_STOP = (
    r"to|who|with|in|at|for|that|and|on|based|located|from|within|joining|this|our|you|is|are|will"
    r"|which|responsible|remote|onsite|on-site|hybrid"
)
_WORD = rf"(?!(?:{_STOP})\b)[\w+#/&.'-]+"
_PHRASED = re.compile(
    r"\b(?:hiring|seeking|looking for|searching for|recruiting|opportunity for|need|needs|seeks)"
    r" an? (?:(?:talented|experienced|motivated|passionate|skilled|strong) )?"
    rf"(?P<value>{_WORD}(?: {_WORD}){{0,5}})"
    rf"|\bas an? (?P<as>{_WORD}(?: {_WORD}){{0,5}}),? you(?:'ll| will)\b"
    rf"|\bjoin (?:us|our team|the team) as an? (?P<join>{_WORD}(?: {_WORD}){{0,5}})",
    re.IGNORECASE,
)
# Capitalised words after "in", "based in", "located in" ("in Seattle, WA", "in the US").
_PLACE_PHRASE = re.compile(
    r"\b(?:based in|located in|position in|role in|office in|offices in|in)"
    r"(?P<the> the)?(?: our| beautiful| downtown)? "
    r"(?P<value>[A-Z][\w'-]+(?: [A-Z][\w'-]+){0,3}(?:, ?[A-Z][\w'-]+(?: [A-Z][\w'-]+){0,2})?)"
)
# "City, ST" anywhere ("work from our Hartford, CT hub"), kept only when ST reads as that US state.
_CITY_STATE = re.compile(r"\b(?P<value>[A-Z][a-z'-]+(?: [A-Z][a-z'-]+){0,2}, (?P<state>[A-Z]{2}))\b(?!-)")
_SEGMENTS = re.compile(r"\s+[-–—|]+\s+|\s*[|(\[]\s*|\s*,\s*|:\s+")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_HEADINGS = frozenset(
    (
        "description",
        "job description",
        "position description",
        "job summary",
        "summary",
        "overview",
        "position overview",
        "job overview",
        "about the role",
        "the role",
        "the opportunity",
        "job details",
        "position summary",
        "role description",
        "job posting",
        "posting",
    )
)
# A first line starting so is a sentence ("As a Product Manager, you will ..."), not a title.
_NOT_OPENING = frozenset(
    (
        "as",
        "we",
        "our",
        "about",
        "join",
        "are",
        "you",
        "the",
        "a",
        "an",
        "who",
        "why",
        "at",
        "in",
        "hiring",
        "seeking",
        "looking",
        "now",
        "wanted",
    )
)
_SMALL_WORDS = frozenset(("of", "and", "&", "for", "in", "the", "a", "an", "to", "de", "-", "/", "or", "at"))


def _known_role(text: str) -> bool:
    match = extract_role(text[:300])
    return match.family != UNKNOWN_ROLE and match.score >= MIN_ROLE_SCORE


def _title_cased(text: str) -> bool:
    words = [w for w in re.findall(r"[\w&/+#.'-]+", text) if w.lower() not in _SMALL_WORDS]
    return bool(words) and all(w[0].isupper() or w[0].isdigit() for w in words)


def _clean(value: str) -> str:
    return " ".join(value.split()).strip(" .,;:-–—*•")


def _labelled_title(head: str) -> str | None:
    for match in _TITLE_LABEL.finditer(head):
        value = _clean(_SEGMENTS.split((match["value"] or match["next"]).strip(), maxsplit=1)[0])
        if value and len(value.split()) <= MAX_TITLE_WORDS and _known_role(value):
            return value
    return None


def _opening_title(head: str) -> str | None:
    """The first line when it reads as a title: short, capitalised, naming a known role."""
    lines = (_clean(line) for line in head.split("\n"))
    line = next((x for x in lines if x and x.lower() not in _HEADINGS), "")
    sentence = _SENTENCE_END.split(line, maxsplit=1)[0]
    parts = _SEGMENTS.split(sentence, maxsplit=1)
    first = _clean(parts[0])
    words = first.split()
    if not words or len(words) > MAX_TITLE_WORDS or first.endswith("?") or words[0].lower() in _NOT_OPENING:
        return None
    # "Acme Data Analytics, a leader in ..." opens with a company, not a title
    if sentence[len(parts[0]) :].lstrip().startswith(",") and len(sentence.split()) > MAX_OPENING_WORDS:
        return None
    # a title written in lower case counts only as its own line heading more text, as in a posting
    heading = first == line and len(head.strip().split("\n")) > 1
    if (_title_cased(first) or heading) and _known_role(first) and names_a_field(first):
        return first
    return None


def _phrased_title(head: str) -> str | None:
    for match in _PHRASED.finditer(head):
        value = _clean(match["value"] or match["as"] or match["join"] or "")
        if value and _known_role(value) and names_a_field(value):  # "a talented engineer" is no title
            return value
    return None


def posting_title(text: str | None) -> str | None:
    """The job title a posting states: a labelled line, a title-like first line, or 'hiring a X'."""
    if not text:
        return None
    head = text[:HEAD_CHARS]
    return _labelled_title(head) or _opening_title(head) or _phrased_title(head)


def _place(value: str, state: str | None = None, phrase: bool = False) -> str | None:
    """The place as written when it reads as one; with `state`, only as a city in that US state.

    Prose names many things that look like places ("in AI", "in Excel, MS Access", "in London,
    Kubernetes and Go"): a place names no skill, names a state or metro or else is a country's name
    alone, and in a phrase a country in words ("in Australia", "in the US").
    """
    value = _clean(value)
    if find_skills(value):
        value = _clean(value.split(",")[0])
    if not value or len(value) > 80 or find_skills(value):
        return None
    loc = parse_location(value)
    if loc.country is None or (state is not None and (loc.country, loc.region) != ("US", state)):
        return None
    if not (loc.region or loc.metro) and (
        resolve_country(value) != loc.country or (phrase and re.search(r"\b[A-Z]{2,3}\b", value))
    ):
        return None  # a place named by its country alone is nothing but the country
    return value


def posting_location(text: str | None) -> str | None:
    """The place a posting states: a labelled line, 'in X' or 'based in X', else any 'City, ST'."""
    if not text:
        return None
    head = text[:HEAD_CHARS]
    labelled = (_place(m["value"]) for m in _PLACE_LABEL.finditer(head))
    phrased = (_place(m["value"], phrase=not m["the"]) for m in _PLACE_PHRASE.finditer(head))
    bare = (_place(m["value"], m["state"]) for m in _CITY_STATE.finditer(head))
    return next((place for place in chain(labelled, phrased, bare) if place), None)
