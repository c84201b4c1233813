"""Calibrated, non-crossing salary quantiles on log salary, monotone in experience by construction.

Structure of one prediction (all on log salary):

    q_k(x) = trend(year) + center(x) + residual_k(x without experience) + shift_k

- `trend` is a within-group linear year slope, so a year after the data is not stuck at old levels;
- `center` is an L2 booster with a +1 monotone constraint on experience (LightGBM refuses
  monotone constraints with the quantile objective, so the quantile boosters cannot carry it);
- `residual_k` are quantile boosters of the center's residual that never see experience;
- `shift_k` are conformal offsets measured on a held-out calibration fold.

Every quantile is therefore the monotone center plus terms that do not depend on experience.
A row stated the way one of the common calls is may get that call's own center instead, with the
residual boosters taken relative to their median (models/centers.py, docs/model.md).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.pipeline import LEVEL_RANK
from models.centers import SHARED, CenterRows, route_counts, routes_from_counts
from models.forest import Forest, pack
from models.profiles import (
    BITS,
    ROUTES,
    RouteIndex,
    masks,
    profile_columns,
    profile_keys,
    route_columns,
    route_index,
    route_keys,
)
from models.row_predict import RowContributions

log = logging.getLogger(__name__)
QUANTILES: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)
DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.9,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "cat_smooth": 10.0,
    "max_cat_to_onehot": 8,
    "verbose": -1,
    "seed": 42,
    "deterministic": True,
}
TIME_FEATURE = "work_year"
EXPERIENCE_FEATURE = "years_experience"
MAX_ABS_SLOPE = 0.15  # log points per year; beyond this a trend estimate is noise, not drift
MIN_CALIBRATION_ROWS = 200
MIN_PATTERN_ROWS = 100  # calibration rows a pattern of stated parts needs for shifts of its own
PATTERNS = range(1 << len(BITS))
# Model options that may ride in `params` (e.g. from tuned_params.json) but are not LightGBM's own.
MODEL_OPTIONS = ("center_objective", "center_huber_delta", "median_correction", "copy_weight")
# Count thresholds that must hold in rows as the data gave them, not in partial copies of those rows.
PER_ROW_COUNTS = {"min_data_in_leaf": 20, "min_data_per_group": 100}
# Built from the boosters on first use, per process: never pickled, dropped when the boosters change.
ROW_PREDICTORS = ("_packed", "_contrib", "_routing")
# A dedicated center and its median correction (None without one).
Located = tuple[lgb.Booster, "lgb.Booster | None"]
# Fits one booster of a dedicated center: (params, rounds, the booster it corrects or None) -> booster.
CenterTrainer = Callable[[dict[str, Any], int, "lgb.Booster | None"], lgb.Booster]
# How `contributions` explains P50: path attribution over the packed trees, or LightGBM's TreeSHAP.
CONTRIBUTION_METHODS = ("path", "shap")


def quantile_name(q: float) -> str:
    """Public name of a quantile, e.g. 0.25 -> 'p25', shared by outputs, metrics and the API."""
    return f"p{round(q * 100)}"


YEAR_SUMS = ("n", "t", "y", "tt", "ty")  # per-group sums a year slope is measured from


def year_sums(y_log: np.ndarray, years: np.ndarray, groups: np.ndarray, origin: float = 0.0) -> pd.DataFrame:
    """Per-group sums (YEAR_SUMS) of the rows with a year, years from `origin`; they add across parts."""
    ok = np.isfinite(years)
    t = years[ok] - origin
    y = y_log[ok]
    frame = pd.DataFrame({"g": groups[ok], "n": 1.0, "t": t, "y": y, "tt": t * t, "ty": t * y})
    return frame.groupby("g")[list(YEAR_SUMS)].sum()


def slope_from_sums(sums: pd.DataFrame) -> float:
    """Within-group slope of log salary on year from per-group sums, clipped to MAX_ABS_SLOPE."""
    if sums.empty:
        return 0.0
    n = sums["n"].to_numpy()
    denom = float((sums["tt"] - sums["t"] ** 2 / n).sum())
    if denom <= 1e-9 * float(n.sum()):  # a single year in every group: no slope to measure
        return 0.0
    slope = float((sums["ty"] - sums["t"] * sums["y"] / n).sum() / denom)
    return float(np.clip(slope, -MAX_ABS_SLOPE, MAX_ABS_SLOPE))


def year_slope(y_log: np.ndarray, years: np.ndarray, groups: np.ndarray) -> float:
    """Within-group slope of log salary on year, so a changing mix of roles and countries is not drift."""
    ok = np.isfinite(years)
    if ok.sum() < 2 or len(np.unique(years[ok])) < 2:
        return 0.0
    return slope_from_sums(year_sums(y_log, years, groups, origin=float(np.nanmax(years))))


def year_trend(years: np.ndarray, slope: float, reference_year: float) -> np.ndarray:
    """The trend term on log salary; a missing year is the reference year (no trend)."""
    if slope == 0.0:
        return np.zeros(len(years))
    years = np.where(np.isnan(years), reference_year, years)  # nan_to_num costs 10x more
    return slope * (years - reference_year)


def pattern_rows(keys: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Each pattern with the calibration rows its shifts come from: its own, or a coarser pattern's."""
    for key in PATTERNS:
        for mask in masks():
            rows = (keys & mask) == (key & mask)
            if rows.sum() >= MIN_PATTERN_ROWS or mask == 0:
                yield key, rows
                break


