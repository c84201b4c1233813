"""Per-profile centers fitted on a Dask cluster, step for step as `QuantileModel.fit` fits them.

Each center's rows (the training rows as its kind of call states them, `as_called`) are built and kept
on the workers. The route table comes from route-key counts summed over partitions, each booster from
`lightgbm.dask`, each center's kind from dollar errors summed on the workers over the calibration rows,
and the conformal shifts from the split model routed through the chosen centers (`ClusterFit.offsets`).
The driver holds counts and sums, never rows.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

import dask
import dask.dataframe as dd
import lightgbm as lgb
import numpy as np
import pandas as pd
from distributed import Client

from features.pipeline import JobFeatures
from models.centers import route_counts
from models.profiles import route_keys
from models.quantile import CenterTrainer, Located, QuantileModel
from training.augment import Profile, as_called, center_parts, center_profiles_of, stated_parts
from training.dask_fit import (
    CALIBRATION,
    FEATURE_DTYPE,
    Y,
    _residual,
    _target,
    coalesce,
    feature_rows,
    fit_booster,
    per_worker,
    side_rows,
    worker_block,
)
from training.sources.base import TARGET
from training.splits import HoldoutRule, partition_stream

log = logging.getLogger(__name__)


@dataclass
class CenterFrame:
    """One kind of call's training rows on the workers: features, log target, calibration flag."""

    name: str
    parts: frozenset[str]
    frame: dd.DataFrame
    categorical: list[str]  # the categorical columns these rows state at all (see ClusterFit)


def center_partition(
    frame: pd.DataFrame,
    features: JobFeatures,
    profile: Profile,
    seed: int,
    fold: HoldoutRule,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """One partition's rows as a call of `profile` states them, with log target and calibration flag.

    The flag is the one `matrix_partition` gives the same rows: a call never blanks the work year.
    """
    number = partition_info["number"] if partition_info else 0
    values, years = feature_rows(
        as_called(frame, profile, partition_stream(seed, "centers", number)), features
    )
    out = pd.DataFrame(values, columns=list(features.get_feature_names_out()), copy=False)
    out[Y] = np.log(frame[TARGET].to_numpy(dtype=float))
    out[CALIBRATION] = fold.mask(years, number)
    return out


def _center_meta(names: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            **{n: pd.Series(dtype=FEATURE_DTYPE) for n in names},
            Y: pd.Series(dtype=float),
            CALIBRATION: pd.Series(dtype=bool),
        }
    )


def _route_counts(part: pd.DataFrame, names: list[str], model: QuantileModel) -> np.ndarray:
    return route_counts(route_keys(part[names].to_numpy(), model.route_key_columns()))


def _errors(
    part: pd.DataFrame, names: list[str], split: QuantileModel, fitted: dict[str, Located]
) -> tuple[dict[str, float], int]:
    errors = split.center_errors(part[names].to_numpy(), part[Y].to_numpy(), fitted)
    return errors, len(part)


class ClusterCenters:
    """The dedicated centers of one cluster fit: their rows on the workers, routes, kinds and boosters."""

    def __init__(
        self, client: Client, frame: dd.DataFrame, features: JobFeatures, fold: HoldoutRule, seed: int
    ) -> None:
        self.client = client
        names = list(features.get_feature_names_out())
        self.names = names
        have = frozenset().union(
            *client.compute([dask.delayed(stated_parts)(p) for p in frame.to_delayed()], sync=True)
        )
        self.centers: list[CenterFrame] = []
        for profile in center_profiles_of(have):
            meta = _center_meta(names)
            piece = functools.partial(center_partition, features=features, profile=profile, seed=seed,
                                      fold=fold)
            build = functools.partial(worker_block, piece=piece, rows_per_row=1, meta=meta)
            rows = per_worker(client, frame, build, meta)
            self.centers.append(CenterFrame(profile.name, center_parts(profile), rows, []))
        self.kinds: list[tuple[str, ...]] = []

    def plan(self, model: QuantileModel) -> None:
        """Routes from every center's route-key counts, summed over its partitions; the kinds to try."""
        parts = [
            [dask.delayed(_route_counts)(p, self.names, model) for p in c.frame.to_delayed()]
            for c in self.centers
        ]
        counts = [np.sum(c, axis=0) for c in self.client.compute(parts, sync=True)]
        self.kinds = model.plan_centers(
            [c.name for c in self.centers], [c.parts for c in self.centers], counts
        )
        for c in self.centers:  # a column no row states kills a lightgbm.dask worker (ClusterFit)
            stated = (
                c.frame[model.categorical_].count().compute() if model.categorical_ else pd.Series(dtype=int)
            )
            c.categorical = [n for n in model.categorical_ if stated.get(n, 0) > 0]

    def fit(
        self, model: QuantileModel, frames: list[dd.DataFrame], kinds: list[tuple[str, ...]]
    ) -> list[dict[str, Located]]:
        """Each center's kinds on its rows in `frames`, with `model`'s trend, by lightgbm.dask."""
        out = []
        for c, frame, wanted in zip(self.centers, frames, kinds, strict=True):
            out.append(model.fit_center(wanted, self._trainer(c, frame, model)))
            log.info("fitted the %s center (%s) on the cluster", c.name, ", ".join(wanted))
        return out

    def _side(self, calibration: bool) -> list[dd.DataFrame]:
        """Each center's rows on one side of the calibration split."""
        meta = _center_meta(self.names)
        return [
            coalesce(self.client, c.frame.map_partitions(side_rows, calibration, meta=meta), meta)
            for c in self.centers
        ]

    def _trainer(self, c: CenterFrame, frame: dd.DataFrame, trend: QuantileModel) -> CenterTrainer:
        rnames = [self.names[i] for i in trend.residual_columns_]
        slope, reference = trend.slope_, trend.reference_year_

        def train(params: dict[str, Any], rounds: int, around: lgb.Booster | None) -> lgb.Booster:
            if around is None:
                label = frame.map_partitions(_target, slope, reference, meta=(Y, float))
                X, categorical = frame[self.names], c.categorical
            else:
                label = frame.map_partitions(
                    _residual, self.names, slope, reference, around, False, meta=(Y, float)
                )
                X, categorical = frame[rnames], [n for n in c.categorical if n in rnames]
            what = f"boosting the {c.name} center ({params['objective']})"
            return fit_booster(self.client, X, label, None, params, rounds, categorical, what)

        return train

    def choose(self, model: QuantileModel, split: QuantileModel) -> None:
        """Fit every kind on the rows left of the calibration fold, keep the best of each center where it
        beats the shared center on the fold (errors summed on the workers), as `model`'s centers."""
        fitted = self.fit(split, self._side(False), self.kinds)
        held = self._side(True)
        handle = self.client.scatter(split, broadcast=True)
        parts = [
            [dask.delayed(_errors)(part, self.names, handle, f) for part in frame.to_delayed()]
            for frame, f in zip(held, fitted, strict=True)
        ]
        errors = []
        for summed in self.client.compute(parts, sync=True):
            total: dict[str, float] = {}
            for part, _ in summed:
                total = {k: total.get(k, 0.0) + v for k, v in part.items()}
            n = max(sum(rows for _, rows in summed), 1)
            errors.append({k: v / n for k, v in total.items()})
        kept, self.kinds = model.choose_centers(fitted, errors)
        self.centers = [self.centers[j] for j in kept]

    def refit(self, final: QuantileModel) -> None:
        """The chosen kind of each kept center on all its rows, with the final trend."""
        final.keep_centers(self.fit(final, [c.frame for c in self.centers], [k[:1] for k in self.kinds]))
