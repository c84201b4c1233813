"""Reading a frame part by part gives what `interpret` and `estimate_many` give record by record."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from features.columnar import PARTS, WITH_DESCRIPTION, matrix, read_frame
from features.interpret import Interpretation, interpret
from models.bundle import SalaryModel
from tests.records import VARIED_RECORDS
from training.score import score_frame

# Odd values in every part: bad codes, a headcount below one, free-text categories, repeats.
ODD_RECORDS: list[dict[str, object]] = [
    {"title": "Senior Data Scientist", "experience_level": "guru", "employment_type": "gig"},
    {"title": "Senior Data Scientist", "company_size": "XXL", "company_employees": 0.5},
    {"title": "sr. data engineer", "location": "Remote", "remote_ratio": 50.0, "industry": "  Fin  Tech "},
    {"title": "Data Engineer", "location": "Nowhere Land", "country": "Narnia", "education": "PhD"},
    {"title": "Data Engineer", "region": "CA", "city": "San Jose", "company_employees": 12000.0},
    {"title": "Software Engineer", "skills": [], "years_experience": 3.5, "work_year": 1800},
]


def _frame(records: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(records)


def _public(row: Interpretation) -> dict[str, object]:
    return {k: v for k, v in dataclasses.asdict(row).items() if k != "warnings"}


@pytest.mark.parametrize("layout", [PARTS, WITH_DESCRIPTION])
def test_each_interpretation_attribute_comes_from_exactly_one_part(layout: tuple) -> None:
    owned = [a for part in layout for a in part.outputs]
    expected = {f.name for f in dataclasses.fields(Interpretation)} - {"warnings"}
    assert sorted(owned) == sorted(expected)


@pytest.mark.parametrize("with_text", [False, True])
def test_a_frame_read_by_parts_is_read_as_record_by_record(with_text: bool) -> None:
    records = [*VARIED_RECORDS, *ODD_RECORDS, *ODD_RECORDS[:2]]
    if not with_text:
        records = [r for r in records if "description" not in r]
    reading = read_frame(_frame(records))
    assert reading.parts == (WITH_DESCRIPTION if with_text else PARTS)
    assert len(reading) == len(records) - 2  # the two repeats are one distinct record each
    every = tuple(f.name for f in dataclasses.fields(Interpretation) if f.name != "warnings")
    for i, record in enumerate(records):
        expected = interpret(record)
        distinct = int(reading.rows[i])
        assert _public(reading.assemble(distinct, every)) == _public(expected), record
        assert reading.warnings(distinct) == expected.warnings, record


def test_scores_by_parts_equal_estimate_many_on_varied_and_demo_records(
    demo_bundle: SalaryModel, demo_frame: pd.DataFrame
) -> None:
    demo = demo_frame.drop(columns=["salary_usd"]).iloc[:300].to_dict("records")
    records = [*VARIED_RECORDS, *ODD_RECORDS, *demo]
    frame = _frame(records)
    scored = score_frame(demo_bundle, frame)
    estimates = demo_bundle.estimate_many(records, explain=False)
    names = demo_bundle.quantile_names
    np.testing.assert_allclose(
        scored[names].to_numpy(), [[e.quantiles[n] for n in names] for e in estimates], rtol=1e-12
    )
    assert list(scored["confidence"]) == [e.confidence for e in estimates]
    assert list(scored["warnings"]) == ["; ".join(e.warnings) for e in estimates]
    evidence = [e.evidence["records"] if e.evidence else None for e in estimates]
    assert list(scored["evidence_records"]) == evidence
    reading = read_frame(frame.iloc[len(VARIED_RECORDS) + len(ODD_RECORDS):])
    X = matrix(demo_bundle.features, reading)[reading.rows]
    np.testing.assert_array_equal(X, demo_bundle.features.transform(demo))
