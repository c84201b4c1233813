"""Feature-pipeline benchmark: gold-set quality, H-1B SOC agreement, posting text, speed, model quality.

Run from the repository root:  .venv/bin/python benchmarks/extraction.py [--skip-model] [--postings-only]
Parts that need ../shared/data say so and are skipped when it is absent.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.goldset import score_gold  # noqa: E402
from features.location import parse_location  # noqa: E402
from features.pipeline import JobFeatures  # noqa: E402
from features.posting import posting_location, posting_title  # noqa: E402
from features.role import extract_role  # noqa: E402

DATA = ROOT / ".." / "shared" / "data"
SKELETON_COMMIT = "6f310ad"
# SOC 2010 -> 2018 for codes common in the H-1B sample whose number changed (BLS crosswalk).
SOC_2010_TO_2018 = {
    "15-1111": "15-1221",
    "15-1121": "15-1211",
    "15-1122": "15-1212",
    "15-1131": "15-1251",
    "15-1132": "15-1252",
    "15-1133": "15-1252",
    "15-1134": "15-1254",
    "15-1141": "15-1242",
    "15-1142": "15-1244",
    "15-1143": "15-1241",
    "15-1151": "15-1232",
    "15-1152": "15-1231",
    "15-1199": "15-1299",
    "29-1069": "29-1229",
    "29-1199": "29-1299",
    "29-2011": "29-2018",
    "29-2012": "29-2018",
    "11-9039": "11-9033",
    "13-1199": "13-1199",
    "25-2054": "25-2059",
    "21-1014": "21-1018",
    "31-1014": "31-1131",
    "43-4051": "43-4051",
    "13-1111": "13-1111",
}
LGBM_PARAMS: dict[str, Any] = {
    "n_estimators": 400,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "random_state": 0,
    "n_jobs": 2,
    "verbose": -1,
}


def gold() -> dict[str, float]:
    """Gold-set scores (hand-labelled fixtures in tests/fixtures)."""
    scores = score_gold(ROOT / "tests" / "fixtures")
    return {k: round(v, 4) for k, v in vars(scores).items() if isinstance(v, float)}


def h1b() -> dict[str, Any] | None:
    """Agreement of the role's SOC code with the H-1B filing's SOC code."""
    path = DATA / "h1b" / "h1b_sample.csv"
    if not path.exists():
        print(f"skip h1b: {path} not found")
        return None
    frame = pd.read_csv(path, usecols=["JOB_TITLE", "SOC_CODE"], dtype=str).dropna()
    gov = frame["SOC_CODE"].str.strip().str[:7]
    gov = gov.map(lambda c: SOC_2010_TO_2018.get(c, c))
    ours = frame["JOB_TITLE"].map(lambda t: extract_role(t).soc)
    known = ours.notna()
    return {
        "rows": len(frame),
        "unknown_share": round(float((~known).mean()), 4),
        "major_group_all": round(float((ours.str[:2] == gov.str[:2]).mean()), 4),
        "full_code_all": round(float((ours == gov).mean()), 4),
        "major_group_known": round(float((ours[known].str[:2] == gov[known].str[:2]).mean()), 4),
        "full_code_known": round(float((ours[known] == gov[known]).mean()), 4),
    }


def _share(part: int, whole: int) -> dict[str, Any]:
    return {"n": part, "of": whole, "share": round(part / whole, 4) if whole else None}


def postings() -> dict[str, Any] | None:
    """Title and place read from Glassdoor's posting text alone, against its Job Title and Location."""
    path = DATA / "glassdoor" / "glassdoor_jobs.csv"
    if not path.exists():
        print(f"skip postings: {path} not found")
        return None
    columns = ["Job Title", "Location", "Job Description"]
    frame = pd.read_csv(path, usecols=columns, dtype=str)[columns].fillna("")
    titles = roles = known = 0
    places = country = regions = region = metros = metro = 0
    cpu = time.process_time()
    for title, location, text in frame.itertuples(index=False):
        truth_role, truth_place = extract_role(title).family, parse_location(location)
        read_title, read_place = posting_title(text), posting_location(text)
        if read_title:
            titles += 1
            known += truth_role != "unknown"
            roles += extract_role(read_title).family == truth_role
        if read_place:
            place = parse_location(read_place)
            places += 1
            country += place.country == truth_place.country
            if place.region and truth_place.region:
                regions += 1
                region += place.region == truth_place.region
            if place.metro and truth_place.metro:
                metros += 1
                metro += place.metro == truth_place.metro
    rows = len(frame)
    return {
        "rows": rows,
        "title_read": _share(titles, rows),
        "role_family_agrees": _share(roles, titles),
        "title_read_truth_known": known,
        "place_read": _share(places, rows),
        "country_agrees": _share(country, places),
        "region_agrees_where_both_name_one": _share(region, regions),
        "metro_agrees_where_both_name_one": _share(metro, metros),
        "ms_per_posting_cpu": round(1000 * (time.process_time() - cpu) / rows, 2),
    }


