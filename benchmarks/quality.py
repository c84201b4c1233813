"""Quality on real data: our bundle against simple baselines on the same cleaned, split records.

Run from the repository root: `.venv/bin/python benchmarks/quality.py`. It writes the section
"## Quality on real data (issue 4)" of benchmarks/RESULTS.md and skips when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.profiles import profiles_markdown, score_profiles  # noqa: E402
from features.interpret import Interpretation  # noqa: E402
from features.pipeline import interpret_all  # noqa: E402
from models.quantile import quantile_name  # noqa: E402
from training.cleaning import clean  # noqa: E402
from training.evaluate import regression_metrics  # noqa: E402
from training.sources import get_source  # noqa: E402
from training.sources.base import TARGET  # noqa: E402
from training.splits import Split, frame_digest, split_frame  # noqa: E402

if TYPE_CHECKING:
    from training.train import TrainConfig

DATA_ROOT = REPO_ROOT.parent / "shared" / "data"
RESULTS = REPO_ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## Quality on real data (issue 4)"
QUANTILES = (0.1, 0.5, 0.9)
SEED = 42
THREADS = 2
MIN_GROUP_ROWS = 5
RAW_MIN_CATEGORY_ROWS = 5
# Raw columns that are the salary itself (or another currency's copy of it): never features.
LEAKS = {
    "aijobs": ("salary", "salary_in_usd"),
    "stackoverflow": ("Salary", "CompTotal", "ConvertedCompYearly"),
    "askamanager": ("What is your annual salary", "How much additional monetary compensation",
                    "If your income needs additional context"),
    "postings": ("Salary Estimate",),
}


@dataclass(frozen=True)
class Benchmark:
    """A dataset and how it is split for evaluation."""

    source: str
    path: str
    temporal: bool


BENCHMARKS = (
    Benchmark("aijobs", "aijobs/salaries.csv", temporal=True),
    Benchmark("stackoverflow", "stackoverflow/so2023_us.csv", temporal=False),
    Benchmark("askamanager", "askamanager/aam2021.csv", temporal=False),
)
# The only data with a posting's full text on every row: 956 Glassdoor postings of 2020 (467 after
# cleaning), each with Glassdoor's own estimated range, whose midpoint is the target.
POSTINGS = Benchmark("postings", "glassdoor/glassdoor_jobs.csv", temporal=False)
POSTING_SEEDS = tuple(range(10))  # 93 evaluation rows a split: many splits, or one split's noise rules
Predictor = Callable[[Split, pd.DataFrame, pd.DataFrame], np.ndarray]


def global_median(split: Split, raw_train: pd.DataFrame, raw_eval: pd.DataFrame) -> np.ndarray:
    """Everyone gets the training set's P10/P50/P90."""
    qs = np.quantile(split.train[TARGET].to_numpy(dtype=float), QUANTILES)
    return np.tile(qs, (len(split.evaluation), 1))


def _group_keys(rows: list[Interpretation]) -> list[tuple[tuple[str | None, ...], ...]]:
    """Keys from the finest group (role x seniority x country) down to role alone."""
    return [
        ((r.role, r.seniority, r.country), (r.role, r.seniority), (r.role,)) for r in rows
    ]


def group_median(split: Split, raw_train: pd.DataFrame, raw_eval: pd.DataFrame) -> np.ndarray:
    """Quantiles of the finest group with enough training rows, as the feature pipeline reads it."""
    y = split.train[TARGET].to_numpy(dtype=float)
    train_keys = _group_keys(interpret_all(split.train))
    fallback = np.quantile(y, QUANTILES)
    tables: list[dict[tuple[str | None, ...], np.ndarray]] = []
    for level in range(3):
        groups: dict[tuple[str | None, ...], list[float]] = {}
        for keys, value in zip(train_keys, y, strict=True):
            groups.setdefault(keys[level], []).append(value)
        tables.append({k: np.quantile(v, QUANTILES) for k, v in groups.items()
                       if len(v) >= MIN_GROUP_ROWS})
    out = []
    for keys in _group_keys(interpret_all(split.evaluation)):
        found = next((t[k] for t, k in zip(tables, keys, strict=True) if k in t), fallback)
        out.append(found)
    return np.array(out)


