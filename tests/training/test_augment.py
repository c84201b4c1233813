"""The calls a dedicated center is fitted for, and the training rows as each of those calls states them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.augment import COMPLETE, SKILLS_SENT, as_called, center_profiles

ROWS = pd.DataFrame(
    {
        "title": ["Data Engineer", "Nurse"],
        "country": ["US", "DE"],
        "experience_level": ["SE", "MI"],
        "company_size": ["L", "S"],
        "skills": [[f"skill{i}" for i in range(12)], ["python"]],
    }
)


def test_each_call_states_only_its_parts_and_at_most_five_skills() -> None:
    profiles = {p.name: p for p in center_profiles(ROWS)}
    assert list(profiles) == [
        "all", "title+location+experience", "title+location", "title", "title+location+skills"
    ]
    assert as_called(ROWS, COMPLETE, np.random.default_rng(0)) is ROWS
    title_only = as_called(ROWS, profiles["title"], np.random.default_rng(0))
    assert title_only["title"].tolist() == ROWS["title"].tolist()
    assert title_only[["country", "experience_level", "company_size", "skills"]].isna().all().all()
    with_skills = as_called(ROWS, profiles["title+location+skills"], np.random.default_rng(0))
    assert [len(s) for s in with_skills["skills"]] == [SKILLS_SENT, 1]
    assert set(with_skills["skills"][0]) <= set(ROWS["skills"][0])
    assert with_skills["experience_level"].isna().all() and with_skills["country"].notna().all()


def test_data_without_skills_or_details_gets_no_center_that_would_repeat_another() -> None:
    names = [p.name for p in center_profiles(ROWS.drop(columns=["skills", "company_size"]))]
    # title + location + experience is then everything the rows state: the complete rows' center
    assert names == ["all", "title+location", "title"]
