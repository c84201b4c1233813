"""Per-profile centers: which rows each answers, the same answers by every path, bundles old and new."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from features.pipeline import interpret_all
from models import serialize
from models.bundle import SalaryModel
from models.centers import MIN_ROUTE_ROWS, SHARED, route_table
from models.profiles import ROUTE_BITS
from models.quantile import QuantileModel
from training.config import TrainConfig
from training.sources.base import TARGET
from training.train import fit_bundle

ROLE, WORDS, PLACE, LEVEL = (ROUTE_BITS[k] for k in ("role", "title_words", "location", "level"))


def test_a_key_goes_to_the_center_whose_rows_were_stated_that_way() -> None:
    n = MIN_ROUTE_ROWS
    complete = np.full(3 * n, ROLE | PLACE | LEVEL)
    title_only = np.concatenate([np.full(2 * n, ROLE), np.full(n // 2, WORDS), np.full(n, 0)])
    table = route_table([complete, title_only], [frozenset(), frozenset({"role"})])
    assert table[ROLE | PLACE | LEVEL] == 0
    assert table[ROLE] == 1
    assert table[WORDS] == SHARED  # too few rows of that key
    assert table[0] == SHARED  # a title-only center never answers a record that states nothing
    assert table[ROLE | PLACE] == SHARED  # no center was fitted on rows stated that way


@pytest.fixture(scope="module")
def records(demo_frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Demo jobs in full, as title + location, and as a title alone: the calls centers are fitted for."""
    full = [
        {k: v for k, v in row.items() if k != TARGET and v is not None and v == v}
        for row in demo_frame.head(60).to_dict("records")
    ]
    calls = (("title", "location"), ("title",))
    partial = [{k: r[k] for k in keys if k in r} for keys in calls for r in full]
    return full + partial + [{}, {"location": "Berlin, Germany"}]


def model_rows(bundle: SalaryModel, records: list[dict[str, Any]]) -> tuple[QuantileModel, np.ndarray]:
    assert isinstance(bundle.model, QuantileModel)
    return bundle.model, bundle.features.transform_interpretations(interpret_all(records))


def test_common_calls_use_their_own_center_where_it_won_and_the_rest_the_shared_one(
    demo_bundle: SalaryModel, records: list[dict[str, Any]]
) -> None:
    model, X = model_rows(demo_bundle, records)
    choices = model.center_choices_
    assert {"all", "title+location", "title"} <= set(choices)
    assert model.center_names_ == [name for name, choice in choices.items() if choice != "shared"]
    routes = model._routes(X)
    names = ["shared" if r == SHARED else model.center_names_[r] for r in routes]
    for name, rows in (("all", slice(0, 60)), ("title+location", slice(60, 120)), ("title", slice(120, 180))):
        assert (name in names[rows]) == (choices[name] != "shared"), name
    assert names[-2:] == ["shared", "shared"]  # nothing stated; a place alone


def test_a_dedicated_center_is_p50_and_the_one_row_path_agrees(
    demo_bundle: SalaryModel, records: list[dict[str, Any]]
) -> None:
    model, X = model_rows(demo_bundle, records)
    mid = model.quantiles.index(0.5)
    batch = model.predict(X)
    rows = np.vstack([model.predict(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(rows, batch, rtol=0, atol=1e-9)
    routes = model._routes(X)
    for route in sorted(set(routes.tolist()) - {SHARED}):
        on = routes == route
        p50 = model._trend(X[on]) + model.centers_[route].predict(X[on])
        median = model.center_medians_[route]
        if median is not None:
            p50 += median.predict(X[on][:, model.residual_columns_])
        np.testing.assert_allclose(batch[on, mid], p50, rtol=0, atol=1e-9)
    assert (np.diff(batch, axis=1) >= 0).all()


def test_drivers_follow_the_chosen_center(demo_bundle: SalaryModel, records: list[dict[str, Any]]) -> None:
    model, X = model_rows(demo_bundle, records)
    log_p50 = model.predict(X)[:, model.quantiles.index(0.5)]
    for method in ("path", "shap"):
        contrib, baseline = model.contributions(X, method=method)
        np.testing.assert_allclose(baseline + contrib.sum(axis=1), log_p50, rtol=0, atol=1e-9)
        for i in range(0, len(X), 11):
            c, b = model.contributions(X[i : i + 1], method=method)
            assert b[0] + c.sum() == pytest.approx(log_p50[i], abs=1e-9)


def test_a_bundle_from_before_centers_loads_and_uses_the_shared_center(
    demo_bundle: SalaryModel, records: list[dict[str, Any]], tmp_path: Path
) -> None:
    folder = demo_bundle.save(tmp_path / "new")
    old = Path(shutil.copytree(folder, tmp_path / "old"))
    state = json.loads((old / serialize.MODEL_FILE).read_text())
    for name in ("centers_", "center_medians_", "center_routes_", "center_names_", "route_columns_",
                 "center_choices_"):
        state["fitted"].pop(name)
    data = json.dumps(state).encode()
    (old / serialize.MODEL_FILE).write_bytes(data)
    manifest = json.loads((old / serialize.MANIFEST).read_text())
    manifest["format_version"] = 1
    manifest["files"][serialize.MODEL_FILE] = {"sha256": serialize._sha256(data), "bytes": len(data)}
    (old / serialize.MANIFEST).write_text(json.dumps(manifest))

    loaded, before = SalaryModel.load(old), SalaryModel.load(folder)
    assert isinstance(loaded.model, QuantileModel) and loaded.model.centers_ == []
    np.testing.assert_allclose(before.predict(records), demo_bundle.predict(records), rtol=0, atol=1e-9)
    shared = loaded.predict(records)
    single = np.vstack([loaded.predict([r]) for r in records])
    np.testing.assert_allclose(single, shared, rtol=1e-9)
    estimate = loaded.estimate(records[70])
    assert estimate.baseline is not None and estimate.quantiles["p50"] > 0


def test_without_centers_every_row_uses_the_shared_center(
    demo_frame: pd.DataFrame, small_config: TrainConfig, records: list[dict[str, Any]]
) -> None:
    bundle = fit_bundle(demo_frame, replace(small_config, centers=False))
    model, X = model_rows(bundle, records)
    assert model.centers_ == [] and model.center_choices_ == {}
    assert (model._routes(X) == SHARED).all()
