"""Who the training data covers: counts of records per role family, seniority and country group.

Every estimate says how many training records back it, and the same table is shown by `/v1/model`,
so clients can tell a well-supported answer from one that rests on a handful of records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any

from features.interpret import Interpretation
from features.role import UNKNOWN_ROLE
from features.seniority import stated_seniority

# Countries where a full-time salary under $10k a year is below any legal or plausible wage.
HIGH_INCOME = frozenset(
    (
        "AT",
        "AU",
        "BE",
        "CA",
        "CH",
        "DE",
        "DK",
        "ES",
        "FI",
        "FR",
        "GB",
        "HK",
        "IE",
        "IL",
        "IS",
        "IT",
        "JP",
        "KR",
        "LU",
        "NL",
        "NO",
        "NZ",
        "SE",
        "SG",
    )
)
PARTS = ("role", "seniority", "country_group")
ANY = "*"
MIN_RECORDS = 20  # below this a group's estimate is thin: it is said, and confidence is low


def country_group(country: str | None) -> str:
    """US, other high-income, rest of world, or unknown: groups with different pay levels and data."""
    if country is None:
        return "unknown"
    if country == "US":
        return "US"
    return "high_income" if country in HIGH_INCOME else "other"


# The Interpretation attributes `Population.evidence` reads.
EVIDENCE_FIELDS = ("role", "seniority", "seniority_source", "country")


def given_parts(row: Interpretation) -> dict[str, str | None]:
    """The role family, seniority and country group a record states; None where it states nothing."""
    return {
        "role": row.role if row.role != UNKNOWN_ROLE else None,
        "seniority": row.seniority,
        "country_group": country_group(row.country) if row.country is not None else None,
    }


def _key(parts: Mapping[str, str | None]) -> str:
    return "|".join(parts.get(p) or ANY for p in PARTS)


@dataclass(frozen=True)
class Evidence:
    """How many training records match what a record states, and which group that is."""

    records: int  # in `group`, the finest stated group with MIN_RECORDS (or the coarsest tried)
    group: dict[str, str]
    stated: int  # matching everything the record states
    unseen: list[str]  # stated role families or countries that never occur in training

    @property
    def thin(self) -> bool:
        """Too few records match what the record states for a band worth showing without a caveat."""
        return self.stated < MIN_RECORDS or bool(self.unseen)


class Population:
    """Record counts for every combination of stated and unstated role, seniority and country group."""

    def __init__(
        self,
        cells: Mapping[str, int],
        countries: Mapping[str, int],
        rows: int,
        source: str,
        level_seniority: bool = True,
    ) -> None:
        self.cells = dict(cells)
        # False for a model that does not use experience levels: the seniority a level implies is
        # then no part of what the record states, so it cannot thin the evidence or lower confidence.
        self.level_seniority = level_seniority
        self.countries = dict(countries)
        self.rows = rows
        self.source = source
        # Evidence depends only on a record's role, seniority and country: batches repeat them.
        self._evidence: dict[tuple[str, str | None, str | None], Evidence] = {}

    @classmethod
    def count(cls, rows: Iterable[Interpretation], source: str = "") -> Population:
        """Count once at training time; each record adds to the 8 cells it falls in."""
        cells: Counter[str] = Counter()
        countries: Counter[str] = Counter()
        n = 0
        for row in rows:
            n += 1
            parts = given_parts(row)
            if row.country is not None:
                countries[row.country] += 1
            keys = {
                _key({p: parts[p] if k else None for p, k in zip(PARTS, keep, strict=True)})
                for keep in product((True, False), repeat=len(PARTS))
            }  # a set: with a part unstated, keeping or dropping it is the same cell
            cells.update(keys)
        return cls(cells, countries, n, source)

    @classmethod
    def merge(cls, parts: Iterable[Population], source: str = "") -> Population:
        """The counts of several partitions' populations added up, as one count of all their rows."""
        parts = list(parts)
        cells = sum((Counter(part.cells) for part in parts), Counter[str]())
        countries = sum((Counter(part.countries) for part in parts), Counter[str]())
        return cls(cells, countries, sum(part.rows for part in parts), source)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON, stored with the model's metadata."""
        return {"cells": self.cells, "countries": self.countries, "rows": self.rows, "source": self.source}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], level_seniority: bool = True) -> Population:
        """The inverse of to_dict; `level_seniority` is the model's (see __init__)."""
        return cls(
            data["cells"], data["countries"], int(data["rows"]), str(data.get("source", "")), level_seniority
        )

    def size(self, **parts: str | None) -> int:
        """Training records matching the given parts (None: any value)."""
        return int(self.cells.get(_key(parts), 0))

    def margins(self) -> dict[str, dict[str, int]]:
        """Counts per role family, seniority and country, largest first, for `/v1/model`."""
        out: dict[str, dict[str, int]] = {}
        for i, part in enumerate(PARTS):
            counts = {}
            for key, n in self.cells.items():
                values = key.split("|")
                if values[i] != ANY and all(v == ANY for j, v in enumerate(values) if j != i):
                    counts[values[i]] = n
            out[part] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        out["country"] = dict(sorted(self.countries.items(), key=lambda kv: (-kv[1], kv[0])))
        return out

    def evidence(self, row: Interpretation) -> Evidence:
        """The finest stated group with enough records, dropping seniority, then country, if thin."""
        seniority = stated_seniority(row.seniority, row.seniority_source, self.level_seniority)
        key = (row.role, seniority, row.country)
        found = self._evidence.get(key)
        if found is None:
            found = self._evidence.setdefault(key, self._find_evidence(row, seniority))
        return found

    def _find_evidence(self, row: Interpretation, seniority: str | None) -> Evidence:
        parts = {**given_parts(row), "seniority": seniority}
        unseen = [
            value
            for part, value in parts.items()
            if part != "country_group" and value is not None and self.size(**{part: value}) == 0
        ]
        if row.country is not None and self.countries and row.country not in self.countries:
            unseen.append(f"country {row.country}")
        full = self.size(**parts)
        chosen = dict(parts)
        for drop in ("seniority", "country_group"):
            if self.size(**chosen) >= MIN_RECORDS:
                break
            chosen[drop] = None
        records = self.size(**chosen)
        group = {p: v for p, v in chosen.items() if v is not None}
        return Evidence(records, group, stated=full, unseen=unseen)
