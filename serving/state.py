"""The model currently serving, swapped atomically so in-flight requests finish on the one they took."""

from __future__ import annotations

import threading

from serving.loader import LoadedModel


class ModelHolder:
    """Holds one LoadedModel reference; readers take it once per request, writers replace it whole."""

    def __init__(self) -> None:
        self._current: LoadedModel | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> LoadedModel | None:
        """The model to use for a request (a single reference read: never half-swapped)."""
        return self._current

    def swap(self, model: LoadedModel) -> LoadedModel | None:
        """Install `model` and return the previous one."""
        with self._lock:
            previous, self._current = self._current, model
        return previous
