"""Currency conversion uses the documented table and never guesses an unknown code."""

from __future__ import annotations

import pandas as pd
import pytest

from training.currency import RATE_COLUMNS, load_rates, normalize_currency, to_usd


def test_table_documents_source_and_year_for_every_rate() -> None:
    rates = load_rates()
    assert set(RATE_COLUMNS) <= set(rates.columns)
    assert rates["source"].str.contains("Federal Reserve").all()
    assert not rates.duplicated(["currency", "year"]).any()


@pytest.mark.parametrize(
    ("typed", "code"),
    [("usd", "USD"), ("BRL (R$)", "BRL"), ("Mexican pesos", "MXN"), ("US Dollar", "USD"),
     ("AUD/NZD", None), ("Peso Argentino", None), ("Stock ", None), ("0", None), (None, None)],
)
def test_typed_currencies_resolve_or_stay_unknown(typed: str | None, code: str | None) -> None:
    assert normalize_currency(typed) == code


def test_conversion_uses_the_year_or_the_nearest_listed_year() -> None:
    amounts = pd.Series([100.0, 100.0, 100.0, 100.0])
    codes = pd.Series(["USD", "GBP", "GBP", "XYZ"])
    usd = to_usd(amounts, codes, pd.Series([2021, 2021, 2030, 2021]))
    assert usd[0] == 100
    assert usd[1] == pytest.approx(137.64)  # 2021 average
    assert usd[2] == pytest.approx(124.40)  # 2030 not listed: nearest year, 2023
    assert pd.isna(usd[3])
