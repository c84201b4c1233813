"""The extractors meet their quality targets on the hand-labelled gold files."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.goldset import GoldScores, score_gold

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def scores() -> GoldScores:
    return score_gold(FIXTURES)


def test_gold_files_have_the_promised_size() -> None:
    titles = (FIXTURES / "gold_titles.csv").read_text(encoding="utf-8").splitlines()
    places = (FIXTURES / "gold_locations.csv").read_text(encoding="utf-8").splitlines()
    postings = (FIXTURES / "gold_postings.jsonl").read_text(encoding="utf-8").splitlines()
    posting_fields = (FIXTURES / "gold_posting_fields.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(titles) - 1 >= 200
    assert len(places) - 1 >= 100
    assert len(postings) >= 50
    assert len(posting_fields) >= 10


def test_role_family_accuracy(scores: GoldScores) -> None:
    assert scores.role_accuracy >= 0.85, scores.misses


def test_seniority_accuracy(scores: GoldScores) -> None:
    assert scores.seniority_accuracy >= 0.90, scores.misses


def test_country_accuracy(scores: GoldScores) -> None:
    assert scores.country_accuracy >= 0.97, scores.misses


def test_region_and_metro_agree_with_what_the_client_named(scores: GoldScores) -> None:
    assert scores.region_accuracy >= 0.97, scores.misses
    assert scores.metro_accuracy >= 0.95, scores.misses


def test_skills_precision_and_recall(scores: GoldScores) -> None:
    assert scores.skills_precision >= 0.90, scores.misses
    assert scores.skills_recall >= 0.85, scores.misses


def test_years_read_from_postings(scores: GoldScores) -> None:
    assert scores.years_accuracy >= 0.90, scores.misses


def test_title_and_place_read_from_posting_text_alone(scores: GoldScores) -> None:
    assert scores.posting_role_accuracy >= 0.9, scores.misses
    assert scores.posting_place_accuracy >= 0.9, scores.misses
