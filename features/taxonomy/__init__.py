"""Taxonomy data files (CSV) that people read and extend; loaded lazily, never at import time."""

from __future__ import annotations

import csv
import hashlib
from functools import cache
from importlib import resources

FILES = ("roles.csv", "seniority.csv", "abbreviations.csv", "skills.csv", "locations.csv")


@cache
def read_rows(name: str) -> tuple[dict[str, str], ...]:
    """Rows of one taxonomy CSV as dicts, cached so every extractor reads each file once."""
    if name not in FILES:
        raise ValueError(f"unknown taxonomy file {name!r}; expected one of {', '.join(FILES)}")
    text = resources.files("features.taxonomy").joinpath(name).read_text(encoding="utf-8")
    rows = []
    for row in csv.DictReader(text.splitlines()):
        rows.append({k: (v or "").strip() for k, v in row.items() if k is not None})
    return tuple(rows)


@cache
def version() -> str:
    """A digest of the taxonomy files, saved with each model so that reading it under other files shows."""
    digest = hashlib.sha256()
    for name in FILES:
        data = resources.files("features.taxonomy").joinpath(name).read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return f"sha256:{digest.hexdigest()}"