def _raw_matrix(train: pd.DataFrame, evaluation: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """Numbers stay numbers; other columns become categories (rare values and near-ids dropped)."""
    x_train, x_eval = pd.DataFrame(index=train.index), pd.DataFrame(index=evaluation.index)
    for col in train.columns:
        numbers = pd.to_numeric(train[col], errors="coerce")
        if numbers.notna().mean() >= 0.9 * train[col].notna().mean() and numbers.notna().any():
            x_train[col] = numbers
            x_eval[col] = pd.to_numeric(evaluation[col], errors="coerce")
            continue
        counts = train[col].value_counts()
        frequent = counts[counts >= RAW_MIN_CATEGORY_ROWS].index
        if len(frequent) == 0 or train[col].nunique() > 0.5 * len(train):
            continue
        categories = pd.CategoricalDtype(sorted(frequent))
        x_train[col] = train[col].where(train[col].isin(frequent)).astype(categories)
        x_eval[col] = evaluation[col].where(evaluation[col].isin(frequent)).astype(categories)
    return x_train, x_eval


def raw_lightgbm(split: Split, raw_train: pd.DataFrame, raw_eval: pd.DataFrame) -> np.ndarray:
    """LightGBM on the file's own columns (no feature pipeline), one quantile booster each."""
    x_train, x_eval = _raw_matrix(raw_train, raw_eval)
    names = {c: f"raw_{i}" for i, c in enumerate(x_train.columns)}  # LightGBM refuses some chars
    x_train, x_eval = x_train.rename(columns=names), x_eval.rename(columns=names)
    y = np.log(split.train[TARGET].to_numpy(dtype=float))
    preds = []
    for q in QUANTILES:
        params = {"objective": "quantile", "alpha": q, "learning_rate": 0.05, "num_leaves": 31,
                  "min_data_in_leaf": 20, "num_threads": THREADS, "seed": SEED, "verbose": -1}
        booster = lgb.train(params, lgb.Dataset(x_train, y), num_boost_round=300)
        preds.append(np.exp(booster.predict(x_eval)))
    return np.sort(np.column_stack(preds), axis=1)


def our_bundle(split: Split, raw_train: pd.DataFrame, raw_eval: pd.DataFrame) -> np.ndarray:
    """The bundle `salary train` fits, with its own quantiles; P10/P50/P90 taken from them."""
    from training.train import TrainConfig, fit_bundle  # the training loop, as `salary train`

    bundle = fit_bundle(split.train, TrainConfig(seed=SEED, params={"num_threads": THREADS}))
    preds = bundle.predict(split.evaluation)
    index = [bundle.model.quantiles.index(q) for q in QUANTILES]
    return np.asarray(preds)[:, index]


MODELS: dict[str, Predictor] = {
    "global median": global_median,
    "group median (role x seniority x country)": group_median,
    "LightGBM on raw columns": raw_lightgbm,
    "our bundle": our_bundle,
}


def prepare(bench: Benchmark, seed: int = SEED) -> tuple[Split, pd.DataFrame, pd.DataFrame, str]:
    """Adapter, cleaning and split (`seed` draws a random one), plus the raw columns of the same rows."""
    path = DATA_ROOT / bench.path
    result = get_source(bench.source).read(path)
    frame, report = clean(result.frame, bench.source, keep_index=True)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], low_memory=False)
    raw = raw.iloc[result.kept_rows or list(range(len(raw)))].reset_index(drop=True)
    leaks = LEAKS.get(bench.source, ())
    raw = raw[[c for c in raw.columns if not c.startswith(leaks)]]
    raw = raw.loc[frame.index].reset_index(drop=True)
    frame = frame.reset_index(drop=True)
    positions = np.arange(len(frame))
    tagged = frame.assign(_pos=positions)
    split = split_frame(tagged, seed=seed, temporal=bench.temporal)
    train_pos, eval_pos = split.train.pop("_pos").to_numpy(), split.evaluation.pop("_pos").to_numpy()
    split = split_frame_digest(split)
    summary = (f"{result.rows_read} rows read, {sum(result.rejected.values())} rejected by the "
               f"adapter, {report.rows_out} after cleaning ({report.dropped}); {split.description}; "
               f"{len(split.train)} train / {len(split.evaluation)} evaluation rows, "
               f"evaluation digest {split.digest}")
    raw_train, raw_eval = (raw.iloc[p].reset_index(drop=True) for p in (train_pos, eval_pos))
    return split, raw_train, raw_eval, summary


