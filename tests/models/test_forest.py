"""The one-row fast paths give LightGBM's own numbers: packed trees for predictions and path attributions."""

from __future__ import annotations

import copy
import math
import pickle
import threading
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from features.pipeline import interpret_all
from models import forest
from models.bundle import SalaryModel
from models.forest import pack
from models.quantile import QuantileModel
from models.row_predict import RowContributions


def _matrix(bundle: SalaryModel, frame: object) -> np.ndarray:
    return bundle.features.transform_interpretations(interpret_all(frame))  # type: ignore[arg-type]


def _booster_outputs(model: QuantileModel, X: np.ndarray) -> np.ndarray:
    Xr = X[:, model.residual_columns_]
    columns = [model.center_.predict(X)] + [model.boosters_[q].predict(Xr) for q in model.quantiles]
    return np.column_stack(columns)


def _forest(model: QuantileModel, n_features: int) -> object:
    residuals = [(model.boosters_[q], model.residual_columns_) for q in model.quantiles]
    return pack([(model.center_, None), *residuals], n_features)


def _damaged(X: np.ndarray, seed: int) -> np.ndarray:
    """Missing values everywhere, and category codes the model never saw (negative, fractional, huge)."""
    rng = np.random.default_rng(seed)
    out = X.copy()
    out[rng.random(X.shape) < 0.3] = np.nan
    for column in range(7, 16):  # the categorical block of JobFeatures
        out[:, column] = rng.choice([-3.0, -0.5, 0.0, 1.0, 2.7, 40.0, 5000.0, np.nan], len(out))
    return out


def test_packed_trees_equal_booster_predict(demo_bundle: SalaryModel, demo_frame: object) -> None:
    model = demo_bundle.model
    assert isinstance(model, QuantileModel)
    X = _matrix(demo_bundle, demo_frame)[:400]
    for rows in (X, _damaged(X, seed=1)):
        forest = _forest(model, X.shape[1])
        got = np.array([forest.predict_row(row) for row in rows])  # type: ignore[attr-defined]
        np.testing.assert_array_equal(got, _booster_outputs(model, rows))


def test_one_leaf_trees_and_zero_as_missing_are_packed() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4))
    X[rng.random(X.shape) < 0.2] = 0.0
    y = X[:, 0] * 2 + (X[:, 1] > 0)
    params = {"objective": "l2", "verbose": -1, "num_threads": 1, "zero_as_missing": True}
    booster = lgb.train(params, lgb.Dataset(X, y), 30)
    flat = lgb.train({**params, "min_data_in_leaf": 1000}, lgb.Dataset(X, y), 3)  # cannot split
    assert flat.dump_model()["tree_info"][0]["num_leaves"] == 1
    forest = pack([(booster, None), (flat, [0, 1, 2, 3])], 4)
    got = np.array([forest.predict_row(row) for row in X])
    np.testing.assert_array_equal(got, np.column_stack([booster.predict(X), flat.predict(X)]))


