"""One multi-pattern phrase matcher (Aho-Corasick over space-joined tokens) for every extractor."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import ahocorasick

V = TypeVar("V")


@dataclass(frozen=True)
class Hit(Generic[V]):
    """One phrase found: token span [start, end) in the token list, the phrase and its value."""

    start: int
    end: int
    phrase: str
    value: V


class PhraseMatcher(Generic[V]):
    """Finds whole-token phrases in a space-joined token string, all phrases in one pass."""

    def __init__(self, phrases: Iterable[tuple[str, V]]) -> None:
        self._automaton = ahocorasick.Automaton()
        for phrase, value in phrases:
            key = f" {phrase} "
            if phrase and key not in self._automaton:
                self._automaton.add_word(key, (phrase, value))
        self.empty = len(self._automaton) == 0
        if not self.empty:
            self._automaton.make_automaton()

    def all_hits(self, joined: str) -> list[Hit[V]]:
        """Every match, overlapping ones included; `joined` is tokens separated by single spaces."""
        if self.empty or not joined:
            return []
        padded = f" {joined} "
        hits: list[Hit[V]] = []
        for end_char, (phrase, value) in self._automaton.iter(padded):
            start_char = end_char - len(phrase) - 1
            start = padded.count(" ", 0, start_char + 1) - 1
            hits.append(Hit(start, start + phrase.count(" ") + 1, phrase, value))
        return hits

    def longest_hits(self, joined: str) -> list[Hit[V]]:
        """Non-overlapping matches, the longest phrase first at each position, left to right."""
        hits = sorted(self.all_hits(joined), key=lambda h: (h.start, h.start - h.end))
        chosen: list[Hit[V]] = []
        taken = -1
        for hit in hits:
            if hit.start >= taken:
                chosen.append(hit)
                taken = hit.end
        return chosen
