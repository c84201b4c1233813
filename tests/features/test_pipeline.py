"""JobFeatures: names every column, handles unseen values, and is the same object after pickling."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from features.interpret import interpret
from features.pipeline import (
    CATEGORICAL,
    EMPLOYEES,
    LEVEL_RANK,
    NUMERIC,
    UNREAD_TITLE,
    JobFeatures,
    interpret_all,
)

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


def test_a_rare_or_unseen_country_is_one_of_the_rare_places_not_an_unknown_one() -> None:
    common = [{"title": "Data Engineer", "country": "US"}] * 3
    rare = [{"title": "Data Engineer", "country": c} for c in ("KE", "NG", "PK")]
    features = JobFeatures(min_count=2).fit([*common, *rare])
    column = list(features.get_feature_names_out()).index("country")
    us, ke, never_seen, unstated = features.transform(
        [common[0], rare[0], {"title": "Data Engineer", "country": "BO"}, {"title": "Data Engineer"}]
    )[:, column]
    assert not np.isnan(ke) and ke != us
    assert never_seen == ke  # pooled with the rare places the model saw
    assert np.isnan(unstated)  # not stated stays unknown


def test_too_few_rare_places_get_no_pooled_code() -> None:
    records = [{"title": "Data Engineer", "country": c} for c in ("US", "US", "US", "KE")]
    features = JobFeatures(min_count=2).fit(records)
    column = list(features.get_feature_names_out()).index("country")
    assert np.isnan(features.transform([records[-1]])[0, column])


def test_skills_not_listed_are_unknown_and_a_listed_one_is_known() -> None:
    features = JobFeatures(min_count=1).fit(RECORDS)
    names = list(features.get_feature_names_out())
    none, some = features.transform(
        [{"title": "Data Engineer"}, {"title": "Data Engineer", "skills": ["k8s"]}]
    )
    skill_cols = [i for i, n in enumerate(names) if n.startswith("skill__")]
    assert np.isnan(none[skill_cols]).all()
    assert some[names.index("skill__Kubernetes")] == 1.0
    assert not np.isnan(some[skill_cols]).any() and some[skill_cols].sum() == 1.0
    assert "skill_count" not in names  # the list's length is no feature: only what the skills are worth


def test_an_unreadable_title_leaves_the_role_missing() -> None:
    features = JobFeatures(min_count=1).fit([*RECORDS, {"title": "Zookeeper"}])
    row = features.transform([{"title": "Zookeeper"}])[0]
    assert np.isnan(row[list(features.get_feature_names_out()).index("role")])


UNREADABLE = ["Zqvrt Plonk", "Vexmor Tandril", "Krulp Wazzle", "Frindle Obvax", "Quomble Jistr"]


def test_a_title_sent_but_unread_is_told_apart_from_no_title() -> None:
    features = JobFeatures(min_count=5).fit([*RECORDS * 5, *({"title": t} for t in UNREADABLE)])
    names = list(features.get_feature_names_out())
    assert names[-1] == UNREAD_TITLE  # last, so the columns of models fitted before it keep their place
    unread, untitled, read = features.transform(
        [{"title": "Blorvin Skeet"}, {"location": "NYC"}, {"title": "Data Scientist"}]
    )[:, -1]
    assert (unread, untitled, read) == (1.0, 0.0, 0.0)


def test_no_unread_column_without_enough_unread_titles_to_learn_from() -> None:
    features = JobFeatures(min_count=5).fit([*RECORDS * 5, *({"title": t} for t in UNREADABLE[:4])])
    assert UNREAD_TITLE not in features.get_feature_names_out()


def test_a_pipeline_pickled_before_the_unread_column_existed_still_transforms() -> None:
    features = JobFeatures(min_count=5).fit(RECORDS * 5)
    state = dict(features.__getstate__())
    state.pop("unread_col_")  # what a bundle saved by an earlier version holds
    old = JobFeatures.__new__(JobFeatures)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.transform(RECORDS), features.transform(RECORDS))


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


def test_headcount_is_a_column_only_when_training_rows_give_it() -> None:
    without = JobFeatures(min_count=1).fit(RECORDS)
    assert EMPLOYEES not in without.feature_names_
    sized = [{**r, "company_employees": n} for r, n in zip(RECORDS, (12, 300, None, 20_000), strict=True)]
    features = JobFeatures(min_count=1).fit(sized)
    names = list(features.get_feature_names_out())
    assert names[-1] == EMPLOYEES  # after every other column: older models keep their layout
    column = features.transform(sized)[:, -1]
    np.testing.assert_allclose(column[[0, 1, 3]], np.log10([12, 300, 20_000]))
    assert np.isnan(column[2])
    others = [i for i, n in enumerate(names[:-1]) if n != "company_size_rank"]  # S/M/L comes from headcount
    np.testing.assert_array_equal(
        features.transform(RECORDS)[:, others], features.transform(sized)[:, others]
    )
    assert features.transform(sized)[1, names.index("company_size_rank")] == 2.0  # 300 people: L


def test_a_pipeline_pickled_before_headcount_existed_still_transforms() -> None:
    features = JobFeatures(min_count=1).fit(RECORDS)
    state = dict(features.__getstate__())
    state.pop("employees_col_")  # what a bundle saved by an earlier version holds
    old = JobFeatures.__new__(JobFeatures)
    old.__setstate__(state)
    sized = [{**r, "company_employees": 500} for r in RECORDS]
    as_size_code = [{**r, "company_size": "L"} for r in RECORDS]  # 500 people, as an older model reads it
    np.testing.assert_array_equal(old.transform(sized), features.transform(as_size_code))


def test_headcount_gives_the_size_code_unless_one_is_given() -> None:
    assert [interpret({"company_employees": n}).company_size for n in (49, 50, 250, 251)] == [
        "S",
        "M",
        "M",
        "L",
    ]
    assert interpret({"company_employees": 10, "company_size": "l"}).company_size == "L"
    odd = interpret({"company_employees": -3})
    assert odd.company_employees is None and odd.company_size is None
    assert any("company_employees" in w for w in odd.warnings)


def test_columns_do_not_depend_on_string_hashing() -> None:
    import os
    import subprocess
    import sys

    script = (
        "from features.pipeline import JobFeatures; from tests.features.test_pipeline import RECORDS; "
        "print('|'.join(JobFeatures(min_count=1).fit(RECORDS * 3).feature_names_))"
    )
    names = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(names) == 1 and "skill__Python" in names.pop()


def test_skills_read_from_parquet_count_as_listed(tmp_path: Path) -> None:
    frame = pd.DataFrame({"title": ["Data Engineer"] * 6, "skills": [["Rust", "SQL"]] * 6})
    frame.to_parquet(tmp_path / "jobs.parquet", index=False)
    back = pd.read_parquet(tmp_path / "jobs.parquet")  # list cells come back as NumPy arrays
    assert interpret_all(back)[0].skills == interpret_all(frame)[0].skills == ["Rust", "SQL"]
    fitted = JobFeatures(min_count=1).fit(back)
    assert "skill__Rust" in fitted.get_feature_names_out()


def test_an_experience_level_is_a_monotone_rank_not_a_category() -> None:
    levels = ["entry", "mid", "senior", "executive"]
    features = JobFeatures(min_count=1).fit([{**RECORDS[1], "experience_level": lv} for lv in levels])
    names = list(features.get_feature_names_out())
    rows = features.transform([{"title": "Data Scientist", "experience_level": lv} for lv in [*levels, None]])
    np.testing.assert_array_equal(rows[:4, names.index(LEVEL_RANK)], [0.0, 1.0, 2.0, 3.0])
    assert np.isnan(rows[4, names.index(LEVEL_RANK)])
    assert np.isnan(rows[:, names.index("experience_level")]).all()  # no longer a category
    assert {"seniority_rank", LEVEL_RANK} <= set(features.monotone_increasing)


def test_without_levels_in_training_there_is_no_rank_and_seniority_is_free() -> None:
    features = JobFeatures(min_count=1).fit(RECORDS)
    assert LEVEL_RANK not in features.get_feature_names_out()
    assert features.monotone_increasing == ["years_experience"]
