"""Other currencies to USD at documented annual average rates; unknown codes stay unknown."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

RATES_PATH = Path(__file__).with_name("currency_rates.csv")
RATE_COLUMNS = ("currency", "usd_per_unit", "year", "source")

# Free-text spellings seen in surveys, folded to lower case, mapped to ISO 4217 codes.
CURRENCY_ALIASES = {
    "us dollar": "USD", "us dollars": "USD", "dollar": "USD", "$": "USD",
    "canadian": "CAD", "canadian dollar": "CAD", "canadian dollars": "CAD",
    "pound": "GBP", "pounds": "GBP", "sterling": "GBP", "£": "GBP",
    "euro": "EUR", "euros": "EUR", "€": "EUR",
    "mexican peso": "MXN", "mexican pesos": "MXN",
    "rupee": "INR", "rupees": "INR", "indian rupee": "INR", "indian rupees": "INR",
    "yen": "JPY", "won": "KRW", "korean won": "KRW",
    "taiwanese dollar": "TWD", "taiwanese dollars": "TWD", "ntd": "TWD", "nt$": "TWD",
    "rmb": "CNY", "yuan": "CNY", "renminbi": "CNY",
    "ringgit": "MYR", "baht": "THB", "rand": "ZAR", "real": "BRL", "reais": "BRL",
    "swiss franc": "CHF", "swiss francs": "CHF",
    "singapore dollar": "SGD", "singapore dollars": "SGD", "hong kong dollar": "HKD",
    "norwegian krone": "NOK", "danish krone": "DKK", "swedish krona": "SEK",
}
_CODE = re.compile(r"^([a-z]{3})(?:$|[\s(])")  # "BRL (R$)" yes, "AUD/NZD" no


@lru_cache(maxsize=4)
def load_rates(path: Path = RATES_PATH) -> pd.DataFrame:
    """The rate table (currency, usd_per_unit, year, source), read once per process."""
    rates = pd.read_csv(path)
    missing = [c for c in RATE_COLUMNS if c not in rates.columns]
    if missing:
        raise ValueError(f"{path}: expected columns {list(RATE_COLUMNS)}, missing {missing}")
    return rates.assign(currency=rates["currency"].str.upper())


def known_currencies() -> set[str]:
    """Codes the table can convert, plus USD."""
    return {"USD", *load_rates()["currency"]}


def normalize_currency(text: str | None) -> str | None:
    """An ISO code for a currency as typed ('usd', 'BRL (R$)', 'Mexican pesos'), or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    key = text.strip().lower().rstrip(".")
    if key in CURRENCY_ALIASES:
        return CURRENCY_ALIASES[key]
    match = _CODE.match(key)
    code = match.group(1).upper() if match else None
    return code if code in known_currencies() else None


def normalize_currencies(values: pd.Series) -> pd.Series:
    """`normalize_currency` over a column, computed once per distinct value."""
    uniques = {v: normalize_currency(v) for v in values.dropna().unique()}
    return values.map(uniques)


def usd_per_unit(currencies: pd.Series, years: pd.Series | int | None = None) -> pd.Series:
    """Rate per row: the table's year if listed, else its nearest year; NaN for unknown codes."""
    rates = load_rates()
    codes = currencies.astype("string").str.upper()
    if years is None:
        year_values = pd.Series(int(rates["year"].max()), index=currencies.index)
    elif isinstance(years, int):
        year_values = pd.Series(years, index=currencies.index)
    else:
        year_values = pd.to_numeric(years, errors="coerce").fillna(rates["year"].max())
    out = pd.Series(np.nan, index=currencies.index, dtype=float)
    out[codes == "USD"] = 1.0
    for code, table in rates.groupby("currency"):
        mask = (codes == code).fillna(False).to_numpy()
        if not mask.any():
            continue
        table_years = table["year"].to_numpy()
        wanted = year_values[mask].to_numpy(dtype=float)
        nearest = np.abs(wanted[:, None] - table_years[None, :]).argmin(axis=1)
        out[mask] = table["usd_per_unit"].to_numpy()[nearest]
    return out


def to_usd(
    amounts: pd.Series, currencies: pd.Series, years: pd.Series | int | None = None
) -> pd.Series:
    """Amounts in USD; NaN where the currency is not in the table (callers count those)."""
    return pd.to_numeric(amounts, errors="coerce") * usd_per_unit(currencies, years)
