"""Call profiles: the bundle against a plain LightGBM trained on exactly each profile's fields.

Run through `benchmarks/quality.py --profiles`. For each dataset and evaluation split, one bundle is
fitted the way `salary train` fits it; each profile blanks every other field of the evaluation rows
(and, for the dedicated model only, of the training rows), so both answer the same partial calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.pipeline import JobFeatures, interpret_all
from models.quantile import DEFAULT_PARAMS
from training.augment import SKILLS_SENT, blank_except
from training.evaluate import regression_metrics
from training.sources.base import TARGET
from training.splits import Split

PLAIN_QUANTILES = (0.1, 0.5, 0.9)
PLAIN_ROUNDS = 400
ALL_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


@dataclass(frozen=True)
class CallProfile:
    """The parts a call states; `needs` names a column the data must fill for the profile to apply."""

    name: str
    parts: frozenset[str] | None  # None: every field
    needs: str | None = None
    few_skills: bool = False


PROFILES = (
    CallProfile("all fields", None),
    CallProfile("title + location + seniority or years", frozenset({"title", "location", "experience"})),
    CallProfile("title + location", frozenset({"title", "location"})),
    CallProfile("title only", frozenset({"title"})),
    CallProfile("title + location + five skills", frozenset({"title", "location", "skills"}), "skills", True),
    CallProfile("posting text only", frozenset({"description"}), "description"),
)


def applies(profile: CallProfile, frame: pd.DataFrame) -> bool:
    """A profile needs its column filled on most rows (a posting-text call needs postings)."""
    if profile.needs is None:
        return True
    return profile.needs in frame.columns and bool(frame[profile.needs].notna().mean() > 0.9)


def restrict(frame: pd.DataFrame, profile: CallProfile, seed: int) -> pd.DataFrame:
    """The rows as this profile's call would state them: other parts blank, skills cut to five."""
    if profile.parts is None:
        return frame
    out = blank_except(frame, profile.parts)
    if profile.few_skills and "skills" in out.columns:
        rng = np.random.default_rng(seed)
        out["skills"] = [
            [s[i] for i in sorted(rng.choice(len(s), size=min(len(s), SKILLS_SENT), replace=False))]
            if isinstance(s, list) and s
            else None
            for s in out["skills"]
        ]
    return out


def plain_lightgbm(train: pd.DataFrame, evaluation: pd.DataFrame, threads: int) -> np.ndarray:
    """Our feature columns and one plain quantile booster each: no copies, trend or calibration."""
    train_rows, eval_rows = interpret_all(train), interpret_all(evaluation)
    features = JobFeatures().fit(train_rows)
    X, X_eval = features.transform_interpretations(train_rows), features.transform_interpretations(eval_rows)
    names = list(features.get_feature_names_out())
    y = np.log(train[TARGET].to_numpy(dtype=float))
    preds = []
    for q in PLAIN_QUANTILES:
        params = {**DEFAULT_PARAMS, "objective": "quantile", "alpha": q, "num_threads": threads}
        data = lgb.Dataset(X, y, feature_name=names, categorical_feature=features.categorical_features)
        preds.append(np.exp(lgb.train(params, data, PLAIN_ROUNDS).predict(X_eval)))
    return np.sort(np.column_stack(preds), axis=1)


ERROR_SUMS = ("n", "a", "b", "aa", "bb", "ab")


def error_sums(y: np.ndarray, ours: np.ndarray, plain: np.ndarray) -> dict[str, float]:
    """The moments of both models' absolute P50 errors that the paired error of their MAE ratio needs,
    kept as sums so splits pool by adding them."""
    a, b = np.abs(y - ours), np.abs(y - plain)
    return dict(zip(ERROR_SUMS, map(float, (len(a), a.sum(), b.sum(), a @ a, b @ b, a @ b)), strict=True))


def ratio_error(sums: pd.DataFrame) -> tuple[float, float]:
    """The pooled MAE ratio and 1.96 standard errors of it (delta method on the paired row errors)."""
    n, a, b, aa, bb, ab = (float(sums[k].sum()) for k in ERROR_SUMS)
    ratio = a / b
    spread = (aa - 2 * ratio * ab + ratio**2 * bb) / n - ((a - ratio * b) / n) ** 2
    return ratio, 1.96 * float(np.sqrt(max(spread, 0.0) / n)) / (b / n)


