"""The quantile bundle fitted on a Dask cluster, step for step as `QuantileModel.fit` does in one process.

Feature vocabularies come from counts summed over partitions, the feature matrix (with each partition's
partial copies) stays on the workers as one frame per worker, the year trend comes from per-group sums,
the boosters from `lightgbm.dask`, and the conformal shifts from the calibration rows' offsets, of which
the driver collects at most `OFFSET_ROWS`. The driver never holds the rows.

Memory: a worker's frame holds the rows outside the calibration fold first and the fold's rows last,
so either side is a slice of it; being one partition, lightgbm.dask's join of a worker's parts is the
frame itself; and its features are one float32 block, which LightGBM reads without converting. So a
booster on all features adds only LightGBM's own dataset to what the worker holds (benchmarks/RESULTS.md,
"Scale").
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import dask
import dask.dataframe as dd
import lightgbm as lgb
import numpy as np
import pandas as pd
from distributed import Client
from lightgbm.dask import DaskLGBMRegressor

from features.pipeline import FeatureCounts, Interpretation, JobFeatures, interpret_all
from features.population import Population
from models.bundle import SalaryModel
from models.profiles import profile_keys
from models.quantile import (
    MIN_CALIBRATION_ROWS,
    TIME_FEATURE,
    YEAR_SUMS,
    QuantileModel,
    slope_from_sums,
    year_sums,
    year_trend,
)
from training.augment import blank_parts
from training.cluster import guarded, wait_for_other_trainings, worker_addresses
from training.config import TrainConfig
from training.dask_data import nonempty, partition_lengths
from training.sources.base import TARGET
from training.splits import HoldoutRule, YearCounts, calibration_rule, partition_stream

if TYPE_CHECKING:
    from training.dask_centers import ClusterCenters

log = logging.getLogger(__name__)
Y, CALIBRATION, COMPLETE = "__y", "__calibration", "__complete"
OFFSET_ROWS = 200_000  # calibration rows whose offsets the driver collects, at most (a seeded sample beyond)
# The feature columns the workers hold. Every feature is a rank, a code, a 0/1 flag, a year or a
# number to a tenth, which float32 keeps distinct and in order, so LightGBM bins the rows as from
# float64 at half the memory (benchmarks/RESULTS.md, "Scale"); the log target stays float64.
FEATURE_DTYPE = np.float32
# Rows a partition needs before LightGBM trains on it, else it joins the next: a worker of one or two
# rows failed ("num_data > 0"), and one of a few dozen set the bins of its share of the features from
# them (aijobs cut into files by year: 12-40% more MAE by call profile).
MIN_PART_ROWS = 500
CHUNK_ROWS = 50_000  # rows interpreted at a time: a partition's interpretations never all exist at once


def count_partition(frame: pd.DataFrame, source: str) -> tuple[FeatureCounts, Population]:
    """What fitting the features and the training population needs from one partition, as counts."""
    rows = interpret_all(frame)
    return FeatureCounts.of(rows), Population.count(rows, source)


def fit_features(
    client: Client, frame: dd.DataFrame, config: TrainConfig
) -> tuple[JobFeatures, Population, FeatureCounts]:
    """JobFeatures fitted from the partitions' summed counts, and the training population."""
    parts = [dask.delayed(count_partition)(part, config.source) for part in frame.to_delayed()]
    counted = client.compute(parts, sync=True)
    counts = sum((c for c, _ in counted), FeatureCounts())
    population = Population.merge((p for _, p in counted), config.source)
    return JobFeatures(min_count=config.min_count).fit_counts(counts), population, counts


def fold_rule(counts: FeatureCounts, default_year: int | None, seed: int) -> HoldoutRule:
    """The calibration fold's rule from the training rows' years (a missing year counts as the default)."""
    years = {float(y): n for y, n in counts.years.items()}
    missing = counts.rows - sum(counts.years.values())
    if default_year is not None and missing:
        years[float(default_year)] = years.get(float(default_year), 0) + missing
        missing = 0
    return calibration_rule(YearCounts(years, missing), seed)


