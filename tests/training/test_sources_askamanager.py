"""The Ask A Manager adapter converts currencies, resolves AUD/NZD and turns bands into years."""

from __future__ import annotations

import pandas as pd
import pytest
from data_files import FIXTURES, shared_data_file

from training.currency import usd_per_unit
from training.sources import get_source
from training.sources.askamanager import experience_band_years
from training.sources.base import TARGET


@pytest.mark.parametrize(
    ("band", "years"),
    [("5-7 years", 6), ("21 - 30 years", 25.5), ("1 year or less", 0.5), ("41 years or more", 45)],
)
def test_experience_bands_become_midpoints(band: str, years: float) -> None:
    assert experience_band_years(band) == years


def test_fixture_converts_and_rejects() -> None:
    result = get_source("askamanager").read(FIXTURES / "askamanager.csv")
    frame = result.frame.set_index("title")
    assert result.rows_read == 7
    # Argentine peso is not in the rate table; AUD/NZD from Canada cannot be resolved.
    assert result.rejected == {"unparseable_salary": 1, "unknown_currency": 2}
    seattle = frame.loc["Sr. Software Eng II"]
    assert seattle[TARGET] == 120_000  # base only: the 10,000 bonus is not added
    assert (seattle["country"], seattle["region"], seattle["city"]) == ("USA", "Washington", "Seattle")
    assert seattle["description"] == "Backend payments team"
    assert seattle["years_experience"] == 6 and seattle["work_year"] == 2021
    gbp = float(usd_per_unit(pd.Series(["GBP"]), 2021).iloc[0])
    assert frame.loc["Policy Analyst", TARGET] == pytest.approx(60_000 * gbp)
    assert frame.loc["Program Manager", TARGET] == pytest.approx(85_000 * 0.7074)  # NZD, 2021
    assert frame.loc["Data Analyst", TARGET] == pytest.approx(400_000 / 8.5812)  # 'Other': SEK
    # Years in the field, not overall (11 - 20 overall, 8 - 10 in the field); overall when blank.
    assert frame.loc["Policy Analyst", "years_experience"] == 9
    assert frame.loc["Data Analyst", "years_experience"] == 3


@pytest.mark.realdata
def test_real_survey_converts_nearly_everything() -> None:
    result = get_source("askamanager").read(shared_data_file("askamanager/aam2021.csv"))
    assert sum(result.rejected.values()) < 0.01 * result.rows_read
    assert result.frame["years_experience"].notna().mean() > 0.99
