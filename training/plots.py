"""The evaluation plots every run logs, drawn the same way for every model kind so the UI compares them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

# Figures are built without pyplot: they render with the Agg canvas, need no display (cron, CI),
# touch no global backend state and are freed with their last reference.

MAX_SCATTER_POINTS = 5000
MAX_ROLES_SHOWN = 15


def predicted_vs_actual(y: np.ndarray, p50: np.ndarray, seed: int = 0) -> Figure:
    """Log-log scatter of P50 against the true salary; a sample keeps big evaluation sets readable."""
    idx = np.arange(len(y))
    if len(idx) > MAX_SCATTER_POINTS:
        idx = np.random.default_rng(seed).choice(idx, MAX_SCATTER_POINTS, replace=False)
    fig = Figure(figsize=(6, 6))
    ax = fig.subplots()
    ax.scatter(y[idx], p50[idx], s=4, alpha=0.3)
    lo, hi = float(min(y.min(), p50.min())), float(max(y.max(), p50.max()))
    ax.plot([lo, hi], [lo, hi], color="black", linewidth=1)
    ax.set(xscale="log", yscale="log", xlabel="actual salary (USD)", ylabel="predicted P50 (USD)")
    ax.set_title("Predicted vs. actual")
    fig.tight_layout()
    return fig


def residuals_by_group(y: np.ndarray, p50: np.ndarray, groups: pd.Series, title: str) -> Figure:
    """Box plot of log(actual / P50) per group, largest groups first."""
    residual = pd.Series(np.log(y / np.maximum(p50, 1.0)), index=groups.index)
    keys = groups.fillna("unknown").astype(str)
    order = keys.value_counts().index[:MAX_ROLES_SHOWN]
    data = [residual[keys == k].to_numpy() for k in order]
    fig = Figure(figsize=(8, 0.4 * len(order) + 1.5))
    ax = fig.subplots()
    ax.boxplot(data, orientation="horizontal", showfliers=False)
    ax.set_yticks(range(1, len(order) + 1), [str(k) for k in order])
    ax.axvline(0.0, color="black", linewidth=1)
    ax.set(xlabel="log(actual / P50)", title=title)
    fig.tight_layout()
    return fig


def coverage_by_decile(y: np.ndarray, lower: np.ndarray, upper: np.ndarray, p50: np.ndarray,
                       target: float) -> Figure:
    """Share of salaries inside [lower, upper] per decile of the predicted P50, against the target."""
    deciles = pd.qcut(pd.Series(p50).rank(method="first"), 10, labels=False)
    inside = pd.Series((y >= lower) & (y <= upper)).groupby(deciles.to_numpy()).mean()
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    ax.bar(inside.index + 1, inside.to_numpy())
    ax.axhline(target, color="black", linestyle="--", linewidth=1, label=f"nominal {target:.0%}")
    ax.set(xlabel="decile of predicted P50", ylabel="interval coverage", ylim=(0, 1),
           title="Interval coverage by predicted decile")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def feature_importance(importance: pd.Series, top: int = 20) -> Figure:
    """Horizontal bars of the largest importances."""
    shown = importance.sort_values(ascending=True).tail(top)
    fig = Figure(figsize=(7, 0.3 * len(shown) + 1.5))
    ax = fig.subplots()
    ax.barh([str(i) for i in shown.index], shown.to_numpy())
    ax.set(xlabel=str(importance.name or "importance"), title="Feature importance (P50 model)")
    fig.tight_layout()
    return fig

