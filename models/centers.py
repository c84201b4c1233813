"""Per-profile centers: which training rows fit each one, and which rows each one answers.

One center fitted on rows and their partial copies serves every kind of call, and pays for it on the
calls clients make most (docs/model.md, "Per-profile centers"). A dedicated center is fitted on every
training row as one kind of call states it; a row is answered by the center whose training rows were
stated the way it is (its route key, models/profiles.py), and by the shared center otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.profiles import ROUTES, states

SHARED = -1  # the route of rows no dedicated center answers
MIN_ROUTE_ROWS = 100  # training rows of a route key a center needs before it answers that key


@dataclass(frozen=True)
class CenterRows:
    """The training rows (as given, in order) as one kind of call states them, and the parts it states.

    `parts` are names of models.profiles.PARTS; empty for the rows as the data gave them.
    """

    name: str
    parts: frozenset[str]
    X: np.ndarray


def route_table(keys: Sequence[np.ndarray], parts: Sequence[frozenset[str]]) -> np.ndarray:
    """For every route key, the center that answers it, or SHARED.

    A key goes to the center with the most training rows of that key, when that center saw at least
    MIN_ROUTE_ROWS of them and the key states every part the center's call states (a title that no
    role or word of the vocabulary reads is no title, so a title-only center never answers a record
    that states nothing).
    """
    table = np.full(ROUTES, SHARED, dtype=np.int64)
    counts = np.zeros((len(keys), ROUTES), dtype=np.int64)
    for j, k in enumerate(keys):
        counts[j] = np.bincount(k, minlength=ROUTES)[:ROUTES]
        counts[j, ~states(np.arange(ROUTES), sorted(parts[j]))] = 0
    if not len(keys):
        return table
    best = counts.argmax(axis=0)
    enough = counts.max(axis=0) >= MIN_ROUTE_ROWS
    table[enough] = best[enough]
    return table
