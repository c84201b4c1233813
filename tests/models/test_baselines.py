"""Baselines wrap into the same SalaryModel, predict ordered quantiles, and fall back for sparse groups."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.baselines import BASELINES, GroupMedian
from models.bundle import SalaryModel
from training.evaluate import regression_metrics
from training.sources.base import TARGET
from training.train import TrainConfig, fit_bundle
from training.tuned_params import with_tuned_params, write


@pytest.mark.parametrize("kind", sorted(BASELINES))
def test_baselines_predict_ordered_usd_quantiles(
    baseline_bundles: dict[str, SalaryModel], demo_frame: pd.DataFrame, kind: str
) -> None:
    bundle = baseline_bundles[kind]
    preds = bundle.predict(demo_frame.iloc[2400:])
    assert preds.shape == (600, 5)
    assert bundle.quantile_names == ["p10", "p25", "p50", "p75", "p90"]
    assert np.all(np.diff(preds, axis=1) >= 0) and np.all(preds > 0)
    assert bundle.metadata["model_kind"] == kind
    assert bundle.estimate({"title": "Data Analyst"}).drivers == []


def test_baselines_rank_as_expected_on_demo(
    baseline_bundles: dict[str, SalaryModel], demo_bundle: SalaryModel, demo_frame: pd.DataFrame
) -> None:
    evaluation = demo_frame.iloc[2400:]
    y = evaluation[TARGET].to_numpy(dtype=float)
    mae = {
        kind: regression_metrics(y, b.predict(evaluation), b.quantiles)["mae"]
        for kind, b in {**baseline_bundles, "lightgbm": demo_bundle}.items()
    }
    assert mae["global_median"] > mae["group_median"] > mae["ridge"]


def test_group_median_falls_back_to_coarser_groups() -> None:
    names = ["role", "seniority_rank", "country"]
    X = np.array([[0.0, 1.0, 0.0]] * 30 + [[0.0, 2.0, 1.0]] * 3 + [[1.0, 1.0, 0.0]] * 5)
    y = np.log(np.array([100.0] * 30 + [300.0] * 3 + [50.0] * 5))
    model = GroupMedian(min_rows=20).fit(X, y, names, ["role", "country"])
    preds = np.exp(model.predict(np.array([[0.0, 1.0, 0.0], [0.0, 2.0, 1.0], [1.0, 1.0, 0.0], [np.nan] * 3])))
    assert preds[0, 2] == pytest.approx(100.0)
    assert preds[1, 2] == pytest.approx(100.0)  # role 0 has 33 rows; its own cell only 3
    assert preds[2, 2] == pytest.approx(np.exp(np.median(y)))  # role 1 too sparse: global


def test_unknown_model_kind_is_refused(demo_frame: pd.DataFrame, small_config: TrainConfig) -> None:
    with pytest.raises(ValueError, match="model_kind 'xgb'"):
        fit_bundle(demo_frame.head(50), replace(small_config, model_kind="xgb"))


def test_train_picks_up_tuned_params_unless_given(tmp_path: Path) -> None:
    path = write(tmp_path / "tuned_params.json", "demo", {"params": {"num_leaves": 7}, "num_boost_round": 90})
    tuned = with_tuned_params(TrainConfig(tuned_params=path))
    assert tuned.params == {"num_leaves": 7} and tuned.num_boost_round == 90
    explicit = TrainConfig(tuned_params=path, params={"num_leaves": 63})
    assert with_tuned_params(explicit).params == {"num_leaves": 63}
    assert with_tuned_params(TrainConfig(source="aijobs", tuned_params=path)).params == {}
    assert with_tuned_params(TrainConfig(tuned_params=path, model_kind="ridge")).params == {}