def matrix_meta(names: list[str]) -> pd.DataFrame:
    """The columns of a feature-matrix partition: the features, the log target and two row flags."""
    columns = {n: pd.Series(dtype=FEATURE_DTYPE) for n in names}
    return pd.DataFrame(
        {
            **columns,
            Y: pd.Series(dtype=float),
            CALIBRATION: pd.Series(dtype=bool),
            COMPLETE: pd.Series(dtype=bool),
        }
    )


def work_years(rows: list[Interpretation], features: JobFeatures) -> np.ndarray:
    """Each row's work year, a missing one counted as the default, as the calibration fold reads it."""
    default = features.default_work_year_
    return np.array([r.work_year or default or np.nan for r in rows], dtype=float)


def feature_rows(frame: pd.DataFrame, features: JobFeatures) -> tuple[np.ndarray, np.ndarray]:
    """The rows as FEATURE_DTYPE features and their work years, interpreted CHUNK_ROWS at a time, so a
    partition's interpretations never all exist at once."""
    values = np.empty((len(frame), len(features.get_feature_names_out())), dtype=FEATURE_DTYPE)
    years = np.empty(len(frame), dtype=float)
    for start in range(0, len(frame), CHUNK_ROWS):
        rows = interpret_all(frame.iloc[start : start + CHUNK_ROWS])
        stop = start + len(rows)
        values[start:stop] = features.transform_interpretations(rows)
        years[start:stop] = work_years(rows, features)
    return values, years


