"""Every tree of several boosters packed into flat arrays and walked by one compiled loop, for one row.

Answering one API request means six boosters and about 1,400 trees. `Booster.predict` costs tens of
microseconds of Python per call, and LightGBM keeps each tree in its own vectors, which fall out of the
CPU cache between requests. Here all trees share a few contiguous arrays and a numba loop walks them in
one call. Each split follows LightGBM's own decision rules (missing values, zero, categorical bitsets),
and the trees are summed in LightGBM's order, so the results are the same numbers (tests compare them).
Batches still go through `Booster.predict`, which is multi-threaded and faster per row.

The same walk also explains a prediction by path attribution (Saabas): each split on a row's path moves
the expected value of the tree from its node's to its child's, and that step goes to the split's feature.
Expected values are leaf values weighted by the training rows each leaf holds (LightGBM's `leaf_count`),
as LightGBM's TreeSHAP weighs them, so the trees' expected values (the baseline) are TreeSHAP's, and the
baseline plus the steps equals the prediction. It costs one walk, against TreeSHAP's O(leaves x depth^2).

It implements plain constant-leaf trees with an identity output, one output per iteration. `pack` reads
LightGBM's model text and refuses, with the reason, anything else it finds there (linear trees,
objectives with a link function, several classes, averaged random-forest output, header lines or tree
fields it does not know), so a caller never gets silently wrong numbers and can use `Booster.predict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numba
import numpy as np

CATEGORICAL = 1  # LightGBM decision_type bits
DEFAULT_LEFT = 2
MISSING_ZERO = 1  # (decision_type >> 2) & 3
MISSING_NAN = 2
ZERO = 1.0000000180025095e-35  # LightGBM's kZeroThreshold (1e-35f as a double)


NODE = np.dtype(
    [
        ("threshold", np.float64),  # categorical splits: the index of their range in cat_ranges instead
        ("left", np.int16),  # child >= 0: a node, as an offset from its tree's first node;
        ("right", np.int16),  # child < 0: leaf ~child of its tree
        ("feature", np.uint16),  # column of the full input row
        ("flags", np.uint8),  # LightGBM decision_type
        ("spare", np.uint8),
    ]
)  # 16 bytes, four nodes per cache line: a request reads thousands of nodes spread over a megabyte
MAX_TREE_NODES = np.iinfo(np.int16).max
MAX_FEATURES = np.iinfo(np.uint16).max
# Objectives whose prediction is the raw sum of the trees (no sigmoid, exp, softmax or square).
IDENTITY_OBJECTIVES = frozenset({"regression", "regression_l1", "huber", "fair", "quantile", "mape"})
# Header lines of LightGBM's model text that do not change a prediction from a numpy row.
HEADER_KEYS = frozenset(
    {
        "version",
        "num_class",
        "num_tree_per_iteration",
        "label_index",
        "max_feature_idx",
        "objective",
        "feature_names",
        "feature_infos",
        "monotone_constraints",
        "tree_sizes",
    }
)
# Fields of a `Tree=` block the walk reads or that do not change a prediction (counts, gains, weights).
TREE_KEYS = frozenset(
    {
        "num_leaves",
        "num_cat",
        "split_feature",
        "split_gain",
        "threshold",
        "decision_type",
        "left_child",
        "right_child",
        "leaf_value",
        "leaf_weight",
        "leaf_count",
        "internal_value",
        "internal_weight",
        "internal_count",
        "cat_boundaries",
        "cat_threshold",
        "is_linear",
        "shrinkage",
    }
)


class UnsupportedModel(ValueError):
    """A booster uses something the packed walk does not implement; `Booster.predict` must answer."""


@dataclass(frozen=True)
class Forest:
    """Nodes of all trees in one record array, each tree's nodes in depth-first order for locality."""

    roots: np.ndarray  # int32 per tree: its first node, or ~leaf for a one-leaf tree
    first_leaf: np.ndarray  # int32 per tree: where its leaves start in leaf_value
    outputs: np.ndarray  # int32 per tree: which booster (output column) it adds to
    n_outputs: int
    n_features: int
    nodes: np.ndarray  # NODE records
    cat_ranges: np.ndarray  # int32 (start, length) per categorical split, in cat_bits words
    cat_bits: np.ndarray  # uint32
    leaf_value: np.ndarray  # float64 per leaf
    steps: np.ndarray  # float64 (left, right) per node: expected value of that child minus the node's
    expected: np.ndarray  # float64 per tree: its expected value over the training rows

    def predict_row(self, row: np.ndarray) -> np.ndarray:
        """One value per booster for one row of `n_features` float64 values."""
        x = np.ascontiguousarray(row, dtype=np.float64)
        if x.shape != (self.n_features,):
            raise ValueError(f"expected one row of {self.n_features} features, got shape {x.shape}")
        return _walk(
            x,
            self.roots,
            self.first_leaf,
            self.outputs,
            self.n_outputs,
            self.nodes,
            self.cat_ranges,
            self.cat_bits,
            self.leaf_value,
        )

    def contributions(self, X: np.ndarray, outputs: Sequence[int]) -> np.ndarray:
        """Path attributions of the sum of `outputs`, per row: one per feature, then the expected value.

        The layout of LightGBM's `pred_contrib`, so each row sums to the outputs' summed prediction.
        """
        rows = np.ascontiguousarray(X, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, got shape {rows.shape}")
        selected = np.zeros(self.n_outputs, dtype=np.bool_)
        selected[list(outputs)] = True
        return _attribute(
            rows,
            selected,
            self.roots,
            self.outputs,
            self.nodes,
            self.cat_ranges,
            self.cat_bits,
            self.steps,
            self.expected,
        )


@numba.njit(cache=True, nogil=True, inline="always")
def _goes_left(node, value, cat_ranges, cat_bits):  # type: ignore[no-untyped-def]
    """LightGBM's decision at one split: missing values, zero as missing, categorical bitsets."""
    flag = node.flags
    if flag & CATEGORICAL:
        if np.isnan(value):
            return False
        category = int(value)  # truncates toward zero, as C++'s static_cast<int>
        if category < 0:
            return False
        word = category >> 5
        split = int(node.threshold)
        if word >= cat_ranges[split, 1]:
            return False
        return (int(cat_bits[cat_ranges[split, 0] + word]) >> (category & 31)) & 1 == 1
    missing = (flag >> 2) & 3
    if np.isnan(value) and missing != MISSING_NAN:
        value = 0.0
    if (missing == MISSING_ZERO and -ZERO <= value <= ZERO) or (missing == MISSING_NAN and np.isnan(value)):
        return (flag & DEFAULT_LEFT) != 0
    return value <= node.threshold


@numba.njit(cache=True, nogil=True)
def _walk(x, roots, first_leaf, outputs, n_outputs, nodes, cat_ranges, cat_bits, leaf_value):  # type: ignore[no-untyped-def]
    out = np.zeros(n_outputs)
    for t in range(roots.shape[0]):
        base = roots[t]
        if base < 0:  # a one-leaf tree
            out[outputs[t]] += leaf_value[~base]
            continue
        index = base
        while True:
            node = nodes[index]
            go_left = _goes_left(node, x[node.feature], cat_ranges, cat_bits)
            child = int(node.left) if go_left else int(node.right)
            if child < 0:
                out[outputs[t]] += leaf_value[first_leaf[t] + ~child]
                break
            index = base + child
    return out


@numba.njit(cache=True, nogil=True)
def _attribute(X, selected, roots, outputs, nodes, cat_ranges, cat_bits, steps, expected):  # type: ignore[no-untyped-def]
    n_features = X.shape[1]
    out = np.zeros((X.shape[0], n_features + 1))
    for r in range(X.shape[0]):
        x = X[r]
        for t in range(roots.shape[0]):
            if not selected[outputs[t]]:
                continue
            out[r, n_features] += expected[t]
            index = roots[t]
            if index < 0:  # a one-leaf tree: its value is its expected value
                continue
            base = index
            while True:
                node = nodes[index]
                go_left = _goes_left(node, x[node.feature], cat_ranges, cat_bits)
                out[r, node.feature] += steps[index, 0] if go_left else steps[index, 1]
                child = int(node.left) if go_left else int(node.right)
                if child < 0:
                    break
                index = base + child
    return out


def _expectations(
    left: list[int], right: list[int], leaf_value: list[float], leaf_count: list[float], count: list[float]
) -> list[float]:
    """Expected value of each internal node: its leaves' values weighted by their training rows."""
    expected = [0.0] * len(left)

    def value(child: int) -> tuple[float, float]:
        return (leaf_value[~child], leaf_count[~child]) if child < 0 else (expected[child], count[child])

    for node in reversed(_preorder(left, right)):  # children before their parent
        (a, na), (b, nb) = value(left[node]), value(right[node])
        expected[node] = (a * na + b * nb) / (na + nb) if na + nb > 0 else (a + b) / 2
    return expected


def _numbers(line: str, kind: type) -> list[Any]:
    """A space-separated line of LightGBM's model text as numbers."""
    return [kind(v) for v in line.split(" ")] if line else []


def _trees(booster: lgb.Booster) -> list[dict[str, str]]:
    """The `Tree=k` blocks of LightGBM's text model format as key=value dictionaries, once checked."""
    text = booster.model_to_string()
    header, *blocks = text.split("end of trees")[0].split("\nTree=")
    _check_header(header.splitlines()[1:])  # the first line is the format name, "tree"
    out = []
    for block in blocks:
        lines = block.splitlines()
        fields = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
        _check_tree(f"tree {lines[0]}", fields, [line for line in lines[1:] if line and "=" not in line])
        out.append(fields)
    return out


def _check_header(lines: list[str]) -> None:
    """Refuse a model whose header asks for anything but the raw sum of one output's trees."""
    fields = dict(line.split("=", 1) for line in lines if "=" in line)
    flags = [line for line in lines if line and "=" not in line]
    if flags:  # e.g. average_output: random-forest boosting averages the trees instead of summing
        raise UnsupportedModel(f"model header line(s) {flags} not implemented (average_output: boosting=rf)")
    unknown = sorted(set(fields) - HEADER_KEYS)
    if unknown:
        raise UnsupportedModel(f"model header field(s) {unknown} not implemented")
    for key in ("num_class", "num_tree_per_iteration"):
        if int(fields.get(key, "1")) != 1:
            raise UnsupportedModel(f"{key}={fields[key]}: only single-output boosters can be packed")
    objective = fields.get("objective", "").split(" ")
    if objective[0] and (objective[0] not in IDENTITY_OBJECTIVES or "sqrt" in objective[1:]):
        raise UnsupportedModel(
            f"objective {' '.join(objective)!r} transforms the raw score (a link function or reg_sqrt); "
            f"only {sorted(IDENTITY_OBJECTIVES)} can be packed"
        )


def _check_tree(name: str, fields: dict[str, str], flags: list[str]) -> None:
    """Refuse a tree with linear leaves or with fields the walk does not know."""
    if fields.get("is_linear", "0") != "0":
        raise UnsupportedModel(f"{name} is a linear tree (linear_tree=true): leaves hold linear models")
    unknown = sorted(set(fields) - TREE_KEYS) + flags
    if unknown:
        raise UnsupportedModel(f"{name} has field(s) {unknown} not implemented")


def _preorder(left: list[int], right: list[int]) -> list[int]:
    """Internal nodes in depth-first order from the root, so a path reads nearby memory."""
    order, stack = [], [0]
    while stack:
        node = stack.pop()
        order.append(node)
        for child in (right[node], left[node]):  # left is visited first
            if child >= 0:
                stack.append(child)
    return order


def pack(boosters: Sequence[tuple[lgb.Booster, Sequence[int] | None]], n_features: int) -> Forest:
    """Pack boosters (each with the full-row column of each of its features, or None if the same).

    Raises UnsupportedModel, saying why, for any booster the walk would not reproduce exactly.
    """
    if n_features > MAX_FEATURES:
        raise UnsupportedModel(f"at most {MAX_FEATURES} features can be packed, got {n_features}")
    roots: list[int] = []
    first_leaf: list[int] = []
    outputs: list[int] = []
    records: list[tuple[float, int, int, int, int, int]] = []
    cat_ranges: list[tuple[int, int]] = []
    cat_bits: list[int] = []
    leaf_value: list[float] = []
    steps: list[tuple[float, float]] = []
    expected: list[float] = []
    for output, (booster, columns) in enumerate(boosters):
        if booster.num_model_per_iteration() != 1:
            raise UnsupportedModel("only single-output boosters (regression, quantile) can be packed")
        for tree in _trees(booster):
            node0, leaf0 = len(records), len(leaf_value)
            leaves = _numbers(tree["leaf_value"], float)
            leaf_value.extend(leaves)
            outputs.append(output)
            first_leaf.append(leaf0)
            if int(tree["num_leaves"]) == 1:
                roots.append(~leaf0)
                expected.append(leaves[0])
                continue
            roots.append(node0)
            feature = _numbers(tree["split_feature"], int)
            threshold = _numbers(tree["threshold"], float)
            types = _numbers(tree["decision_type"], int)
            left, right = _numbers(tree["left_child"], int), _numbers(tree["right_child"], int)
            if len(left) > MAX_TREE_NODES:
                raise UnsupportedModel(
                    f"trees of at most {MAX_TREE_NODES} splits can be packed, got {len(left)}"
                )
            bounds = _numbers(tree.get("cat_boundaries", ""), int)
            base = len(cat_bits)
            cat_bits.extend(_numbers(tree.get("cat_threshold", ""), int))
            order = _preorder(left, right)
            position = {old: new for new, old in enumerate(order)}  # offsets from the tree's first node
            if "leaf_count" not in tree or "internal_count" not in tree:
                raise UnsupportedModel(f"a tree without leaf_count or internal_count: {sorted(tree)}")
            means = _expectations(
                left,
                right,
                leaves,
                _numbers(tree["leaf_count"], float),
                _numbers(tree["internal_count"], float),
            )
            expected.append(means[0])

            def mean(c: int) -> float:
                return means[c] if c >= 0 else leaves[~c]  # noqa: B023 (used inside the loop)

            def child(c: int) -> int:
                return position[c] if c >= 0 else c  # noqa: B023 (used inside the loop)

            for old in order:
                split = threshold[old]
                if types[old] & CATEGORICAL:
                    index = int(threshold[old])
                    split = float(len(cat_ranges))
                    cat_ranges.append((base + bounds[index], bounds[index + 1] - bounds[index]))
                column = columns[feature[old]] if columns is not None else feature[old]
                records.append((split, child(left[old]), child(right[old]), column, types[old], 0))
                steps.append((mean(left[old]) - means[old], mean(right[old]) - means[old]))
    return Forest(
        roots=np.asarray(roots, dtype=np.int32),
        first_leaf=np.asarray(first_leaf, dtype=np.int32),
        outputs=np.asarray(outputs, dtype=np.int32),
        n_outputs=len(boosters),
        n_features=n_features,
        nodes=np.array(records, dtype=NODE),
        cat_ranges=np.asarray(cat_ranges, dtype=np.int32).reshape(-1, 2),
        cat_bits=np.asarray(cat_bits, dtype=np.uint32),
        leaf_value=np.asarray(leaf_value, dtype=np.float64),
        steps=np.asarray(steps, dtype=np.float64).reshape(-1, 2),
        expected=np.asarray(expected, dtype=np.float64),
    )
