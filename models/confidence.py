"""How sure an estimate is: from the training records behind it and the width of its range.

Rule (README, "Confidence"): `low` when fewer than MIN_RECORDS training records match what the record
states, when its role family or country never occurs in the training data, or when P90 is more than
WIDE times P10; `high` when at least SOLID_RECORDS records match and P90 is at most NARROW times P10;
`medium` otherwise. Product anchors: Pave hides bands under 3 entries, Lightcast wants 100 postings.
"""

from __future__ import annotations

from features.pipeline import Ignored
from features.population import MIN_RECORDS, Evidence

SOLID_RECORDS = 100
NARROW = 2.0  # P90 / P10
WIDE = 3.0
KNOWN_SHOWN = 10  # values listed when a value sent is not one the model knows


def confidence(evidence: Evidence, p10: float, p90: float) -> str:
    """high, medium or low, by the rule in the module docstring."""
    spread = p90 / p10 if p10 > 0 else float("inf")
    if evidence.thin or spread > WIDE:
        return "low"
    if evidence.records >= SOLID_RECORDS and spread <= NARROW:
        return "high"
    return "medium"


def evidence_warnings(evidence: Evidence, source: str) -> list[str]:
    """What a client must know about the evidence: parts never seen in training, thin groups."""
    where = f" ({source})" if source else ""
    out = [f"{name}: no comparable records in the training data{where}" for name in evidence.unseen]
    if not evidence.unseen and evidence.stated < MIN_RECORDS:
        out.append(
            f"only {evidence.stated} training records match this role, seniority and location{where}; "
            f"the estimate leans on the broader group {describe_group(evidence.group)}"
        )
    return out


def ignored_warnings(ignored: list[Ignored], source: str) -> list[str]:
    """What the client sent that the model never learned from: said, so nobody thinks it counted."""
    where = f" ({source})" if source else ""
    out = []
    for item in ignored:
        if item.value is None:
            out.append(f"{item.field}: not used; the training data{where} never states it")
            continue
        known = ", ".join(item.known[:KNOWN_SHOWN]) + (", ..." if len(item.known) > KNOWN_SHOWN else "")
        out.append(
            f"{item.field} {item.value!r}: not used; the training data{where} has fewer than "
            f"{item.min_count} records with it (it knows {known})"
        )
    return out


def describe_group(group: dict[str, str]) -> str:
    """A group as words, e.g. 'data_scientist × senior × US' or 'all records'."""
    return " × ".join(group.values()) or "all records"