def title_context() -> dict[str, Any] | None:
    """The same readers on Ask A Manager's one-line title context, which the adapter passes as text."""
    path = DATA / "askamanager" / "aam2021.csv"
    if not path.exists():
        print(f"skip title context: {path} not found")
        return None
    columns = ["Job title", "If your job title needs additional context, please clarify here:"]
    frame = pd.read_csv(path, usecols=columns, dtype=str)[columns].dropna()
    titles = roles = places = 0
    for title, text in frame.itertuples(index=False):
        read_title = posting_title(text)
        titles += read_title is not None
        roles += read_title is not None and extract_role(read_title).family == extract_role(title).family
        places += posting_location(text) is not None
    rows = len(frame)
    return {
        "rows": rows,
        "title_read": _share(titles, rows),
        "role_family_agrees": _share(roles, titles),
        "place_read": _share(places, rows),
    }


BOILERPLATE = (
    "About us: we are a growing company that builds tools for small businesses across the region. "
    "Our teams are distributed and collaborate closely with customers every week.",
    "What you will do: own projects from idea to launch, write clear documentation, review the "
    "work of colleagues, and help the team decide what to build next.",
    "Who you are: curious, organised and kind. You communicate clearly in writing, you are "
    "comfortable with ambiguity, and you enjoy mentoring people who are new to the field.",
    "Benefits: health, dental and vision cover, a yearly learning budget, parental leave, "
    "flexible hours and a home-office allowance. We review pay bands every year.",
    "Our process: a short call with the hiring manager, a take-home exercise of about three "
    "hours, and a final conversation with two future teammates.",
    "We welcome applicants of every background and will make adjustments for the interview "
    "on request. Tell us what you need and we will arrange it.",
)


def _posting(i: int, texts: list[str]) -> str:
    """About 2 KB: two requirement paragraphs from the gold postings plus ordinary prose."""
    parts = [f"Req {i}.", texts[i % len(texts)], *BOILERPLATE, texts[(i * 7 + 3) % len(texts)]]
    text = " ".join(parts)
    while len(text) < 2000:
        text += " " + BOILERPLATE[i % len(BOILERPLATE)]
    return text[:2000]


def _rate(features: JobFeatures, rows: list[dict[str, Any]]) -> tuple[float, float]:
    """Rows per CPU-second of this process and per wall-clock second (the machine may be shared)."""
    cpu, wall = time.process_time(), time.perf_counter()
    features.transform(rows)
    return len(rows) / (time.process_time() - cpu), len(rows) / (time.perf_counter() - wall)


def speed() -> dict[str, float]:
    """Records per second through fitted JobFeatures (interpret + transform), single-threaded."""
    from training.sources.demo import generate_demo

    structured = generate_demo(n=20_000, seed=5).drop(columns=["salary_usd"]).to_dict("records")
    features = JobFeatures().fit(structured[:5000])
    features.transform(structured[:2000])
    structured_cpu, structured_wall = _rate(features, structured)
    gold_texts = [
        json.loads(line)["text"]
        for line in (ROOT / "tests" / "fixtures" / "gold_postings.jsonl").open(encoding="utf-8")
    ]
    postings = [
        {"title": "Senior Data Engineer", "description": _posting(i, gold_texts), "location": "NYC"}
        for i in range(4000)
    ]
    posting_cpu, posting_wall = _rate(features, postings)
    return {
        "structured_per_cpu_s": round(structured_cpu),
        "structured_per_wall_s": round(structured_wall),
        "postings_2kb_per_cpu_s": round(posting_cpu),
        "postings_2kb_per_wall_s": round(posting_wall),
    }


OLD_SCRIPT = """
import sys, pickle, numpy as np
sys.path.insert(0, sys.argv[1])
from features.pipeline import JobFeatures
train, test = pickle.load(open(sys.argv[2], "rb"))
f = JobFeatures().fit(train)
np.savez(sys.argv[3], train=f.transform(train), test=f.transform(test),
         names=np.asarray(f.get_feature_names_out(), dtype=str),
         cats=np.asarray(f.categorical_features, dtype=str))
"""


