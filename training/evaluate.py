"""One set of metric definitions for every model kind, so MLflow runs compare without translation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.quantile import quantile_name

# The metrics a data scientist sorts and compares runs by, in this order, under the same names in MLflow,
# `salary compare`, the retrain gate's table and the comparison notebook. The rest stay on the run.
HEADLINE = (
    "mae",
    "mdape",
    "r2_log",
    "coverage_p10_p90",
    "coverage_p25_p75",
    "width_p10_p90",
    "mae_vs_group_median",
)
REFERENCE_BASELINE = "group_median"  # the baseline `mae_vs_group_median` divides by


def relative_to_reference(metrics: dict[str, float], reference_mae: float | None) -> dict[str, float]:
    """`metrics` with `mae_vs_group_median` (MAE over the group-median baseline's, same rows) when known."""
    if reference_mae is None or not reference_mae > 0:
        return dict(metrics)
    return {**metrics, "mae_vs_group_median": metrics["mae"] / reference_mae}


def pinball_loss(y: np.ndarray, pred: np.ndarray, q: float) -> float:
    """Mean quantile (pinball) loss of predictions `pred` for quantile `q`."""
    diff = y - pred
    return float(np.mean(np.maximum(q * diff, (q - 1) * diff)))


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    denom = float(np.sum((y - y.mean()) ** 2))
    return float(1 - np.sum((y - pred) ** 2) / denom) if denom > 0 else float("nan")


def regression_metrics(
    y_usd: np.ndarray, quantiles_usd: np.ndarray, quantiles: Sequence[float]
) -> dict[str, float]:
    """MAE, MdAPE, R² (salary and log salary), pinball per quantile, interval coverage and width.

    `quantiles_usd` has one column per entry of `quantiles`; the point estimate is the 0.5 column.
    """
    y = np.asarray(y_usd, dtype=float)
    preds = np.asarray(quantiles_usd, dtype=float)
    if preds.ndim != 2 or preds.shape != (len(y), len(quantiles)):
        raise ValueError(
            f"expected predictions of shape {(len(y), len(quantiles))}, got {preds.shape}"
        )
    col = {round(q, 4): i for i, q in enumerate(quantiles)}
    if 0.5 not in col:
        raise ValueError(
            f"quantiles must include 0.5 for the point estimate, got {list(quantiles)}"
        )
    p50 = preds[:, col[0.5]]
    out = {
        "mae": float(np.mean(np.abs(y - p50))),
        "mdape": float(np.median(np.abs(y - p50) / y)),
        "r2": _r2(y, p50),
        "r2_log": _r2(np.log(y), np.log(np.maximum(p50, 1.0))),
        "n_eval": float(len(y)),
    }
    for q, i in col.items():
        out[f"pinball_{quantile_name(q)}"] = pinball_loss(y, preds[:, i], q)
        # Each quantile's own promise ("1 in 10 earn less than P10"); an interval can cover the right
        # share while missing on both sides in opposite directions.
        out[f"below_{quantile_name(q)}"] = float(np.mean(y < preds[:, i]))
    for lo, hi in ((0.1, 0.9), (0.25, 0.75)):
        if lo in col and hi in col:
            a, b = preds[:, col[lo]], preds[:, col[hi]]
            name = f"{quantile_name(lo)}_{quantile_name(hi)}"
            out[f"coverage_{name}"] = float(np.mean((y >= a) & (y <= b)))
            out[f"width_{name}"] = float(np.mean(b - a))
    return out


def segment_metrics(
    y_usd: np.ndarray,
    quantiles_usd: np.ndarray,
    quantiles: Sequence[float],
    segments: pd.Series,
    min_rows: int = 30,
) -> pd.DataFrame:
    """The same metrics per segment (role family, seniority, country group), for segments with enough rows."""
    rows = []
    keys = segments.fillna("unknown").astype(str).to_numpy()
    for key in sorted(set(keys)):
        mask = keys == key
        if mask.sum() < min_rows:
            continue
        m = regression_metrics(np.asarray(y_usd)[mask], np.asarray(quantiles_usd)[mask], quantiles)
        rows.append({"segment": key, **m})
    return pd.DataFrame(rows)
