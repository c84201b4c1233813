"""Hyperparameter search with Optuna: a parent MLflow run, a nested run per trial, best kept for train."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import mlflow
import optuna
import pandas as pd

from models import registry
from training import tuned_params
from training.config import TrainConfig
from training.splits import random_stream, split_frame
from training.train import evaluate_bundle, fit_bundle, load_training_frame

VALIDATION_SHARE = 0.2


@dataclass
class TuneResult:
    """The best trial's parameters and score, and where they were written."""

    best_params: dict[str, Any]
    num_boost_round: int
    best_mae: float
    trials: int
    path: Path
    run_id: str


def suggest(trial: optuna.Trial) -> tuple[dict[str, Any], int]:
    """The search space: LightGBM parameters shared by the center and the residual boosters, and rounds."""
    params = {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        # At most 63 leaves: trials near 127 leaves took 3-8 minutes each on 2 cores, while 15 leaves
        # were within noise of 31 on all three datasets (benchmarks/RESULTS.md). (Drivers by TreeSHAP
        # grew with leaves times depth squared, 4.2 ms at 31; path attribution grows with depth only.)
        "num_leaves": trial.suggest_int("num_leaves", 7, 63, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 5, 200, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 30.0, log=True),
        "cat_smooth": trial.suggest_float("cat_smooth", 1.0, 50.0, log=True),
    }
    rounds = trial.suggest_int("num_boost_round", 100, 800, step=50)
    return params, rounds


def inner_split(train: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded validation slice of the training rows, from its own stream; evaluation is never tuned on."""
    holdout = random_stream(seed, "validation").random(len(train)) < VALIDATION_SHARE
    return train.loc[~holdout].reset_index(drop=True), train.loc[holdout].reset_index(drop=True)


def tune(config: TrainConfig, trials: int = 20, out: Path | None = None) -> TuneResult:
    """Search LightGBM parameters on validation MAE in dollars and save the best beside the store."""
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    registry.configure(config.tracking_uri)
    config = replace(config, num_threads=config.threads())
    _, frame, _ = load_training_frame(config)
    split = split_frame(frame, seed=config.seed, test_size=config.test_size, temporal=config.temporal)
    fit_rows, valid = inner_split(split.train, config.seed)
    experiment_id = registry.ensure_experiment(config.experiment)
    base = {k: v for k, v in config.params.items() if k == "num_threads"}

    def objective(trial: optuna.Trial) -> float:
        params, rounds = suggest(trial)
        trial_config = replace(
            config, model_kind="lightgbm", params={**base, **params}, num_boost_round=rounds
        )
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"trial-{trial.number}", nested=True):
            bundle = fit_bundle(fit_rows, trial_config)
            metrics = evaluate_bundle(bundle, valid, config.num_threads)
            mlflow.log_params({**params, "num_boost_round": rounds, "trial": trial.number})
            mlflow.log_metrics({f"valid_{k}": v for k, v in metrics.items()})
        return metrics["mae"]

    with mlflow.start_run(experiment_id=experiment_id, run_name=f"tune-{config.source}") as parent:
        mlflow.set_tags({"eval_digest": split.digest, "kind": "tuning"})
        mlflow.log_params({"source": config.source, "trials": trials, "validation_share": VALIDATION_SHARE})
        study = optuna.create_study(
            direction="minimize", sampler=optuna.samplers.TPESampler(seed=config.seed)
        )
        study.optimize(objective, n_trials=trials)
        best = dict(study.best_params)
        rounds = int(best.pop("num_boost_round"))
        mlflow.log_metric("best_valid_mae", float(study.best_value))
        mlflow.log_params({f"best_{k}": v for k, v in best.items()} | {"best_num_boost_round": rounds})
        path = out or tuned_params.default_path(config.tracking_uri)
        entry = {
            "params": best,
            "num_boost_round": rounds,
            "valid_mae": float(study.best_value),
            "trials": trials,
            "run_id": parent.info.run_id,
        }
        tuned_params.write(path, config.source, entry)
        mlflow.log_dict(entry, "tuned_params.json")
    return TuneResult(best, rounds, float(study.best_value), trials, path, parent.info.run_id)
