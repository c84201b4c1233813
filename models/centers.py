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


def route_counts(keys: np.ndarray) -> np.ndarray:
    """Training rows of each route key; counts of several parts of the rows add up."""
    return np.bincount(keys, minlength=ROUTES)[:ROUTES].astype(np.int64)


def route_table(keys: Sequence[np.ndarray], parts: Sequence[frozenset[str]]) -> np.ndarray:
    """For every route key, the center that answers it, or SHARED (`routes_from_counts` of the keys)."""
    return routes_from_counts(np.array([route_counts(k) for k in keys]).reshape(len(keys), ROUTES), parts)


def routes_from_counts(counts: np.ndarray, parts: Sequence[frozenset[str]]) -> np.ndarray:
    """For every route key, the center that answers it, or SHARED, from each center's rows per key.

    A key goes to the center with the most training rows of that key, when that center saw at least
    MIN_ROUTE_ROWS of them and the key states every part the center's call states (a title counts when
    a role, a word of the vocabulary or the unread-title column reads it, so a title-only center never
    answers a record that states nothing). `counts` has one row per center, one column per route key.
    """
    table = np.full(ROUTES, SHARED, dtype=np.int64)
    if not len(counts):
        return table
    counts = np.array(counts, dtype=np.int64)
    for j, stated in enumerate(parts):
        counts[j, ~states(np.arange(ROUTES), sorted(stated))] = 0
    best = counts.argmax(axis=0)
    enough = counts.max(axis=0) >= MIN_ROUTE_ROWS
    table[enough] = best[enough]
    return table
