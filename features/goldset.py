"""Scores of the extractors on hand-labelled gold files; one scorer for tests and benchmark."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from features.experience import parse_years
from features.interpret import interpret
from features.location import parse_location
from features.role import extract_role
from features.schema import normalize_experience_level
from features.seniority import extract_seniority
from features.skills import find_skills


@dataclass(frozen=True)
class GoldScores:
    """Accuracy and precision/recall on the gold files, with the rows that missed."""

    role_accuracy: float
    seniority_accuracy: float
    country_accuracy: float
    region_accuracy: float
    metro_accuracy: float
    skills_precision: float
    skills_recall: float
    years_accuracy: float
    posting_role_accuracy: float
    posting_place_accuracy: float
    misses: tuple[str, ...]


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def score_gold(folder: Path) -> GoldScores:
    """Run every extractor over the gold_* files in `folder` and compare with their labels."""
    misses: list[str] = []
    titles = _rows(folder, "gold_titles.csv")
    role_ok = seniority_ok = 0
    for row in titles:
        level = normalize_experience_level(row["experience_level"]) if row["experience_level"] else None
        role = extract_role(row["title"]).family
        seniority = extract_seniority(row["title"], level) or ""
        role_ok += role == row["role"]
        seniority_ok += seniority == row["seniority"]
        if role != row["role"] or seniority != row["seniority"]:
            misses.append(f"title {row['title']!r}: {role}/{seniority}")
    places = _rows(folder, "gold_locations.csv")
    country_ok = region_ok = metro_ok = 0
    for row in places:
        loc = parse_location(
            row["location"] or None,
            row["country"] or None,
            row["region"] or None,
            row["city"] or None,
        )
        read = (loc.country or "", loc.region or "", loc.metro or "")
        label = (row["expected_country"], row["expected_region"], row["expected_metro"])
        country_ok += read[0] == label[0]
        region_ok += read[1] == label[1]
        metro_ok += read[2] == label[2]
        if read != label:
            given = row["location"] or "/".join(filter(None, (row["country"], row["region"], row["city"])))
            misses.append(f"location {given!r}: {'/'.join(read)}")
    tp = fp = fn = years_ok = 0
    postings = [json.loads(line) for line in (folder / "gold_postings.jsonl").open(encoding="utf-8")]
    for post in postings:
        found, expected = set(find_skills(post["text"])), set(post["skills"])
        tp, fp, fn = (
            tp + len(found & expected),
            fp + len(found - expected),
            fn + len(expected - found),
        )
        years_ok += parse_years(post["text"]) == post["years"]
        if found != expected:
            misses.append(f"posting {post['text'][:40]!r}: +{found - expected} -{expected - found}")
    fields = [json.loads(line) for line in (folder / "gold_posting_fields.jsonl").open(encoding="utf-8")]
    posting_role_ok = posting_place_ok = 0
    for post in fields:
        understood = interpret({"description": post["text"]})
        said_role = (understood.role, understood.seniority or "")
        said_place = (understood.country or "", understood.region or "")
        posting_role_ok += said_role == (post["role"], post["seniority"])
        posting_place_ok += said_place == (post["country"], post["region"])
        if said_role != (post["role"], post["seniority"]) or said_place != (post["country"], post["region"]):
            misses.append(f"posting fields {post['text'][:40]!r}: {'/'.join((*said_role, *said_place))}")
    return GoldScores(
        role_accuracy=role_ok / len(titles),
        seniority_accuracy=seniority_ok / len(titles),
        country_accuracy=country_ok / len(places),
        region_accuracy=region_ok / len(places),
        metro_accuracy=metro_ok / len(places),
        skills_precision=tp / max(tp + fp, 1),
        skills_recall=tp / max(tp + fn, 1),
        years_accuracy=years_ok / len(postings),
        posting_role_accuracy=posting_role_ok / len(fields),
        posting_place_accuracy=posting_place_ok / len(fields),
        misses=tuple(misses),
    )