def matrix_partition(
    frame: pd.DataFrame,
    features: JobFeatures,
    copies: int,
    seed: int,
    fold: HoldoutRule,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """One partition's rows and their partial copies as features, log target, calibration and row flags."""
    number = partition_info["number"] if partition_info else 0
    augmented, origin = blank_parts(frame, copies, partition_stream(seed, "copies", number))
    values, years = feature_rows(augmented, features)
    del augmented
    calibration = fold.mask(years[: len(frame)], number)  # the rows as given come first
    out = pd.DataFrame(values, columns=list(features.get_feature_names_out()), copy=False)
    out[Y] = np.log(frame[TARGET].to_numpy(dtype=float))[origin]
    out[CALIBRATION] = calibration[origin]
    out[COMPLETE] = np.arange(len(origin)) < len(frame)
    return out


def stacked(pieces: Iterable[pd.DataFrame], rows: int, meta: pd.DataFrame) -> pd.DataFrame:
    """Pieces of `meta`'s columns as one frame of `rows` rows, each piece's rows outside the calibration
    fold filled in from the front and its fold's rows from the back, so that either side of the split is
    a slice of the frame, not a copy; the FEATURE_DTYPE columns one block, which LightGBM reads as is."""
    names = [c for c in meta.columns if meta[c].dtype == FEATURE_DTYPE]
    values = np.empty((rows, len(names)), dtype=FEATURE_DTYPE)
    others = {c: np.empty(rows, dtype=meta[c].to_numpy().dtype) for c in meta.columns if c not in names}
    front, back = 0, rows
    for piece in pieces:
        held = piece[CALIBRATION].to_numpy()
        outside = int(len(held) - held.sum())
        inside = len(held) - outside
        columns = [(values, piece[names].to_numpy()), *((others[c], piece[c].to_numpy()) for c in others)]
        for target, source in columns:
            np.compress(~held, source, axis=0, out=target[front : front + outside])
            np.compress(held, source, axis=0, out=target[back - inside : back])
        front, back = front + outside, back - inside
    if front != back:
        raise ValueError(f"expected {rows} rows from the pieces, got {rows - (back - front)}")
    out = pd.DataFrame(values, columns=names, copy=False)
    for column, array in others.items():
        out[column] = array
    return out


def worker_block(
    parts: list[pd.DataFrame],
    numbers: list[int],
    piece: Callable[..., pd.DataFrame],
    rows_per_row: int,
    meta: pd.DataFrame,
) -> pd.DataFrame:
    """A worker's partitions (numbered as in the frame) as one `stacked` frame of `meta`'s columns:
    `piece(partition, partition_info=...)` makes each partition's `rows_per_row` rows per row."""
    pieces = (piece(part, partition_info={"number": n}) for part, n in zip(parts, numbers, strict=True))
    return stacked(pieces, rows_per_row * sum(len(p) for p in parts), meta)


def per_worker(
    client: Client,
    frame: dd.DataFrame,
    build: Callable[[list[pd.DataFrame], list[int]], pd.DataFrame],
    meta: pd.DataFrame,
) -> dd.DataFrame:
    """`build` on each worker's share of the partitions (by number, round robin, as `spread` places
    them), one partition per worker, kept there; then as `coalesce` leaves it (empty or small ones)."""
    workers = len(worker_addresses(client))
    parts = frame.to_delayed()
    shares = [list(range(w, len(parts), workers)) for w in range(min(workers, len(parts)))]
    blocks = [dask.delayed(build)([parts[i] for i in share], share) for share in shares]
    return coalesce(client, spread(client, dd.from_delayed(blocks, meta=meta, verify_meta=False), meta), meta)


def side_rows(part: pd.DataFrame, calibration: bool) -> pd.DataFrame:
    """The partition's rows in the calibration fold (or outside it): a slice when the fold's rows come
    last, as `stacked` puts them, else a copy."""
    held = part[CALIBRATION].to_numpy()
    outside = int(len(held) - held.sum())
    if not held[:outside].any():
        return part.iloc[outside:] if calibration else part.iloc[:outside]
    return part.loc[held == calibration]


def fit_booster(
    client: Client,
    X: dd.DataFrame,
    y: dd.Series,
    weight: dd.Series | None,
    params: dict[str, Any],
    rounds: int,
    categorical: list[str],
    what: str,
) -> lgb.Booster:
    """One booster by lightgbm.dask; a worker lost while it trains stops it with WorkerLost."""
    wait_for_other_trainings(client)
    start = time.perf_counter()
    regressor = DaskLGBMRegressor(client=client, n_estimators=rounds, **params)
    guarded(client, lambda: regressor.fit(X, y, sample_weight=weight, categorical_feature=categorical), what)
    log.info("done %s on the cluster: %d rounds in %.1f s", what, rounds, time.perf_counter() - start)
    return regressor.booster_


def _weights(complete: pd.Series, copy_weight: float) -> pd.Series:
    return pd.Series(np.where(complete.to_numpy(), 1.0, copy_weight), index=complete.index)


def _group_sums(part: pd.DataFrame, groups: list[str], origin: float) -> pd.DataFrame:
    """Per-group year sums of the partition's complete rows, the group (column `g`) as its values in text;
    only the columns read are cut to those rows (a worker's partition is all it holds)."""
    complete = part[COMPLETE].to_numpy()
    keys = pd.Series("", index=np.flatnonzero(complete))
    for column in groups:
        values = pd.Series(part[column].to_numpy()[complete], index=keys.index)
        keys = keys + "|" + values.fillna(-1.0).astype(str)
    years = part[TIME_FEATURE].to_numpy(dtype=float)[complete]
    sums = year_sums(part[Y].to_numpy()[complete], years, keys.to_numpy(), origin)
    return sums.rename_axis("g").reset_index()


def _sums_meta() -> pd.DataFrame:
    return pd.DataFrame({"g": pd.Series(dtype=object), **{c: pd.Series(dtype=float) for c in YEAR_SUMS}})


def _target(part: pd.DataFrame, slope: float, reference: float) -> pd.Series:
    trend = year_trend(part[TIME_FEATURE].to_numpy(dtype=float), slope, reference)
    return part[Y] - trend


def _residual(
    part: pd.DataFrame, names: list[str], slope: float, reference: float, center: lgb.Booster, zero: bool
) -> pd.Series:
    if zero:
        return pd.Series(np.zeros(len(part)), index=part.index)
    return _target(part, slope, reference) - center.predict(part[names].to_numpy())


class ClusterFit:
    """The steps of `QuantileModel.fit` on a matrix held by the cluster, for one started model."""

    def __init__(self, client: Client, model: QuantileModel, matrix: dd.DataFrame) -> None:
        self.client = client
        self.model = model
        self.names = list(model.feature_names_)
        self.rnames = [self.names[i] for i in model.residual_columns_]
        # A categorical column with no value at all kills a lightgbm.dask worker while it builds its
        # dataset (LightGBM 4.7); such a column has nothing to split on, so it is left undeclared.
        stated = matrix[model.categorical_].count().compute() if model.categorical_ else pd.Series(dtype=int)
        self.categorical = [c for c in model.categorical_ if stated.get(c, 0) > 0]

    def weight(self, matrix: dd.DataFrame) -> dd.Series | None:
        """Each row's weight (partial copies lighter), or None when all weigh 1."""
        copy_weight = self.model.copy_weight()
        if copy_weight is None:
            return None
        return matrix[COMPLETE].map_partitions(_weights, copy_weight, meta=(COMPLETE, float))

    def location(self, matrix: dd.DataFrame) -> tuple[float, float, lgb.Booster]:
        """The year trend (slope, reference year) from per-group sums, and the monotone center booster."""
        slope, reference = 0.0, 0.0
        if self.model.time_index_ is not None:
            latest = float(matrix[TIME_FEATURE].max().compute())
            if np.isfinite(latest):
                reference = latest
                groups = [self.names[i] for i in self.model.group_columns()]
                sums = matrix.map_partitions(_group_sums, groups, reference, meta=_sums_meta())
                slope = slope_from_sums(sums.groupby("g").sum().compute())  # summed on the workers
        target = matrix.map_partitions(_target, slope, reference, meta=(Y, float))
        center = fit_booster(
            self.client,
            matrix[self.names],
            target,
            self.weight(matrix),
            self.model.center_params(),
            self.model.num_boost_round,
            self.categorical,
            "boosting the center",
        )
        return slope, reference, center

    def residuals(
        self, matrix: dd.DataFrame, slope: float, reference: float, center: lgb.Booster
    ) -> dict[float, lgb.Booster]:
        """The residual quantile boosters, without the monotone columns."""
        boosters = {}
        categorical = [c for c in self.categorical if c in self.rnames]
        for q in self.model.quantiles:
            zero = q == 0.5 and not self.model.corrects_median()
            label = matrix.map_partitions(
                _residual, self.names, slope, reference, center, zero, meta=(Y, float)
            )
            boosters[q] = fit_booster(
                self.client,
                matrix[self.rnames],
                label,
                self.weight(matrix),
                self.model.quantile_params(q),
                self.model.quantile_rounds(),
                categorical,
                f"boosting the q={q} residual",
            )
        return boosters

    def offsets(
        self, calibration: dd.DataFrame, fitted: QuantileModel, share: float, seed: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Calibration rows' offsets from the split model, their pattern keys and the split's residual
        spreads, for a seeded `share` of them (the same rows each time it is drawn)."""
        parts = [
            dask.delayed(_offsets)(part, self.names, fitted, share, seed, i)
            for i, part in enumerate(calibration.to_delayed())
        ]
        collected = self.client.compute(parts, sync=True)
        return tuple(np.concatenate([c[j] for c in collected]) for j in range(3))  # type: ignore[return-value]

    def spreads(
        self, calibration: dd.DataFrame, fitted: QuantileModel, share: float, seed: int
    ) -> np.ndarray:
        """The refitted model's residual spreads on the rows `offsets` drew, in the same order."""
        parts = [
            dask.delayed(_spreads)(part, self.names, fitted, share, seed, i)
            for i, part in enumerate(calibration.to_delayed())
        ]
        return np.concatenate(self.client.compute(parts, sync=True))

    def sides(self, matrix: dd.DataFrame) -> pd.DataFrame:
        """Rows, earliest and latest year on each side of the calibration split (index False, True)."""
        year = TIME_FEATURE if self.model.time_index_ is not None else None
        parts = [dask.delayed(_side_stats)(part, year) for part in matrix.to_delayed()]
        stats = pd.concat(self.client.compute(parts, sync=True))
        out = stats.groupby(level=0).agg({"rows": "sum", "first": "min", "last": "max"})
        return out.reindex([False, True]).fillna({"rows": 0})

    def fit(
        self, matrix: dd.DataFrame, note: str, seed: int, centers: ClusterCenters | None = None
    ) -> QuantileModel:
        """Fit without the calibration rows, measure the shifts there, then refit on all rows.

        With `centers`, the dedicated centers too: chosen on the fold, the shifts measured through them.
        """
        if centers is not None:
            centers.plan(self.model)
        sides = self.sides(matrix)
        rows = sides["rows"].to_numpy(dtype=float)  # the other rows, then the calibration rows
        total, held = int(rows.sum()), int(rows[1])
        refit = "all"
        model = self.model
        measured: np.ndarray | None = None
        if MIN_CALIBRATION_ROWS <= held < total - 1:
            meta = matrix_meta(self.names)
            side = coalesce(self.client, matrix.map_partitions(side_rows, False, meta=meta), meta)
            slope, reference, center = self.location(side)
            residuals = self.residuals(side, slope, reference, center)
            split = QuantileModel.assemble(model, (slope, reference), center, residuals)
            if centers is not None:  # the chosen centers are the started model's now, so the split's too
                centers.choose(model, split)
                split = QuantileModel.assemble(model, (slope, reference), center, residuals)
            held_out = nonempty(matrix.map_partitions(side_rows, True, meta=meta))
            share = min(1.0, OFFSET_ROWS / held)  # the calibration rows whose offsets are measured
            offsets, keys, measured = self.offsets(held_out, split, share, seed)
            # All calibration rows newer than the others: the newest data, so every booster is refitted.
            later = bool(sides["first"].to_numpy(dtype=float)[1] > sides["last"].to_numpy(dtype=float)[0])
            refit = "all" if later else "center"
            model.calibrate(offsets, keys, note, refit)
        slope, reference, center = self.location(matrix)
        if refit == "all":
            residuals = self.residuals(matrix, slope, reference, center)
        fitted = QuantileModel.assemble(model, (slope, reference), center, residuals)
        if refit == "all" and measured is not None:
            fitted.keep_width(measured, self.spreads(held_out, fitted, share, seed), keys)
        if centers is not None:
            centers.refit(fitted)
        return fitted


def _side_stats(part: pd.DataFrame, year: str | None) -> pd.DataFrame:
    years = part[year] if year is not None else pd.Series(np.nan, index=part.index)
    frame = pd.DataFrame({"side": part[CALIBRATION].to_numpy(), "year": years.to_numpy(dtype=float)})
    grouped = frame.groupby("side")["year"]
    return pd.DataFrame({"rows": grouped.size(), "first": grouped.min(), "last": grouped.max()})


def _drawn(part: pd.DataFrame, share: float, seed: int, number: int) -> pd.DataFrame:
    """A partition's calibration rows whose offsets are measured: all, or a seeded share."""
    if share < 1.0:
        return part.loc[partition_stream(seed, "calibration", number).random(len(part)) < share]
    return part


def _offsets(
    part: pd.DataFrame, names: list[str], fitted: QuantileModel, share: float, seed: int, number: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    part = _drawn(part, share, seed, number)
    X = part[names].to_numpy()
    offsets = part[Y].to_numpy()[:, None] - fitted.raw_quantiles(X)
    return offsets, profile_keys(X, fitted.profile_columns_), fitted.residual_spreads(X)


def _spreads(
    part: pd.DataFrame, names: list[str], fitted: QuantileModel, share: float, seed: int, number: int
) -> np.ndarray:
    return fitted.residual_spreads(_drawn(part, share, seed, number)[names].to_numpy())


def spread(client: Client, frame: dd.DataFrame, meta: pd.DataFrame) -> dd.DataFrame:
    """The partitions computed round-robin on the workers in name order, and kept there.

    lightgbm.dask trains each worker on the partitions it holds. Placed by the scheduler, the shares
    moved from run to run and the boosters with them (demo MAE 18.6k-18.9k for one seed, 18.7k in
    one process); placed by number they stay, and the workers get equal shares. LightGBM's order of
    the workers (its ranks) can still change, so runs differ a little (18.70k-18.74k).
    """
    workers = worker_addresses(client)
    parts = frame.to_delayed()
    futures = [
        client.compute(part, workers=[workers[i % len(workers)]], allow_other_workers=True)
        for i, part in enumerate(parts)
    ]
    return dd.from_delayed(futures, meta=meta, verify_meta=False)


def coalesce(client: Client, frame: dd.DataFrame, meta: pd.DataFrame) -> dd.DataFrame:
    """The partitions joined in order until each holds MIN_PART_ROWS (the last joins the one before), on
    the workers, placed as `spread` places them; empty ones dropped. Partitions that all hold enough
    are left where they are, not copied."""
    lengths = partition_lengths(frame)
    if all(n >= MIN_PART_ROWS for n in lengths if n):
        return nonempty(frame, lengths)
    groups: list[list[int]] = []
    current: list[int] = []
    rows = 0
    for i, n in enumerate(lengths):
        if n:
            current, rows = [*current, i], rows + n
        if rows >= MIN_PART_ROWS:
            groups.append(current)
            current, rows = [], 0
    if current and groups:
        groups[-1] += current
    elif current:
        groups.append(current)
    if not groups:
        raise ValueError("no rows left to fit on; expected at least one non-empty partition")
    parts = frame.to_delayed()
    joined = [dask.delayed(pd.concat)([parts[i] for i in g], ignore_index=True) for g in groups]
    return spread(client, dd.from_delayed(joined, meta=meta, verify_meta=False), meta)


def fit_bundle_on_cluster(client: Client, frame: dd.DataFrame, config: TrainConfig) -> SalaryModel:
    """`fit_bundle` on the cluster: features, partial copies and model, from the cleaned rows held there."""
    if config.model_kind != "lightgbm":
        raise ValueError(f"the cluster path fits lightgbm bundles only, got model_kind {config.model_kind!r}")
    features, population, counts = fit_features(client, frame, config)
    names = list(features.get_feature_names_out())
    fold = fold_rule(counts, features.default_work_year_, config.seed)
    copies = config.augment_copies
    rows = functools.partial(matrix_partition, features=features, copies=copies, seed=config.seed, fold=fold)
    build = functools.partial(worker_block, piece=rows, rows_per_row=copies + 1, meta=matrix_meta(names))
    matrix = per_worker(client, frame, build, matrix_meta(names))
    started = QuantileModel(config.quantiles, config.lightgbm_params(), config.num_boost_round).start(
        names, features.categorical_features, features.monotone_increasing, multiplicity=float(copies + 1)
    )
    centers = None
    if config.centers and copies > 0:  # as in one process: a center per kind of call, with partial copies
        from training.dask_centers import ClusterCenters  # it builds on this module

        centers = ClusterCenters(client, frame, features, fold, config.seed)
    fitted = ClusterFit(client, started, matrix).fit(matrix, fold.description, config.seed, centers)
    meta = {
        "model_kind": config.model_kind,
        "calibration": fitted.calibration_,
        "augment_copies": copies,
        "population": population.to_dict(),
    }
    return SalaryModel(features, fitted, meta)
