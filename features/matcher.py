"""One multi-pattern phrase matcher (Aho-Corasick over space-joined tokens) for every extractor."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, NamedTuple, TypeVar

import ahocorasick

V = TypeVar("V")


class Hit(NamedTuple, Generic[V]):
    """One phrase found; offsets index the padded string " joined " (start: its leading space)."""

    start: int
    end: int
    phrase: str
    value: V

    @property
    def n_tokens(self) -> int:
        """How many tokens the phrase spans."""
        return self.phrase.count(" ") + 1

    def token_index(self, joined: str) -> int:
        """Position of the phrase's first token in the token list `joined` was built from."""
        return joined.count(" ", 0, max(self.start - 1, 0)) + (1 if self.start > 0 else 0)


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
        return [
            Hit(end - len(phrase) - 1, end, phrase, value)
            for end, (phrase, value) in self._automaton.iter(f" {joined} ")
        ]

    def longest_hits(self, joined: str) -> list[Hit[V]]:
        """Non-overlapping matches, the longest phrase first at each position, left to right."""
        hits = sorted(self.all_hits(joined), key=lambda h: (h.start, -h.end))
        chosen: list[Hit[V]] = []
        taken = -1
        for hit in hits:
            if hit.start >= taken:
                chosen.append(hit)
                taken = hit.end
        return chosen
