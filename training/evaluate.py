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


def _columns(quantiles: Sequence[float]) -> dict[float, int]:
    col = {round(q, 4): i for i, q in enumerate(quantiles)}
    if 0.5 not in col:
        raise ValueError(
            f"quantiles must include 0.5 for the point estimate, got {list(quantiles)}"
        )
    return col


def _intervals(col: dict[float, int]) -> list[tuple[float, float, str]]:
    return [(lo, hi, f"{quantile_name(lo)}_{quantile_name(hi)}")
            for lo, hi in ((0.1, 0.9), (0.25, 0.75)) if lo in col and hi in col]


def metric_sums(y_usd: np.ndarray, quantiles_usd: np.ndarray, quantiles: Sequence[float]) -> dict[str, float]:
    """Sums over rows that the metrics are ratios of; they add across partitions of an evaluation set."""
    y = np.asarray(y_usd, dtype=float)
    preds = np.asarray(quantiles_usd, dtype=float)
    if preds.ndim != 2 or preds.shape != (len(y), len(quantiles)):
        raise ValueError(
            f"expected predictions of shape {(len(y), len(quantiles))}, got {preds.shape}"
        )
    col = _columns(quantiles)
    p50 = preds[:, col[0.5]]
    log_y, log_p50 = np.log(y), np.log(np.maximum(p50, 1.0))
    out = {
        "n": float(len(y)),
        "abs_error": float(np.sum(np.abs(y - p50))),
        "sq_error": float(np.sum((y - p50) ** 2)),
        "y": float(np.sum(y)),
        "yy": float(np.sum(y**2)),
        "log_sq_error": float(np.sum((log_y - log_p50) ** 2)),
        "log_y": float(np.sum(log_y)),
        "log_yy": float(np.sum(log_y**2)),
    }
    for q, i in col.items():
        diff = y - preds[:, i]
        out[f"pinball_{quantile_name(q)}"] = float(np.sum(np.maximum(q * diff, (q - 1) * diff)))
        out[f"below_{quantile_name(q)}"] = float(np.sum(y < preds[:, i]))
    for lo, hi, name in _intervals(col):
        a, b = preds[:, col[lo]], preds[:, col[hi]]
        out[f"coverage_{name}"] = float(np.sum((y >= a) & (y <= b)))
        out[f"width_{name}"] = float(np.sum(b - a))
    return out


def _r2(sq_error: float, total: float, squares: float, n: float) -> float:
    denom = squares - total * total / n
    return float(1 - sq_error / denom) if denom > 0 else float("nan")


def metrics_from_sums(sums: dict[str, float], quantiles: Sequence[float], mdape: float) -> dict[str, float]:
    """The metrics from `metric_sums` added over every row, and the median absolute percentage error."""
    n = sums["n"]
    out = {
        "mae": sums["abs_error"] / n,
        "mdape": float(mdape),
        "r2": _r2(sums["sq_error"], sums["y"], sums["yy"], n),
        "r2_log": _r2(sums["log_sq_error"], sums["log_y"], sums["log_yy"], n),
        "n_eval": float(n),
    }
    col = _columns(quantiles)
    for q in col:
        # Each quantile's own promise ("1 in 10 earn less than P10"); an interval can cover the right
        # share while missing on both sides in opposite directions.
        out[f"pinball_{quantile_name(q)}"] = sums[f"pinball_{quantile_name(q)}"] / n
        out[f"below_{quantile_name(q)}"] = sums[f"below_{quantile_name(q)}"] / n
    for _, _, name in _intervals(col):
        out[f"coverage_{name}"] = sums[f"coverage_{name}"] / n
        out[f"width_{name}"] = sums[f"width_{name}"] / n
    return out


def absolute_percentage_errors(
    y_usd: np.ndarray, quantiles_usd: np.ndarray, quantiles: Sequence[float]
) -> np.ndarray:
    """|y - P50| / y per row, whose median is MdAPE."""
    y = np.asarray(y_usd, dtype=float)
    p50 = np.asarray(quantiles_usd, dtype=float)[:, _columns(quantiles)[0.5]]
    return np.abs(y - p50) / y


def regression_metrics(
    y_usd: np.ndarray, quantiles_usd: np.ndarray, quantiles: Sequence[float]
) -> dict[str, float]:
    """MAE, MdAPE, R² (salary and log salary), pinball per quantile, interval coverage and width.

    `quantiles_usd` has one column per entry of `quantiles`; the point estimate is the 0.5 column.
    """
    sums = metric_sums(y_usd, quantiles_usd, quantiles)
    mdape = float(np.median(absolute_percentage_errors(y_usd, quantiles_usd, quantiles)))
    return metrics_from_sums(sums, quantiles, mdape)


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