def _old_matrices(train: list[dict[str, Any]], test: list[dict[str, Any]]) -> dict[str, Any]:
    worktree = Path(tempfile.gettempdir()) / "salary-skeleton-6f310ad"
    if not worktree.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(worktree), SKELETON_COMMIT],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    with tempfile.TemporaryDirectory() as tmp:
        data, out = Path(tmp) / "rows.pkl", Path(tmp) / "old.npz"
        pd.to_pickle((train, test), data)
        subprocess.run(
            [sys.executable, "-c", OLD_SCRIPT, str(worktree), str(data), str(out)],
            check=True,
            cwd=tmp,
        )
        loaded = np.load(out)
        return {k: loaded[k] for k in loaded.files}


def _fit_score(
    train_x: np.ndarray,
    test_x: np.ndarray,
    names: list[str],
    cats: list[str],
    y_train: np.ndarray,
    y_test: np.ndarray,
) -> dict[str, float]:
    import lightgbm as lgb

    frame_train = pd.DataFrame(train_x, columns=[f"f{i}" for i in range(len(names))])
    frame_test = pd.DataFrame(test_x, columns=frame_train.columns)
    cat_cols = [f"f{names.index(c)}" for c in cats if c in names]
    for col in cat_cols:
        categories = sorted(set(frame_train[col].dropna()) | set(frame_test[col].dropna()))
        frame_train[col] = pd.Categorical(frame_train[col], categories=categories)
        frame_test[col] = pd.Categorical(frame_test[col], categories=categories)
    model = lgb.LGBMRegressor(**LGBM_PARAMS)
    model.fit(frame_train, np.log(y_train))
    pred = model.predict(frame_test)
    log_y = np.log(y_test)
    r2 = 1 - float(np.sum((log_y - pred) ** 2) / np.sum((log_y - log_y.mean()) ** 2))
    return {
        "mae_usd": round(float(np.mean(np.abs(np.exp(pred) - y_test)))),
        "r2_log": round(r2, 4),
        "n_features": len(names),
    }


def model_quality(source: str) -> dict[str, Any] | None:
    """LightGBM on log salary with the skeleton's features vs the current ones, same split."""
    from training.cleaning import clean
    from training.sources import get_source
    from training.splits import split_frame

    adapter = get_source(source)
    path = DATA / str(adapter.default_path)
    if not path.exists():
        print(f"skip model quality on {source}: {path} not found")
        return None
    frame, _ = clean(adapter.read(path).frame, source)
    split = split_frame(frame, seed=42)
    cols = [c for c in frame.columns if c not in ("salary_usd", "salary_min_usd", "salary_max_usd")]
    train = split.train[cols].astype(object).where(split.train[cols].notna(), None)
    test = split.evaluation[cols].astype(object).where(split.evaluation[cols].notna(), None)
    train_rows, test_rows = train.to_dict("records"), test.to_dict("records")
    y_train = split.train["salary_usd"].to_numpy(float)
    y_test = split.evaluation["salary_usd"].to_numpy(float)
    new = JobFeatures().fit(train_rows)
    new_names = list(new.get_feature_names_out())
    result: dict[str, Any] = {
        "train_rows": len(train_rows),
        "eval_rows": len(test_rows),
        "split": split.kind,
    }
    result["new"] = _fit_score(
        new.transform(train_rows),
        new.transform(test_rows),
        new_names,
        new.categorical_features,
        y_train,
        y_test,
    )
    old = _old_matrices(train_rows, test_rows)
    result["old"] = _fit_score(
        old["train"],
        old["test"],
        [str(n) for n in old["names"]],
        [str(c) for c in old["cats"]],
        y_train,
        y_test,
    )
    return result


def main() -> None:
    """Run every part and print one JSON report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-model", action="store_true", help="skip the LightGBM comparison")
    parser.add_argument(
        "--postings-only",
        action="store_true",
        help="only the title and place read from Glassdoor's posting text",
    )
    args = parser.parse_args()
    if args.postings_only:
        report = {"date": time.strftime("%Y-%m-%d"), "postings": postings(), "title_context": title_context()}
        print(json.dumps(report, indent=2))
        return
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "gold": gold(),
        "h1b": h1b(),
        "postings": postings(),
        "title_context": title_context(),
        "speed": speed(),
    }
    if not args.skip_model:
        report["model"] = {s: model_quality(s) for s in ("aijobs", "askamanager")}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