def split_frame_digest(split: Split) -> Split:
    """The digest of the evaluation rows without the benchmark's bookkeeping column."""
    return Split(split.train, split.evaluation, split.kind, split.description,
                 frame_digest(split.evaluation))


def run(bench: Benchmark) -> tuple[str, pd.DataFrame]:
    """Every model on one dataset; a table of the shared metrics."""
    split, raw_train, raw_eval, summary = prepare(bench)
    y = split.evaluation[TARGET].to_numpy(dtype=float)
    rows = []
    for name, predict in MODELS.items():
        start = time.perf_counter()
        try:
            preds = predict(split, raw_train, raw_eval)
        except Exception as exc:  # a failing model is a result to report, not a crash
            print(f"  {bench.source:<14} {name:<44} FAILED: {exc}", flush=True)
            rows.append({"model": f"{name} (failed: {str(exc)[:80]})"})
            continue
        metrics = regression_metrics(y, preds, QUANTILES)
        rows.append({"model": name, **metrics, "seconds": time.perf_counter() - start})
        print(f"  {bench.source:<14} {name:<44} MAE {metrics['mae']:>9,.0f}", flush=True)
    return summary, pd.DataFrame(rows)


SECTION_CALIBRATION = "## Model quality and calibration (issue 5)"
ALL_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
MAE_GAIN_TARGET = {"aijobs": 0.03, "stackoverflow": 0.06, "askamanager": 0.15}
KINDS = ("lightgbm", "global_median", "group_median", "ridge")
TUNED_PARAMS: list[Path] = []  # `salary tune` outputs for the lightgbm bundle; none keeps the defaults


def floor_mae(evaluation: pd.DataFrame) -> float:
    """MAE of each evaluation record's own group median over identical feature values (in-sample)."""
    keys = pd.util.hash_pandas_object(evaluation.drop(columns=[TARGET]).map(repr), index=False)
    y = evaluation[TARGET].astype(float)
    return float((y - y.groupby(keys).transform("median")).abs().mean())


def tuned_config(config: TrainConfig, source: str) -> TrainConfig:
    """The source's `salary tune` parameters (threads kept) when --tuned-params names a file."""
    from dataclasses import replace

    from training import tuned_params

    entries = [tuned_params.read(path).get(source) for path in TUNED_PARAMS]
    entry = next((e for e in entries if e), None)
    if not entry:
        return config
    return replace(config, params={**entry["params"], "num_threads": THREADS},
                   num_boost_round=int(entry.get("num_boost_round", config.num_boost_round)))


def run_calibration(bench: Benchmark) -> tuple[str, pd.DataFrame]:
    """Every model kind of `salary train --model-kind` plus raw LightGBM, all five quantiles."""
    from dataclasses import replace

    from training.train import TrainConfig, fit_bundle

    split, raw_train, raw_eval, summary = prepare(bench)
    y = split.evaluation[TARGET].to_numpy(dtype=float)
    config = TrainConfig(seed=SEED, params={"num_threads": THREADS})
    rows = []
    for kind in KINDS:
        start = time.perf_counter()
        kind_config = tuned_config(config, bench.source) if kind == "lightgbm" else config
        bundle = fit_bundle(split.train, replace(kind_config, model_kind=kind))
        metrics = regression_metrics(y, bundle.predict(split.evaluation), ALL_QUANTILES)
        rows.append({"model": kind, **metrics, "seconds": time.perf_counter() - start})
        print(f"  {bench.source:<14} {kind:<20} MAE {metrics['mae']:>9,.0f}", flush=True)
    start = time.perf_counter()
    raw = raw_lightgbm(split, raw_train, raw_eval)
    rows.append({"model": "LightGBM on raw columns", **regression_metrics(y, raw, QUANTILES),
                 "seconds": time.perf_counter() - start})
    table = pd.DataFrame(rows)
    ours, plain = table["mae"].iloc[0], table["mae"].iloc[-1]
    gain, target = 1 - ours / plain, MAE_GAIN_TARGET[bench.source]
    cov80, cov50 = table["coverage_p10_p90"].iloc[0], table["coverage_p25_p75"].iloc[0]
    n = len(y)
    below = below_shares(table.iloc[0])
    nominal = " / ".join(f"{q:.0%}" for q in ALL_QUANTILES)
    checks = [
        f"MAE {ours:,.0f} vs {plain:,.0f} for LightGBM on raw columns: {gain:+.1%} better "
        f"(target ≥ {target:.0%}: {'met' if gain >= target else 'NOT met'})",
        f"P10–P90 coverage {cov80:.1%} (target 78–82%: {'met' if 0.78 <= cov80 <= 0.82 else 'NOT met'})",
        f"P25–P75 coverage {cov50:.1%} (target 48–52%: {'met' if 0.48 <= cov50 <= 0.52 else 'NOT met'})",
        f"sampling error of a coverage on {n:,} evaluation rows (1.96 standard errors at nominal): "
        f"±{1.96 * (0.16 / n) ** 0.5:.1%} at 80%, ±{1.96 * (0.25 / n) ** 0.5:.1%} at 50%",
        f"share of evaluation salaries below P10 / P25 / P50 / P75 / P90: {below} (nominal {nominal})",
    ]
    if bench.temporal:
        checks.append(f"floor (evaluation records' own group median over identical feature values, "
                      f"in-sample): MAE {floor_mae(split.evaluation):,.0f}")
    return summary + "\n\n" + "\n".join(f"- {c}" for c in checks), table