def test_single_row_predictions_match_the_batch_path(demo_bundle: SalaryModel, demo_frame: object) -> None:
    model = demo_bundle.model
    assert isinstance(model, QuantileModel)
    X = _damaged(_matrix(demo_bundle, demo_frame)[:200], seed=2)
    batch = model.predict(X)
    rows = np.vstack([model.predict(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(rows, batch, rtol=0, atol=1e-12)


def test_row_contributions_equal_pred_contrib(demo_bundle: SalaryModel, demo_frame: object) -> None:
    model = demo_bundle.model
    assert isinstance(model, QuantileModel)
    X = _damaged(_matrix(demo_bundle, demo_frame)[:100], seed=4)
    fast = RowContributions(model.center_)
    expected = model.center_.predict(X, pred_contrib=True)
    np.testing.assert_allclose(np.array([fast(row) for row in X]), expected, rtol=0, atol=1e-12)


def test_row_contributions_are_safe_from_many_threads(demo_bundle: SalaryModel, demo_frame: object) -> None:
    model = demo_bundle.model
    assert isinstance(model, QuantileModel)
    X = _matrix(demo_bundle, demo_frame)[:64]
    fast = RowContributions(model.center_)
    expected = [fast(row) for row in X]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(20):
            results[i] = fast(X[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(X))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, row in enumerate(expected):
        np.testing.assert_array_equal(results[i], row)


def test_wrong_row_shape_is_refused(demo_bundle: SalaryModel) -> None:
    model = demo_bundle.model
    assert isinstance(model, QuantileModel)
    with pytest.raises(ValueError, match="expected one row"):
        RowContributions(model.center_)(np.zeros(3))
    with pytest.raises(ValueError, match="expected one row"):
        model._forest().predict_row(np.zeros(3))


def test_a_used_model_still_pickles(demo_bundle: SalaryModel) -> None:
    demo_bundle.estimate({"title": "Data Scientist", "years_experience": 4.0}, explain=True)
    copy = pickle.loads(pickle.dumps(demo_bundle))
    record = {"title": "Senior Data Engineer", "location": "Berlin"}
    assert copy.estimate(record).quantiles == demo_bundle.estimate(record).quantiles


def test_deep_trees_and_wide_rows_are_packed_or_refused() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3000, 3))
    y = np.sin(X[:, 0] * 3) + X[:, 1] * X[:, 2]
    params = {"objective": "l2", "verbose": -1, "num_threads": 1, "num_leaves": 1000, "min_data_in_leaf": 1}
    booster = lgb.train(params, lgb.Dataset(X, y), 3)  # trees of hundreds of nodes: offsets past int8
    assert booster.dump_model()["tree_info"][0]["num_leaves"] > 300
    forest = pack([(booster, None)], 3)
    got = np.array([forest.predict_row(row) for row in X[:500]])
    np.testing.assert_array_equal(got[:, 0], booster.predict(X[:500]))
    with pytest.raises(ValueError, match="features"):
        pack([(booster, None)], 70_000)


@pytest.fixture(scope="module")
def small_model() -> tuple[QuantileModel, np.ndarray]:
    """A few-round quantile model on four synthetic columns, and its training rows."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(600, 4))
    X[rng.random(X.shape) < 0.1] = np.nan
    y_log = 11.0 + 0.3 * np.nan_to_num(X[:, 0]) + rng.normal(scale=0.2, size=600)
    model = QuantileModel(num_boost_round=8, params={"num_threads": 1, "min_data_in_leaf": 20})
    return model.fit(X, y_log, ["a", "b", "c", "d"]), X


POSITIVE, BINARY = "positive", "binary"
REFUSED = [
    ({"objective": "regression", "linear_tree": True}, POSITIVE, "linear tree"),
    ({"objective": "gamma"}, POSITIVE, "objective 'gamma'"),
    ({"objective": "poisson"}, POSITIVE, "objective 'poisson'"),
    ({"objective": "tweedie"}, POSITIVE, "objective 'tweedie"),
    ({"objective": "binary"}, BINARY, "objective 'binary"),
    ({"objective": "cross_entropy"}, BINARY, "objective 'cross_entropy"),
    ({"objective": "regression", "reg_sqrt": True}, POSITIVE, "sqrt"),
    ({"boosting": "rf", "bagging_fraction": 0.5, "bagging_freq": 1}, POSITIVE, "average_output"),
]


def _label(X: np.ndarray, kind: str) -> np.ndarray:
    signal = np.nan_to_num(X[:, 0])
    return (signal > 0).astype(float) if kind == BINARY else np.exp(signal) + 1.0


@pytest.mark.parametrize(("params", "label", "reason"), REFUSED, ids=[r[2] for r in REFUSED])
def test_models_the_walk_does_not_implement_are_refused_and_predicted_by_lightgbm(
    small_model: tuple[QuantileModel, np.ndarray], params: dict[str, object], label: str, reason: str
) -> None:
    fitted, X = small_model
    booster = lgb.train({"verbose": -1, "num_threads": 1, **params}, lgb.Dataset(X, _label(X, label)), 5)
    with pytest.raises(ValueError, match=reason):
        pack([(booster, None)], X.shape[1])
    model = copy.copy(fitted)
    model.center_ = booster  # the same slot a tuned or configured center objective would fill
    model._packed_reset()
    assert model._forest() is None
    assert (
        not model.explains_by_path() and fitted.explains_by_path()
    )  # the API sends such drivers to a thread
    rows = np.vstack([model.predict(X[i : i + 1]) for i in range(60)])
    np.testing.assert_array_equal(rows, model.predict(X[:60]))  # the batch path is Booster.predict
    if params.get("linear_tree"):
        return  # LightGBM cannot explain linear trees at all ("not implemented for linear trees")
    path, shap = model.contributions(X[:60], method="path"), model.contributions(X[:60], method="shap")
    np.testing.assert_array_equal(path[0], shap[0])  # drivers fall back to TreeSHAP too
    np.testing.assert_array_equal(path[1], shap[1])


@pytest.mark.parametrize("objective", ["multiclass", "multiclassova"])
def test_several_classes_are_refused(small_model: tuple[QuantileModel, np.ndarray], objective: str) -> None:
    _, X = small_model
    classes = np.digitize(np.nan_to_num(X[:, 0]), [-0.5, 0.5]).astype(float)
    params = {"objective": objective, "num_class": 3, "verbose": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(X, classes), 3)
    with pytest.raises(ValueError, match="single-output"):
        pack([(booster, None)], X.shape[1])


def test_header_lines_and_tree_fields_it_does_not_know_are_refused() -> None:
    with pytest.raises(ValueError, match="future_option"):
        forest._check_header(["version=v4", "objective=regression", "future_option=1"])
    with pytest.raises(ValueError, match="average_output"):
        forest._check_header(["version=v4", "objective=regression", "average_output"])
    with pytest.raises(ValueError, match="future_field"):
        forest._check_tree("tree 0", {"num_leaves": "2", "future_field": "1"}, [])


def _expected(node: dict[str, Any]) -> tuple[float, float]:
    """A dumped node's expected value and training rows: its leaves' values weighted by their rows."""
    if "leaf_value" in node:
        return node["leaf_value"], node["leaf_count"]
    (a, na), (b, nb) = _expected(node["left_child"]), _expected(node["right_child"])
    return (a * na + b * nb) / (na + nb), na + nb


def _goes_left(node: dict[str, Any], value: float) -> bool:
    """LightGBM's split rule, read from `Booster.dump_model()` rather than the model text."""
    if node["decision_type"] == "==":
        left = {int(c) for c in str(node["threshold"]).split("||")}
        return not math.isnan(value) and value >= 0 and int(value) in left
    if math.isnan(value) and node["missing_type"] != "NaN":
        value = 0.0
    if (node["missing_type"] == "Zero" and abs(value) <= 1e-35) or (
        node["missing_type"] == "NaN" and math.isnan(value)
    ):
        return bool(node["default_left"])
    return value <= node["threshold"]


def _reference_attribution(
    booster: lgb.Booster, row: np.ndarray, columns: list[int], width: int
) -> np.ndarray:
    """Path attribution (Saabas) in plain Python: each step's change of expected value to its feature."""
    out = np.zeros(width + 1)
    for tree in booster.dump_model()["tree_info"]:
        node = tree["tree_structure"]
        out[width] += _expected(node)[0]
        while "leaf_value" not in node:
            feature = node["split_feature"]
            child = node["left_child"] if _goes_left(node, row[feature]) else node["right_child"]
            out[columns[feature]] += _expected(child)[0] - _expected(node)[0]
            node = child
    return out


def _tiny_boosters() -> tuple[lgb.Booster, lgb.Booster, np.ndarray]:
    """Two small boosters over a categorical column, missing values and zero-as-missing, and rows."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(400, 4))
    X[:, 3] = rng.integers(0, 12, size=400)
    y = X[:, 0] + np.sin(X[:, 1]) + (X[:, 3] % 3) * 0.5 + rng.normal(scale=0.1, size=400)
    X[rng.random(X.shape) < 0.15] = np.nan
    params = {"verbose": -1, "num_threads": 1, "num_leaves": 7, "min_data_in_leaf": 5, "max_cat_to_onehot": 2}
    first = lgb.train({**params, "objective": "l2"}, lgb.Dataset(X, y, categorical_feature=[3]), 12)
    Xr = X[:, [1, 3]]
    second = lgb.train(
        {**params, "objective": "quantile", "alpha": 0.5, "zero_as_missing": True},
        lgb.Dataset(Xr, y, categorical_feature=[1]),
        8,
    )
    rows = np.vstack([X[:150], [[np.nan] * 4], [[0.0, 0.0, 0.0, 40.0]], [[1.0, -1.0, 2.0, -3.0]]])
    return first, second, rows


def test_path_attribution_matches_a_pure_python_reference() -> None:
    first, second, rows = _tiny_boosters()
    assert any(t["num_cat"] for t in first.dump_model()["tree_info"])  # categorical splits are exercised
    forest = pack([(first, None), (second, [1, 3])], 4)
    got = forest.contributions(rows, (0, 1))
    expected = np.array(
        [
            _reference_attribution(first, row, [0, 1, 2, 3], 4)
            + _reference_attribution(second, row[[1, 3]], [1, 3], 4)
            for row in rows
        ]
    )
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    only_second = forest.contributions(rows, (1,))
    np.testing.assert_allclose(only_second[:, [0, 2]], 0.0)
    np.testing.assert_allclose(only_second.sum(axis=1), second.predict(rows[:, [1, 3]]), rtol=0, atol=1e-12)


def test_path_attribution_sums_to_the_prediction_around_treeshaps_expected_value() -> None:
    first, _, rows = _tiny_boosters()
    got = pack([(first, None)], 4).contributions(rows, (0,))
    shap = first.predict(rows, pred_contrib=True)
    np.testing.assert_allclose(got.sum(axis=1), first.predict(rows), rtol=0, atol=1e-12)
    np.testing.assert_allclose(got[:, -1], shap[:, -1], rtol=0, atol=1e-12)  # the same baseline
    assert not np.allclose(got[:, :-1], shap[:, :-1])  # a different attribution, not TreeSHAP renamed
