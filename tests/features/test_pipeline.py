"""JobFeatures: names every column, handles unseen values, and is the same object after pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from features.interpret import interpret
from features.pipeline import CATEGORICAL, NUMERIC, JobFeatures

RECORDS = [
    {"title": "Senior Data Scientist", "skills": ["Python", "SQL"], "location": "NYC"},
    {"title": "Data Scientist", "skills": ["python", "k8s"], "location": "San Francisco, CA"},
    {"title": "Software Engineer II", "skills": ["Go"], "location": "Remote - US"},
    {"title": "Staff SWE", "description": "Rust, Kubernetes. 8+ years.", "country": "US"},
]


def test_fit_transform_names_every_column() -> None:
    features = JobFeatures(min_count=1).fit(RECORDS)
    names = list(features.get_feature_names_out())
    matrix = features.transform(RECORDS)
    assert matrix.shape == (len(RECORDS), len(names))
    assert names[: len(NUMERIC) + len(CATEGORICAL)] == [*NUMERIC, *CATEGORICAL]
    assert set(features.categorical_features) <= set(names)
    assert set(features.monotone_increasing) <= set(names)
    assert "skill__Kubernetes" in names and "title__software" in names
    assert matrix[3, names.index("years_experience")] == 8.0


def test_unseen_values_become_missing_not_errors() -> None:
    features = JobFeatures(min_count=1).fit(RECORDS)
    row = features.transform([{"title": "Zookeeper", "location": "Reykjavik, Iceland"}])[0]
    names = list(features.get_feature_names_out())
    assert np.isnan(row[names.index("role")])
    assert row[names.index("skill_count")] == 0.0


def test_dataframe_dicts_and_interpretations_agree() -> None:
    features = JobFeatures(min_count=1).fit(RECORDS)
    frame = pd.DataFrame(RECORDS)
    from_dicts = features.transform(RECORDS)
    np.testing.assert_array_equal(features.transform(frame), from_dicts)
    interpreted = [interpret(r) for r in RECORDS]
    np.testing.assert_array_equal(features.transform_interpretations(interpreted), from_dicts)


def test_pickled_pipeline_transforms_identically() -> None:
    features = JobFeatures(min_count=1).fit(RECORDS)
    loaded = pickle.loads(pickle.dumps(features))
    np.testing.assert_array_equal(loaded.transform(RECORDS), features.transform(RECORDS))


def test_demo_inputs_keep_resolving() -> None:
    from training.sources.demo import generate_demo

    rows = [interpret(r) for r in generate_demo(n=200, seed=3).to_dict("records")]
    assert all(r.role != "unknown" for r in rows)
    assert all(r.country is not None for r in rows)
    assert {r.seniority for r in rows} >= {"senior", "staff", "junior"}


def test_feature_names_have_no_json_punctuation() -> None:
    records = [{"title": "Engineer", "skills": ["Linode, now Akamai", 'a"b', "x:y", "x;y"]}] * 2
    names = list(JobFeatures(min_count=1).fit(records).get_feature_names_out())
    assert not any(c in name for name in names for c in ',:"[]{}')
    assert len(names) == len(set(names))