def below_shares(metrics: Mapping[str, Any]) -> str:
    """Each quantile's own promise in one cell: the share of salaries below P10 / P25 / ... / P90."""
    return " / ".join(f"{metrics[f'below_{quantile_name(q)}']:.1%}" for q in ALL_QUANTILES)


def run_split_seeds(bench: Benchmark, seeds: list[int]) -> str:
    """The bundle against raw LightGBM on other random evaluation splits: how much one split's luck moves."""
    from dataclasses import replace

    from training.train import TrainConfig, fit_bundle

    if bench.temporal:
        return f"{bench.source}: its evaluation set is a year, not a random draw; nothing to vary"
    names = [quantile_name(q) for q in ALL_QUANTILES]
    lines = ["| split seed | evaluation rows | MAE $ | raw LightGBM MAE $ | better by | P10–P90 | P25–P75 | "
             "share below " + " / ".join(n.upper() for n in names) + " |", "|---:" * 8 + "|"]
    gains, cov80, cov50 = [], [], []
    for seed in seeds:
        split, raw_train, raw_eval, _ = prepare(bench, seed)
        y = split.evaluation[TARGET].to_numpy(dtype=float)
        config = tuned_config(TrainConfig(seed=SEED, params={"num_threads": THREADS}), bench.source)
        ours = regression_metrics(y, fit_bundle(split.train, replace(config, model_kind="lightgbm"))
                                  .predict(split.evaluation), ALL_QUANTILES)
        raw = regression_metrics(y, raw_lightgbm(split, raw_train, raw_eval), QUANTILES)
        gains.append(1 - ours["mae"] / raw["mae"])
        cov80.append(ours["coverage_p10_p90"])
        cov50.append(ours["coverage_p25_p75"])
        below = below_shares(ours)
        lines.append(f"| {seed} | {len(y):,} | {ours['mae']:,.0f} | {raw['mae']:,.0f} | {gains[-1]:.1%} | "
                     f"{cov80[-1]:.1%} | {cov50[-1]:.1%} | {below} |")
        print(f"  {bench.source:<14} split seed {seed:<4} MAE {ours['mae']:>9,.0f}", flush=True)
    lines.append(f"| mean | | | | {np.mean(gains):.1%} | {np.mean(cov80):.1%} | {np.mean(cov50):.1%} | |")
    return "\n".join(lines)


SECTION_PROFILES = "## Call profiles (issue 13)"
SECTION_POSTINGS = "## Call profiles on job postings (issue 13)"
# Stack Overflow: 1,590 evaluation rows a split, whose coverages swing by up to 8 points from split to split.
PROFILE_SEEDS = (42, 1, 2, 3, 4)