def _group_keys(X: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    if not columns:
        return np.zeros(len(X), dtype=np.int64)
    sub = np.nan_to_num(X[:, list(columns)], nan=-1.0)
    _, keys = np.unique(sub, axis=0, return_inverse=True)
    return np.asarray(keys).reshape(-1)


class QuantileModel:
    """Trend + monotone center + residual quantile boosters + conformal shifts; quantiles never cross."""

    def __init__(
        self,
        quantiles: Sequence[float] = QUANTILES,
        params: dict[str, Any] | None = None,
        num_boost_round: int = 400,
        residual_params: dict[str, Any] | None = None,
        residual_rounds: int | None = None,
        center_objective: str = "l2",
    ) -> None:
        self.quantiles = tuple(quantiles)
        self.params = params
        self.num_boost_round = num_boost_round
        self.residual_params = residual_params
        self.residual_rounds = residual_rounds
        self.center_objective = center_objective

    def fit(
        self,
        X: np.ndarray,
        y_log: np.ndarray,
        feature_names: Sequence[str],
        categorical_features: Sequence[str] = (),
        monotone_increasing: Sequence[str] = (),
        calibration: np.ndarray | None = None,
        calibration_note: str = "",
        complete: np.ndarray | None = None,
        centers: Sequence[CenterRows] = (),
    ) -> QuantileModel:
        """Fit without the `calibration` rows and measure the shifts there, then refit on all rows.

        A fold of the newest year refits every booster (see `_is_later`). A random fold refits only
        the trend and center: the residual boosters and the shifts stay as measured on the split.
        `complete` marks the rows as the data gave them (not partial copies); the year trend is
        measured on those alone, as partial copies pool groups whose mix changes from year to year.
        `centers` are the complete rows as kinds of call state them, one dedicated center each
        (models/centers.py); the rows each one answers use it for P50, in the shifts too.
        """
        if X.shape[0] != len(y_log):
            raise ValueError(f"X has {X.shape[0]} rows but y has {len(y_log)}")
        if 0.5 not in self.quantiles:
            raise ValueError(f"quantiles must include 0.5, got {self.quantiles}")
        self.start(
            feature_names,
            categorical_features,
            monotone_increasing,
            1.0 if complete is None else len(y_log) / max(int(np.sum(complete)), 1),
        )
        self.calibration_ = {"fold": calibration_note or "none", "rows": 0}
        group_cols = self.group_columns()
        given = np.arange(len(y_log)) if complete is None else np.flatnonzero(complete)
        centers = list(centers)
        kinds = self._route(centers, given)
        refit = "all"
        cal: np.ndarray | None = None
        if calibration is not None and MIN_CALIBRATION_ROWS <= calibration.sum() < len(y_log) - 1:
            cal = np.asarray(calibration, dtype=bool)
            part = None if complete is None else complete[~cal]
            self._fit_location(X[~cal], y_log[~cal], group_cols, part)
            fitted = self._fit_centers(centers, kinds, y_log[given], ~cal[given])
            self._fit_residuals(X[~cal], y_log[~cal], part)
            centers, kinds = self._choose(centers, fitted, y_log[given], cal[given])
            offsets = y_log[cal, None] - self._raw_log(X[cal])
            keys = profile_keys(X[cal], self.profile_columns_)
            refit = "all" if self._is_later(X, cal) else "center"
            self.calibrate(offsets, keys, calibration_note or "given", refit)
        # Every row informs the trend and the center, which is P50 (the point estimate).
        self._fit_location(X, y_log, group_cols, complete)
        self.keep_centers(self._fit_centers(centers, [k[:1] for k in kinds], y_log[given]))
        if refit == "all":
            measured = None if cal is None else self.residual_spreads(X[cal])
            self._fit_residuals(X, y_log, complete)
            if cal is not None and measured is not None:
                self.keep_width(measured, self.residual_spreads(X[cal]), keys)
        # An exchangeable fold keeps the residual boosters and shifts it measured. The boosters
        # learned the split center's in-sample residuals, narrower than its out-of-sample ones by
        # an amount that depends on how many rows the center saw, and the shifts make up the
        # difference; refitting the boosters on all rows too made the ranges too wide (Stack
        # Overflow 86.2% P10-P90). The refitted center is a little more accurate than the one the
        # shifts were measured around, so the ranges may cover a little more than nominal.
        self._packed_reset()
        return self

    def start(
        self,
        feature_names: Sequence[str],
        categorical_features: Sequence[str] = (),
        monotone_increasing: Sequence[str] = (),
        multiplicity: float = 1.0,
    ) -> QuantileModel:
        """Lay out the columns and zero shifts before any booster: `fit` here, or a cluster's fit.

        `multiplicity` is rows fitted per row as the data gave them (partial copies included).
        """
        names = list(feature_names)
        self.feature_names_ = names
        self.multiplicity_ = float(multiplicity)
        self.categorical_ = [c for c in categorical_features if c in names]
        self.monotone_ = [c for c in monotone_increasing if c in names]
        self.residual_columns_ = [i for i, n in enumerate(names) if n not in self.monotone_]
        self.time_index_ = names.index(TIME_FEATURE) if TIME_FEATURE in names else None
        self.profile_columns_ = profile_columns(names)
        self.shifts_ = {q: 0.0 for q in self.quantiles}
        self.pattern_shifts_ = np.zeros((len(PATTERNS), len(self.quantiles)))
        self.pattern_rows_ = np.zeros(len(PATTERNS), dtype=np.int64)
        self.calibration_ = {"fold": "none", "rows": 0}
        self._no_centers()
        return self

    def _no_centers(self) -> None:
        """No dedicated centers (yet): every row answered by the shared one, as a cluster fit leaves it."""
        self.centers_: list[lgb.Booster] = []
        self.center_medians_: list[lgb.Booster | None] = []
        self.center_choices_: dict[str, str] = {}
        self.center_names_: list[str] = []
        self.center_routes_ = np.full(ROUTES, SHARED, dtype=np.int64)
        self.route_columns_: dict[int, list[int]] = {}

    def group_columns(self) -> list[int]:
        """Columns whose combination is a group for the within-group year slope."""
        names = self.feature_names_
        return [names.index(c) for c in (*self.categorical_, "seniority_rank", LEVEL_RANK) if c in names]

    def quantile_params(self, q: float) -> dict[str, Any]:
        """LightGBM parameters of the residual booster for quantile `q`."""
        base = self._options()[0]
        return {**base, **(self.residual_params or {}), "objective": "quantile", "alpha": q}

    def quantile_rounds(self) -> int:
        """Boosting rounds of each residual booster."""
        return self.residual_rounds or max(self.num_boost_round // 2, 1)

    def corrects_median(self) -> bool:
        """Whether the P50 booster learns the center's residual (else it learns zero: P50 is the center)."""
        return bool(self._options()[1].get("median_correction", True))

    def copy_weight(self) -> float | None:
        """Each partial copy's weight: together a row's copies weigh as much as the row (None: all 1)."""
        if self.multiplicity_ <= 1.0:
            return None
        weight = float(self._options()[1].get("copy_weight", 1.0 / (self.multiplicity_ - 1.0)))
        return None if weight == 1.0 else weight

    @classmethod
    def assemble(
        cls,
        started: QuantileModel,
        trend: tuple[float, float],
        center: lgb.Booster,
        boosters: Mapping[float, lgb.Booster],
    ) -> QuantileModel:
        """A fitted model of boosters trained elsewhere (lightgbm.dask), laid out and calibrated as `started`.

        `trend` is (slope, reference year). `started` is left as it was.
        """
        if set(boosters) != set(started.quantiles):
            raise ValueError(f"expected one booster per quantile {started.quantiles}, got {sorted(boosters)}")
        model = cls.__new__(cls)
        model.__dict__.update(started.__getstate__())  # without one-row predictors built for other boosters
        model.slope_, model.reference_year_ = float(trend[0]), float(trend[1])
        model.center_ = center
        model.boosters_ = dict(boosters)
        return model

    def raw_quantiles(self, X: np.ndarray) -> np.ndarray:
        """Log-salary quantiles before conformal shifts and the non-crossing fix: what shifts calibrate."""
        return self._raw_log(X)

    def calibrate(self, offsets: np.ndarray, keys: np.ndarray, note: str, refit: str) -> None:
        """Conformal shifts from held-out rows' offsets (log target - `raw_quantiles`) and pattern keys."""
        center_offset = self._calibrate(offsets, keys)
        self.calibration_ = {
            "fold": note,
            "rows": len(offsets),
            "refit": refit,
            "center_offset": round(center_offset, 4),
        }

    def _calibrate(self, offsets: np.ndarray, keys: np.ndarray) -> float:
        """Conformal shifts per pattern of stated parts; a thin pattern borrows a coarser one's.

        P50 is the point estimate (it minimises MAE) and is left as fitted; shifts calibrate the range
        around it. They are measured from where P50 landed on the fold: otherwise the split center's
        miss there (on a newest-year fold, its year-ahead drift) moved every quantile but P50, and the
        range sat off-center (aijobs 2024: 12.8% below P10, 5.0% above P90). Returns the whole fold's
        P50 offset.
        """
        mid = self.quantiles.index(0.5)

        def shifts(rows: np.ndarray) -> np.ndarray:
            center = float(np.median(offsets[rows, mid]))
            out = np.array(
                [float(np.quantile(offsets[rows, i], q)) - center for i, q in enumerate(self.quantiles)]
            )
            out[mid] = 0.0
            return out

        everyone = np.ones(len(keys), dtype=bool)
        self.shifts_ = dict(zip(self.quantiles, shifts(everyone).tolist(), strict=True))
        for key, rows in pattern_rows(keys):
            self.pattern_shifts_[key] = shifts(rows)
            self.pattern_rows_[key] = int(rows.sum())
        return float(np.median(offsets[:, mid]))

    def residual_spreads(self, X: np.ndarray) -> np.ndarray:
        """Each residual quantile less the P50 residual: the range's shape, which the shifts adjust."""
        resid = self._residuals(X)
        spreads: np.ndarray = resid - resid[:, [self.quantiles.index(0.5)]]
        return spreads

    def _residuals(self, X: np.ndarray, num_threads: int | None = None) -> np.ndarray:
        """Each residual booster's prediction, one column per quantile."""
        kwargs: dict[str, Any] = {"num_threads": num_threads} if num_threads else {}
        Xr = X[:, self.residual_columns_]
        return np.column_stack([self.boosters_[q].predict(Xr, **kwargs) for q in self.quantiles])

    def keep_width(self, measured: np.ndarray, refitted: np.ndarray, keys: np.ndarray) -> None:
        """Give back, per pattern, what refitting the residual boosters narrowed its range on the fold.

        On a newest-year fold the shifts are measured around boosters fitted without that year, then
        the boosters are refitted with it. Where the refit learned a narrower spread for a pattern, the
        shifts (which already narrowed the split's range to the fold) would count that narrowing twice:
        aijobs title-only calls, whose rows state no place while the newest year is mostly US, covered
        70.7% of 2024 for a promised 80%. Where the refit is wider, it is kept: a range is never
        narrowed by boosters its shifts were not measured with (docs/model.md, "Calibration").
        """
        mid = self.quantiles.index(0.5)
        widened = 0
        for key, rows in pattern_rows(keys):
            change = np.median(measured[rows] - refitted[rows], axis=0)
            change[:mid] = np.minimum(change[:mid], 0.0)  # lower quantiles only move down
            change[mid + 1 :] = np.maximum(change[mid + 1 :], 0.0)  # upper ones only up
            self.pattern_shifts_[key] += change
            widened += bool(change.any())
        self.calibration_["widened_patterns"] = widened

    def _is_later(self, X: np.ndarray, cal: np.ndarray) -> bool:
        """A fold later than every other row is the newest data: refit on it too and keep the shifts."""
        if self.time_index_ is None:
            return False
        years = X[:, self.time_index_]
        return bool(np.nanmin(years[cal]) > np.nanmax(years[~cal]))

    def _options(self, multiplicity: float | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """LightGBM's parameters and the model options (MODEL_OPTIONS) riding in `params`."""
        base = {**DEFAULT_PARAMS, **(self.params or {})}
        options = {k: base.pop(k) for k in MODEL_OPTIONS if k in base}
        ratio = getattr(self, "multiplicity_", 1.0) if multiplicity is None else multiplicity
        for name, default in PER_ROW_COUNTS.items():  # a leaf needs as many rows as the data gave
            base[name] = round(base.get(name, default) * ratio)
        return base, options

    def center_params(self, multiplicity: float | None = None) -> dict[str, Any]:
        """A center's LightGBM parameters: the configured objective, monotone in experience."""
        base, options = self._options(multiplicity)
        params = {
            **base,
            "objective": options.get("center_objective", self.center_objective),
            "monotone_constraints": [1 if n in self.monotone_ else 0 for n in self.feature_names_],
            # "advanced" let P50 fall with experience (by 0.1%) once partial copies were down-weighted.
            "monotone_constraints_method": base.get("monotone_constraints_method", "intermediate"),
        }
        if params["objective"] == "huber":  # LightGBM's huber delta is its `alpha`
            params["alpha"] = float(options.get("center_huber_delta", 0.3))
        return params

    def _weights(self, complete: np.ndarray | None) -> np.ndarray | None:
        """A row's partial copies together weigh as much as the row (option `copy_weight`: each copy's).

        Measured on aijobs (docs/model.md): copies at full weight drowned the rows as given and cost
        all-fields accuracy; at 1/copies each, every call profile was as accurate or better.
        """
        weight = self.copy_weight()
        return None if weight is None or complete is None else np.where(complete, 1.0, weight)

    def _fit_location(
        self, X: np.ndarray, y_log: np.ndarray, group_cols: Sequence[int], complete: np.ndarray | None
    ) -> None:
        """The year trend (on complete rows) and the monotone center on the detrended target."""
        years = X[:, self.time_index_] if self.time_index_ is not None else None
        if years is not None and np.isfinite(years).any():
            self.reference_year_ = float(np.nanmax(years))
            rows = slice(None) if complete is None else np.asarray(complete, dtype=bool)
            self.slope_ = year_slope(y_log[rows], years[rows], _group_keys(X[rows], group_cols))
        else:
            self.reference_year_, self.slope_ = 0.0, 0.0
        target = y_log - self._trend(X)
        self.center_ = lgb.train(
            self.center_params(),
            self._dataset(X, target, self.feature_names_, self._weights(complete)),
            self.num_boost_round,
        )
        log.info("fitted the center booster on %d rows", len(y_log))

    def _route(self, centers: Sequence[CenterRows], given: np.ndarray) -> list[tuple[str, ...]]:
        """Which rows each dedicated center will answer, read off the rows it is fitted on; its kinds."""
        for c in centers:
            if c.X.shape != (len(given), len(self.feature_names_)):
                expected = (len(given), len(self.feature_names_))
                raise ValueError(f"center {c.name!r} has rows of shape {c.X.shape}, expected {expected}")
        counts = [route_counts(route_keys(c.X, self.route_key_columns())) for c in centers]
        return self.plan_centers([c.name for c in centers], [c.parts for c in centers], counts)

    def plan_centers(
        self, names: Sequence[str], parts: Sequence[frozenset[str]], counts: Sequence[np.ndarray]
    ) -> list[tuple[str, ...]]:
        """Route each key to a center from its training rows' route-key counts (`route_counts`, which
        add across parts of the rows); each center's kinds to try (`center_kinds`), default first."""
        self.route_columns_ = route_columns(self.feature_names_)
        self.__dict__.pop("_routing", None)
        self.center_names_ = list(names)
        self.center_routes_ = routes_from_counts(np.array(counts).reshape(len(names), ROUTES), parts)
        self.centers_ = []
        self.center_medians_ = []
        kinds = [self.center_kinds(p) for p in parts]
        self.center_choices_ = {n: k[0] for n, k in zip(names, kinds, strict=True)}
        return kinds

    def route_key_columns(self) -> RouteIndex:
        """The route columns of this model's feature rows, for `route_keys` (computed where the rows are)."""
        return route_index(route_columns(self.feature_names_))

    def center_kinds(self, parts: frozenset[str]) -> tuple[str, ...]:
        """The kinds of dedicated center worth trying for a kind of call (stating `parts`), the default first.

        "center": the shared center's objective with its monotone constraint; "center+median": plus its
        own median correction (an L2 center is the mean of log, not its median); "quantile": a direct
        P50 booster, the one kind for calls that state no experience. Those rows have nothing to be
        monotone in, so nothing stops the objective the estimate is judged by (LightGBM refuses
        monotone constraints with the quantile objective); letting the fold pick among near-equal kinds
        chose on noise (Ask A Manager title only: 0.2% apart on the fold, 0.7% on the evaluation rows).
        """
        if parts and "experience" not in parts:
            return ("quantile",)
        median = bool(self._options()[1].get("median_correction", True))
        return ("center+median", "center") if median else ("center",)

    def _choose(
        self,
        centers: list[CenterRows],
        fitted: list[dict[str, Located]],
        y_log: np.ndarray,
        held_out: np.ndarray,
    ) -> tuple[list[CenterRows], list[tuple[str, ...]]]:
        """`choose_centers` by the mean errors on the held-out rows as each center's call states them."""
        n = max(int(held_out.sum()), 1)
        errors = [
            {k: v / n for k, v in self.center_errors(c.X[held_out], y_log[held_out], f).items()}
            for c, f in zip(centers, fitted, strict=True)
        ]
        kept, kinds = self.choose_centers(fitted, errors)
        return [centers[j] for j in kept], kinds

    def center_errors(
        self, X: np.ndarray, y_log: np.ndarray, fitted: Mapping[str, Located]
    ) -> dict[str, float]:
        """Summed dollar errors of P50 on rows as one call states them: the shared center's ("shared")
        and each fitted kind's; sums, so parts of the rows add up."""
        trend, Xr = self._trend(X), X[:, self.residual_columns_]
        candidates = {"shared": trend + self.center_.predict(X) + self.boosters_[0.5].predict(Xr)}
        for kind, (center, median) in fitted.items():
            candidates[kind] = trend + center.predict(X) + (0.0 if median is None else median.predict(Xr))
        salary = np.exp(y_log)
        return {k: float(np.sum(np.abs(salary - np.exp(v)))) for k, v in candidates.items()}

    def choose_centers(
        self, fitted: list[dict[str, Located]], errors: list[dict[str, float]]
    ) -> tuple[list[int], list[tuple[str, ...]]]:
        """Keep each dedicated center, of the kind that does best, only where it beats the shared center
        on the held-out rows as its call states them (`errors`: dollar MAE, P50 being the estimate).

        Returns the kept centers' positions and the kind of each; the routes of a dropped center go back
        to the shared one.
        """
        kept: list[int] = []
        kinds: list[tuple[str, ...]] = []
        names = self.center_names_
        for j, error in enumerate(errors):
            choice = min(error, key=error.__getitem__)
            self.center_choices_[names[j]] = choice
            log.info("%s calls on the calibration fold, MAE by center: %s", names[j], error)
            if choice != "shared":
                kept.append(j)
                kinds.append((choice,))
        remap = np.full(len(errors) + 1, SHARED, dtype=np.int64)  # the last slot maps SHARED itself
        remap[kept] = np.arange(len(kept))
        self.center_routes_ = remap[self.center_routes_]
        self.center_names_ = [names[j] for j in kept]
        self.keep_centers([{k[0]: fitted[j][k[0]]} for j, k in zip(kept, kinds, strict=True)])
        return kept, kinds

    def keep_centers(self, fitted: list[dict[str, Located]]) -> None:
        """The one fitted kind of each center, as the boosters predictions use."""
        self.centers_ = [next(iter(f.values()))[0] for f in fitted]
        self.center_medians_ = [next(iter(f.values()))[1] for f in fitted]
        self._packed_reset()

    def _fit_centers(
        self,
        centers: Sequence[CenterRows],
        kinds: Sequence[tuple[str, ...]],
        y_log: np.ndarray,
        keep: np.ndarray | None = None,
    ) -> list[dict[str, Located]]:
        """For each kind of call, a dedicated center of each kind asked for (`center_kinds`), on every
        kept row as that call states it, weight 1 (`fit_center`)."""
        out: list[dict[str, Located]] = []
        for c, wanted in zip(centers, kinds, strict=True):
            X = c.X if keep is None else c.X[keep]
            y = (y_log if keep is None else y_log[keep]) - self._trend(X)
            out.append(self.fit_center(wanted, functools.partial(self._train_center, X, y)))
            log.info("fitted the %s center (%s) on %d rows", c.name, ", ".join(wanted), len(y))
        return out

    def _train_center(
        self, X: np.ndarray, y: np.ndarray, params: dict[str, Any], rounds: int, around: lgb.Booster | None
    ) -> lgb.Booster:
        """One booster of a dedicated center in this process (a `CenterTrainer` once X and y are bound)."""
        if around is None:
            return lgb.train(params, self._dataset(X, y, self.feature_names_), rounds)
        rnames = [self.feature_names_[i] for i in self.residual_columns_]
        data = self._dataset(X[:, self.residual_columns_], y - around.predict(X), rnames)
        return lgb.train(params, data, rounds)

    def fit_center(self, wanted: Sequence[str], train: CenterTrainer) -> dict[str, Located]:
        """The kinds of one dedicated center asked for, each booster by `train` (here, or on a cluster).

        `train(params, rounds, around)` fits on the call's rows, target log salary less the trend: on
        every column, or with `around` a booster, on the residual columns and the target less its
        prediction. Same trend as the shared center, and (but for "quantile") its objective and monotone
        constraint; its rows are the data's own, so leaf sizes count them as given.
        """
        base = self._options(multiplicity=1.0)[0]
        rounds = self.residual_rounds or max(self.num_boost_round // 2, 1)
        fitted: dict[str, Located] = {}
        if {"center", "center+median"} & set(wanted):
            center = train(self.center_params(multiplicity=1.0), self.num_boost_round, None)
            if "center" in wanted:
                fitted["center"] = (center, None)
            if "center+median" in wanted:
                median = {**base, **(self.residual_params or {}), "objective": "quantile", "alpha": 0.5}
                fitted["center+median"] = (center, train(median, rounds, center))
        if "quantile" in wanted:
            direct = {**base, "objective": "quantile", "alpha": 0.5}
            fitted["quantile"] = (train(direct, self.num_boost_round, None), None)
        return {k: fitted[k] for k in wanted}

    def _fit_residuals(self, X: np.ndarray, y_log: np.ndarray, complete: np.ndarray | None) -> None:
        """Quantile boosters of the current location's residual on these rows, without experience."""
        residual = y_log - self._trend(X) - self.center_.predict(X)
        Xr = X[:, self.residual_columns_]
        rnames = [self.feature_names_[i] for i in self.residual_columns_]
        self.boosters_: dict[float, lgb.Booster] = {}
        weight = self._weights(complete)
        for q in self.quantiles:
            # Without the median correction the P50 booster learns zero, so P50 is the (robust) center.
            label = residual if self.corrects_median() or q != 0.5 else np.zeros_like(residual)
            self.boosters_[q] = lgb.train(
                self.quantile_params(q), self._dataset(Xr, label, rnames, weight), self.quantile_rounds()
            )
            log.info("fitted the %s booster on %d rows", quantile_name(q), len(y_log))

    def _packed_reset(self) -> None:
        """Drop one-row predictors built from boosters that a refit replaced."""
        for key in ROW_PREDICTORS:
            self.__dict__.pop(key, None)

    def _dataset(
        self, X: np.ndarray, y: np.ndarray, names: list[str], weight: np.ndarray | None = None
    ) -> lgb.Dataset:
        return lgb.Dataset(
            X,
            label=y,
            weight=weight,
            feature_name=names,
            categorical_feature=[c for c in self.categorical_ if c in names],
            free_raw_data=False,
        )

    def _trend(self, X: np.ndarray) -> np.ndarray:
        if self.time_index_ is None or self.slope_ == 0.0:
            return np.zeros(len(X))
        return year_trend(X[:, self.time_index_], self.slope_, self.reference_year_)

    def _routes(self, X: np.ndarray) -> np.ndarray:
        """Per row, the dedicated center that answers it, or SHARED."""
        if not self.centers_:
            return np.full(len(X), SHARED, dtype=np.int64)
        routes: np.ndarray = self.center_routes_[route_keys(X, self._route_index())]
        return routes

    def _route_index(self) -> RouteIndex:
        """The route columns laid out for `route_keys`, built on first use (not pickled)."""
        index = self.__dict__.get("_routing")
        if index is None:
            index = self.__dict__.setdefault("_routing", route_index(self.route_columns_))
        return index

    def _location(self, route: int) -> list[tuple[lgb.Booster, list[int] | None]]:
        """Boosters that, with the trend, place a route's rows (each with its columns, None: all): the
        shared center, or a dedicated center and its own median correction."""
        if route == SHARED:
            return [(self.center_, None)]
        located: list[tuple[lgb.Booster, list[int] | None]] = [(self.centers_[route], None)]
        median = self.center_medians_[route] if self.center_medians_ else None
        if median is not None:
            located.append((median, self.residual_columns_))
        return located

    def _p50(self, route: int) -> list[tuple[lgb.Booster, list[int] | None]]:
        """Boosters whose sum is log P50 minus the trend (and the P50 shift) for a route's rows."""
        p50 = [(self.boosters_[0.5], self.residual_columns_)] if route == SHARED else []
        return [*self._location(route), *p50]

    def _raw_log(self, X: np.ndarray, num_threads: int | None = None) -> np.ndarray:
        """Quantiles before shifts; a row a dedicated center answers gets it as P50 and the residual
        boosters relative to their median, so a correction learned around the shared center moves no P50."""
        if len(X) == 1:  # the API's case: packed trees, a fraction of six Booster.predict calls
            return self._raw_log_row(X)
        kwargs: dict[str, Any] = {"num_threads": num_threads} if num_threads else {}
        routes = self._routes(X)
        base = self._trend(X)
        for route in np.unique(routes):
            rows = routes == route
            for booster, cols in self._location(int(route)):
                part = X[rows] if cols is None else X[np.ix_(rows, cols)]
                base[rows] += booster.predict(part, **kwargs)
        return base[:, None] + self._relative(self._residuals(X, num_threads), routes != SHARED)

    def _relative(self, resid: np.ndarray, dedicated: np.ndarray) -> np.ndarray:
        """Residuals of rows a dedicated center answers, taken relative to the P50 residual."""
        if dedicated.any():
            mid = self.quantiles.index(0.5)
            resid[dedicated] -= resid[dedicated, mid][:, None]
        return resid

    def _raw_log_row(self, X: np.ndarray) -> np.ndarray:
        route = int(self._routes(X)[0])
        forest = self._forest(route)
        dedicated = np.array([route != SHARED])
        if forest is None:  # boosters the packed walk refused: LightGBM's own predict, one thread
            base = self._trend(X)
            for booster, cols in self._location(route):
                base += booster.predict(X if cols is None else X[:, cols], num_threads=1)
            return base[:, None] + self._relative(self._residuals(X, num_threads=1), dedicated)
        values = forest.predict_row(X[0])  # the row's location boosters, then one residual per quantile
        k = len(values) - len(self.quantiles)
        resid = values[k:]
        if route != SHARED:
            resid = resid - resid[self.quantiles.index(0.5)]
        return (self._trend(X)[0] + values[:k].sum() + resid)[None, :]

    def _forest(self, route: int = SHARED) -> Forest | None:
        """The row's location and residual boosters packed for one-row prediction, or None where the
        packer refuses them; one forest per center, built on first use (not pickled)."""
        packed: dict[int, Forest | None] = self.__dict__.setdefault("_packed", {})
        if route not in packed:
            residuals = [(self.boosters_[q], self.residual_columns_) for q in self.quantiles]
            forest: Forest | None = None
            try:
                forest = pack([*self._location(route), *residuals], len(self.feature_names_))
            except ValueError as exc:
                logging.getLogger(__name__).warning("one-row predictions use Booster.predict: %s", exc)
            packed.setdefault(route, forest)
        return packed[route]

    def _contrib_predictors(self, route: int = SHARED) -> list[tuple[RowContributions, list[int] | None]]:
        """LightGBM's single-row contributions for each booster behind a route's P50 (`_p50`); built on
        first use per center, not pickled."""
        cache: dict[int, list[tuple[RowContributions, list[int] | None]]]
        cache = self.__dict__.setdefault("_contrib", {})
        fast = cache.get(route)
        if fast is None:
            built = [(RowContributions(booster), cols) for booster, cols in self._p50(route)]
            fast = cache.setdefault(route, built)
        return fast

    def predict(self, X: np.ndarray, num_threads: int | None = None) -> np.ndarray:
        """Log-salary quantiles, one column each; P50 is kept, the others pushed outward if they cross."""
        out = self._raw_log(X, num_threads) + self.pattern_shifts_[profile_keys(X, self.profile_columns_)]
        mid = self.quantiles.index(0.5)
        for i in range(mid - 1, -1, -1):
            out[:, i] = np.minimum(out[:, i], out[:, i + 1])
        for i in range(mid + 1, len(self.quantiles)):
            out[:, i] = np.maximum(out[:, i], out[:, i - 1])
        return out

    def contributions(self, X: np.ndarray, method: str = "path") -> tuple[np.ndarray, np.ndarray]:
        """Per-feature log contributions to P50 and the per-row baseline; baseline + sum == log P50.

        `method="path"` (path attribution over the packed trees, models/forest.py) costs one tree walk,
        so drivers can stay on by default; `"shap"` is LightGBM's TreeSHAP, 60-120 times the cost,
        which the path method approximates (docs/model.md, "Explanations"). Boosters the packed
        walk refuses get TreeSHAP either way.
        """
        if method not in CONTRIBUTION_METHODS:
            raise ValueError(f"method must be one of {CONTRIBUTION_METHODS}, got {method!r}")
        routes = self._routes(X)
        if len(X) == 1 or not self.centers_:
            contrib, expected = self._explain(X, int(routes[0]) if len(X) else SHARED, method)
        else:
            contrib, expected = np.zeros((len(X), len(self.feature_names_))), np.zeros(len(X))
            for route in np.unique(routes):
                rows = routes == route
                contrib[rows], expected[rows] = self._explain(X[rows], int(route), method)
        if self.time_index_ is not None:
            contrib[:, self.time_index_] += self._trend(X)
        return contrib, expected + self.shifts_[0.5]

    def _explain(self, X: np.ndarray, route: int, method: str) -> tuple[np.ndarray, np.ndarray]:
        """Contributions of the boosters behind the rows' P50 (`_p50`) and their expected value."""
        forest = self._forest(route) if method == "path" else None
        if forest is not None:
            k = len(self._location(route))
            p50 = [k + self.quantiles.index(0.5)] if route == SHARED else []
            values = forest.contributions(X, [*range(k), *p50])
            return values[:, :-1], values[:, -1]
        return self._tree_shap(X, route)

    def explains_by_path(self) -> bool:
        """Whether `contributions` can use the packed trees, so drivers cost about one tree walk."""
        return self._forest() is not None

    def _tree_shap(self, X: np.ndarray, route: int = SHARED) -> tuple[np.ndarray, np.ndarray]:
        """LightGBM's TreeSHAP of each booster behind the rows' P50, and their summed expected values."""
        contrib, expected = np.zeros((len(X), len(self.feature_names_))), np.zeros(len(X))
        if len(X) == 1:  # each single-row predictor has its own lock
            parts = [
                (fast(X[0] if cols is None else X[0, cols])[None, :], cols)
                for fast, cols in self._contrib_predictors(route)
            ]
        else:
            with self._contrib_lock():
                parts = []
                for booster, cols in self._p50(route):
                    rows = X if cols is None else X[:, cols]
                    values = booster.predict(rows, pred_contrib=True, num_threads=1)
                    parts.append((np.asarray(values, dtype=float), cols))
        for values, cols in parts:
            if cols is None:
                contrib += values[:, :-1]
            else:
                contrib[:, cols] += values[:, :-1]
            expected += values[:, -1]
        return contrib, expected

    def _contrib_lock(self) -> threading.Lock:
        # LightGBM's pred_contrib is not safe under concurrent calls on one booster (LightGBM #5482).
        lock = self.__dict__.get("_lock")
        if lock is None:
            lock = self.__dict__.setdefault("_lock", threading.Lock())
        return lock

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Models fitted before per-profile centers have none: every row uses the shared center.
        self.__dict__.update(state)
        self.__dict__.setdefault("centers_", [])
        self.__dict__.setdefault("center_medians_", [])
        self.__dict__.setdefault("center_choices_", {})
        self.__dict__.setdefault("center_names_", [])
        self.__dict__.setdefault("center_routes_", np.full(ROUTES, SHARED, dtype=np.int64))
        self.__dict__.setdefault("route_columns_", {})

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for key in ("_lock", *ROW_PREDICTORS):
            state.pop(key, None)
        return state