def score_profiles(split: Split, bundle: Any, source: str, seed: int, threads: int) -> list[dict[str, Any]]:
    """One row per applicable profile: the bundle's metrics, the dedicated model's MAE, their ratio."""
    y = split.evaluation[TARGET].to_numpy(dtype=float)
    rows = []
    for profile in PROFILES:
        if not applies(profile, split.train):
            continue
        evaluation = restrict(split.evaluation, profile, seed)
        preds = bundle.predict(evaluation)
        ours = regression_metrics(y, preds, ALL_QUANTILES)
        plain_preds = plain_lightgbm(restrict(split.train, profile, seed), evaluation, threads)
        plain = regression_metrics(y, plain_preds, PLAIN_QUANTILES)
        rows.append(
            {
                "source": source,
                "seed": seed,
                "profile": profile.name,
                "n_eval": len(y),
                "mae": ours["mae"],
                "plain_mae": plain["mae"],
                "ratio": ours["mae"] / plain["mae"],
                "coverage_p10_p90": ours["coverage_p10_p90"],
                "coverage_p25_p75": ours["coverage_p25_p75"],
                "plain_coverage_p10_p90": plain["coverage_p10_p90"],
                "width_ratio_p90_p10": float(np.median(preds[:, -1] / preds[:, 0])),
                **error_sums(
                    y, preds[:, ALL_QUANTILES.index(0.5)], plain_preds[:, PLAIN_QUANTILES.index(0.5)]
                ),
            }
        )
        print(
            f"  {source:<14} seed {seed:<3} {profile.name:<40} MAE {ours['mae']:>9,.0f} "
            f"({rows[-1]['ratio']:.3f}× plain) P10–P90 {ours['coverage_p10_p90']:.1%} "
            f"P25–P75 {ours['coverage_p25_p75']:.1%}",
            flush=True,
        )
    return rows


def over_splits(group: pd.DataFrame) -> str:
    """The coverages' lowest and highest split: with a few thousand training rows, where the calibration
    fold falls moves them more than the evaluation rows' binomial error says."""
    if len(group) < 2:
        return "–"
    c80, c50 = group["coverage_p10_p90"], group["coverage_p25_p75"]
    return f"{c80.min():.1%}–{c80.max():.1%} / {c50.min():.1%}–{c50.max():.1%}"


def profiles_markdown(table: pd.DataFrame) -> str:
    """Mean over splits per dataset and profile, with the sampling error of the coverages; then the
    all-fields MAE against the same bundle fitted without partial copies (the procedure before)."""
    lines = [
        "| data | profile | splits | eval rows each | MAE $ | plain LightGBM MAE $ | ratio | "
        "± (1.96 se) | P10–P90 | P25–P75 | ± (1.96 se, 80% / 50%) | P10–P90 / P25–P75 over splits | "
        "median P90/P10 |",
        "|---|---|" + "---:|" * 11,
    ]
    for (source, profile), group in table.groupby(["source", "profile"], sort=False):
        n = int(group["n_eval"].sum())
        se80, se50 = 1.96 * (0.16 / n) ** 0.5, 1.96 * (0.25 / n) ** 0.5
        ratio, half = ratio_error(group)
        lines.append(
            f"| {source} | {profile} | {len(group)} | {int(group['n_eval'].mean()):,} | "
            f"{group['mae'].mean():,.0f} | {group['plain_mae'].mean():,.0f} | "
            f"{ratio:.3f}× | ±{half:.3f} | "
            f"{group['coverage_p10_p90'].mean():.1%} | "
            f"{group['coverage_p25_p75'].mean():.1%} | ±{se80:.1%} / ±{se50:.1%} | {over_splits(group)} | "
            f"{group['width_ratio_p90_p10'].mean():.2f} |"
        )
    if "mae_without_copies" in table:
        full = table.dropna(subset=["mae_without_copies"]).groupby("source", sort=False)
        lines += ["", "| data | all-fields MAE $, with copies | without copies (before) | ratio |",
                  "|---|---:|---:|---:|"]
        for source, group in full:
            ours, before = group["mae"].mean(), group["mae_without_copies"].mean()
            lines.append(f"| {source} | {ours:,.0f} | {before:,.0f} | {ours / before:.3f}× |")
    return "\n".join(lines)