def run_profiles(bench: Benchmark, seeds: list[int]) -> pd.DataFrame:
    """The bundle on each call profile against a plain LightGBM trained on exactly that profile."""
    from dataclasses import replace

    from training.train import TrainConfig, fit_bundle

    rows = []
    for seed in [SEED] if bench.temporal else seeds:
        split = prepare(bench, seed)[0]
        config = tuned_config(TrainConfig(source=bench.source, seed=SEED, params={"num_threads": THREADS}),
                              bench.source)
        bundle = fit_bundle(split.train, config)
        rows += score_profiles(split, bundle, bench.source, seed, THREADS)
        # Today's procedure before partial copies, on full records: "no worse than today".
        y = split.evaluation[TARGET].to_numpy(dtype=float)
        before = fit_bundle(split.train, replace(config, augment_copies=0)).predict(split.evaluation)
        full = next(r for r in rows[::-1] if r["profile"] == "all fields")
        full["mae_without_copies"] = regression_metrics(y, before, ALL_QUANTILES)["mae"]
    return pd.DataFrame(rows)


def postings_section(seeds: list[int]) -> str:
    """Call profiles on postings, with the spread of the MAE ratio over the many small splits."""
    table = run_profiles(POSTINGS, seeds)
    spread = ["| profile | MAE ratio per split: mean ± 1.96 se | min – max |", "|---|---:|---:|"]
    for profile, group in table.groupby("profile", sort=False):
        ratios = group["ratio"].to_numpy()
        half = 1.96 * float(np.std(ratios, ddof=1)) / len(ratios) ** 0.5 if len(ratios) > 1 else float("nan")
        spread.append(
            f"| {profile} | {ratios.mean():.3f} ± {half:.3f} | {ratios.min():.3f} – {ratios.max():.3f} |"
        )
    return "\n".join([
        SECTION_POSTINGS, "",
        f"Run {dt.date.today().isoformat()} with `.venv/bin/python benchmarks/quality.py --postings` on "
        f"{platform.machine()} Linux, 2 cores, 24 GiB; {THREADS} LightGBM threads. Data: "
        f"{POSTINGS.path}, the only dataset with a posting's text on every row; the target is the "
        "midpoint of Glassdoor's estimated range, not a paid salary. Random 20% splits with seeds "
        f"{', '.join(map(str, seeds))}; the splits overlap, so the coverage errors below, computed as "
        "if every evaluation row were new, are too small. Each profile is as in \"Call profiles\"; "
        "`posting text only` sends the description alone (no title, location or company fields).", "",
        profiles_markdown(table), "", *spread, ""])


def calibration_markdown(table: pd.DataFrame) -> str:
    """One row per model kind: point error, both intervals' coverage and width."""
    cols = [("mae", "MAE $", "{:,.0f}"), ("mdape", "MdAPE", "{:.1%}"), ("r2_log", "R² log", "{:.3f}"),
            ("coverage_p10_p90", "P10–P90 coverage", "{:.1%}"),
            ("width_p10_p90", "P10–P90 width $", "{:,.0f}"),
            ("coverage_p25_p75", "P25–P75 coverage", "{:.1%}"),
            ("width_p25_p75", "P25–P75 width $", "{:,.0f}"), ("seconds", "fit+predict s", "{:.0f}")]
    lines = ["| model | " + " | ".join(h for _, h, _ in cols) + " |", "|---|" + "---:|" * len(cols)]
    for _, row in table.iterrows():
        cells = [fmt.format(row[key]) if pd.notna(row.get(key)) else "–" for key, _, fmt in cols]
        lines.append(f"| {row['model']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_markdown(table: pd.DataFrame) -> str:
    """One row per model with the metrics people compare."""
    cols = [("mae", "MAE $", "{:,.0f}"), ("mdape", "MdAPE", "{:.1%}"), ("r2", "R²", "{:.3f}"),
            ("r2_log", "R² log", "{:.3f}"), ("pinball_p10", "pinball P10", "{:,.0f}"),
            ("pinball_p50", "pinball P50", "{:,.0f}"), ("pinball_p90", "pinball P90", "{:,.0f}"),
            ("coverage_p10_p90", "P10–P90 coverage", "{:.1%}"),
            ("width_p10_p90", "P10–P90 mean width $", "{:,.0f}"), ("seconds", "fit+predict s",
                                                                    "{:.1f}")]
    lines = ["| model | " + " | ".join(h for _, h, _ in cols) + " |",
             "|---|" + "---:|" * len(cols)]
    for _, row in table.iterrows():
        cells = [fmt.format(row[key]) if pd.notna(row.get(key)) else "–" for key, _, fmt in cols]
        lines.append(f"| {row['model']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_section(body: str, section: str = SECTION) -> None:
    """Replace only this benchmark's section of RESULTS.md, creating the file if needed."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = text.find(section)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        end = text.find("\n## ", start + len(section))
        # The next section starts on a line of its own, after a blank line, whatever the body ends with.
        text = text[:start] + (body.rstrip("\n") + "\n\n" + text[end + 1:] if end != -1 else body)
    RESULTS.write_text(text.rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark and record the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md")
    parser.add_argument("--only", choices=[b.source for b in BENCHMARKS], action="append")
    parser.add_argument("--calibration", action="store_true",
                        help=f"every model kind, five quantiles: writes {SECTION_CALIBRATION!r}")
    parser.add_argument("--tuned-params", type=Path, metavar="PATH", action="append", default=[],
                        help="`salary tune` output: the lightgbm bundle uses it (--calibration)")
    parser.add_argument("--profiles", action="store_true",
                        help="each call profile against a plain LightGBM on its fields: writes "
                        f"{SECTION_PROFILES!r}")
    parser.add_argument("--postings", action="store_true",
                        help="each call profile, posting text only included, on Glassdoor's postings: "
                        f"writes {SECTION_POSTINGS!r}")
    parser.add_argument("--split-seeds", type=int, nargs="+", metavar="SEED",
                        help="instead: the lightgbm bundle and raw LightGBM on these random evaluation "
                        "splits (prints only)")
    args = parser.parse_args(argv)
    global TUNED_PARAMS
    TUNED_PARAMS = args.tuned_params
    if not DATA_ROOT.exists():
        print(f"skipped: real data not found at {DATA_ROOT} (see its README for the datasets)")
        return 0
    if args.postings:
        body = postings_section(args.split_seeds or list(POSTING_SEEDS))
        print(body)
        if not args.no_write:
            write_section(body, SECTION_POSTINGS)
        return 0
    if args.profiles:
        tables = [run_profiles(b, args.split_seeds or list(PROFILE_SEEDS))
                  for b in BENCHMARKS if not args.only or b.source in args.only]
        body = "\n".join([
            SECTION_PROFILES, "",
            f"Run {dt.date.today().isoformat()} with `.venv/bin/python benchmarks/quality.py --profiles` on "
            f"{platform.machine()} Linux, 2 cores, 24 GiB; {THREADS} LightGBM threads. aijobs: the temporal "
            f"split (one evaluation year); Stack Overflow and Ask A Manager: random splits with seeds "
            f"{', '.join(map(str, args.split_seeds or PROFILE_SEEDS))}, averaged. The plain model is our "
            "feature columns and one LightGBM quantile booster per P10/P50/P90, trained on the profile's "
            "fields only; ours is one bundle per split, fitted as `salary train` fits it.", "",
            profiles_markdown(pd.concat(tables, ignore_index=True)), ""])
        print(body)
        if not args.no_write:
            write_section(body, SECTION_PROFILES)
        return 0
    if args.split_seeds:
        for bench in BENCHMARKS:
            if not args.only or bench.source in args.only:
                print(f"### {bench.source}\n\n{run_split_seeds(bench, args.split_seeds)}\n", flush=True)
        return 0
    section = SECTION_CALIBRATION if args.calibration else SECTION
    parts = [
        section,
        "",
        f"Run {dt.date.today().isoformat()} with `.venv/bin/python benchmarks/quality.py` on "
        f"{platform.machine()} Linux, 2 cores, 24 GiB; {THREADS} LightGBM threads; seed {SEED}. "
        "Data: the real files under ../shared/data (see docs/data.md), through the project's "
        "adapters and cleaning. Quantiles P10/P50/P90; point metrics use P50. Amounts in USD.",
        "",
    ]
    if args.calibration:
        parts[2] = parts[2].replace("Quantiles P10/P50/P90", "Quantiles P10/P25/P50/P75/P90 (raw LightGBM: "
                                    "P10/P50/P90, as in issue 4)")
    for bench in BENCHMARKS:
        if args.only and bench.source not in args.only:
            continue
        print(f"{bench.source}:", flush=True)
        if args.calibration:
            summary, table = run_calibration(bench)
            parts += [f"### {bench.source}", "", summary, "", calibration_markdown(table), ""]
        else:
            summary, table = run(bench)
            parts += [f"### {bench.source}", "", summary, "", to_markdown(table), ""]
    body = "\n".join(parts)
    print(body)
    if not args.no_write:
        write_section(body, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
