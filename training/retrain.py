"""The retraining job: train a challenger, score it and the champion on one frozen evaluation set, gate."""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from dataclasses import dataclass, field, replace
from enum import IntEnum
from pathlib import Path

import mlflow
import pandas as pd
from filelock import FileLock, Timeout
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from models import registry
from training import promote
from training.config import TrainConfig
from training.evaluate import HEADLINE, relative_to_reference
from training.train import TrainResult, evaluate_bundle, train

COMPARED_METRICS = HEADLINE


class Outcome(IntEnum):
    """The exit code of `salary retrain`, so cron and CI can tell what happened."""

    PROMOTED = 0
    KEPT_CHAMPION = 1
    FAILED = 2
    LOCKED = 3


@dataclass(frozen=True)
class Gate:
    """When a challenger may replace the champion."""

    mae_tolerance: float = 0.02  # relative: 0.02 lets the challenger's MAE be up to 2% worse
    coverage_min: float = 0.70  # bounds on P10-P90 interval coverage (nominal 0.80)
    coverage_max: float = 0.90

    def check(self, challenger: dict[str, float], champion: dict[str, float] | None) -> list[str]:
        """Reasons the challenger fails the gate; empty when it passes."""
        problems = []
        coverage = challenger.get("coverage_p10_p90", float("nan"))
        if not self.coverage_min <= coverage <= self.coverage_max:
            problems.append(
                f"P10-P90 coverage {coverage:.3f} outside [{self.coverage_min:.2f}, {self.coverage_max:.2f}]"
            )
        if champion is not None:
            limit = champion["mae"] * (1 + self.mae_tolerance)
            if not challenger["mae"] <= limit:
                problems.append(
                    f"MAE {challenger['mae']:,.0f} worse than champion {champion['mae']:,.0f} "
                    f"beyond {self.mae_tolerance:.1%} (limit {limit:,.0f})"
                )
        return problems


@dataclass
class RetrainResult:
    """What the job did and why, with the comparison it based the decision on."""

    outcome: Outcome
    message: str
    challenger: TrainResult | None = None
    challenger_version: str | None = None
    champion_version: str | None = None
    comparison: pd.DataFrame | None = None
    problems: list[str] = field(default_factory=list)


def default_lock_file(tracking_uri: str) -> Path:
    """One lock per tracking store on this host, in the temp folder, so cron runs never overlap."""
    remote = tracking_uri.startswith(("http://", "https://"))
    store = tracking_uri if remote else f"{tracking_uri} in {Path.cwd()}"  # local URIs may be relative
    key = hashlib.sha256(store.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"salary-retrain-{key}.lock"


def comparison_table(challenger: dict[str, float], champion: dict[str, float] | None) -> pd.DataFrame:
    """Metric rows, challenger and champion columns, and the relative change."""
    rows = []
    for name in COMPARED_METRICS:
        new = challenger.get(name, float("nan"))
        old = champion.get(name, float("nan")) if champion else float("nan")
        change = (new - old) / old if old else float("nan")
        rows.append({"metric": name, "challenger": new, "champion": old, "change": change})
    return pd.DataFrame(rows).set_index("metric")


def describe_failure(exc: BaseException, tracking_uri: str) -> str:
    """One line that says what broke; lost connections to the tracking server are named as such."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    chain = [exc, exc.__cause__, exc.__context__]
    lost = any(
        isinstance(e, ConnectionError | OSError)
        or "Max retries exceeded" in str(e)
        or "Connection refused" in str(e)
        for e in chain
        if e is not None
    )
    if lost:
        return f"lost the MLflow tracking server at {tracking_uri}: {text[:300]}"
    return f"{type(exc).__name__}: {text[:300]}"


def _log_decision(run_id: str, table: pd.DataFrame, champion: dict[str, float] | None,
                  champion_version: str | None, problems: list[str]) -> None:
    client = MlflowClient()
    if champion is not None:
        for name, value in champion.items():
            client.log_metric(run_id, f"champion_{name}", value)
    client.set_tag(run_id, "champion_version", champion_version or "none")
    client.set_tag(run_id, "gate", "passed" if not problems else "failed: " + "; ".join(problems))
    client.log_text(run_id, table.to_csv(), "retrain/comparison.csv")
    client.log_text(run_id, table.to_string(float_format=lambda v: f"{v:,.4f}"), "retrain/comparison.txt")


def _retrain(config: TrainConfig, gate: Gate, reason: str) -> RetrainResult:
    champion_version = promote.current_version(registry.CHAMPION)
    challenger = train(replace(config, register=False))
    if challenger.evaluation is None:
        raise ValueError(f"run {challenger.run_id} kept no evaluation frame to score the champion on")
    champion = None
    if champion_version is not None:
        champion_bundle = registry.load_version(champion_version)
        champion = evaluate_bundle(champion_bundle, challenger.evaluation, config.threads())
        champion = relative_to_reference(champion, challenger.reference_mae)
    problems = gate.check(challenger.metrics, champion)
    table = comparison_table(challenger.metrics, champion)
    _log_decision(challenger.run_id, table, champion, champion_version, problems)
    # Only now, with both models scored, does anything in the registry change; champion moves last.
    why = f"{reason}; evaluation digest {challenger.eval_digest}"
    against = f"v{champion_version}" if champion_version else "no champion"
    decision = (
        f"salary retrain ({reason}): passed the gate against {against}, promoted to champion"
        if not problems
        else f"salary retrain ({reason}): failed the gate against {against}, champion kept: "
        + "; ".join(problems)
    )
    version, promoted = promote.register(
        challenger.model_uri,
        challenger.run_id,
        None if problems else f"{why}; passed the gate against {against}",
        challenger_reason=why,
        replace_champion=True,
        description=promote.version_description(
            challenger.summary, challenger.metrics, challenger.run_id, decision
        ),
        tags=promote.version_tags(challenger.summary),
    )
    if not promoted:
        message = f"kept champion v{champion_version}: " + "; ".join(problems)
        return RetrainResult(Outcome.KEPT_CHAMPION, message, challenger, version, champion_version, table,
                             problems)
    message = f"promoted v{version} to champion (was {against})"
    return RetrainResult(Outcome.PROMOTED, message, challenger, version, version, table, problems)


def retrain(
    config: TrainConfig, gate: Gate | None = None, lock_file: Path | None = None, reason: str = "retrain"
) -> RetrainResult:
    """Run the job under a lock; any failure returns FAILED and leaves the champion alias where it was."""
    uri = registry.configure(config.tracking_uri)
    lock_path = lock_file or default_lock_file(uri)
    lock = FileLock(lock_path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return RetrainResult(
            Outcome.LOCKED, f"another retrain is running for {uri} (lock {lock_path} is held); nothing done"
        )
    try:
        return _retrain(replace(config, tracking_uri=uri), gate or Gate(), reason)
    except (ValueError, MlflowException, OSError) as exc:
        if mlflow.active_run() is not None:
            with contextlib.suppress(MlflowException, OSError):
                mlflow.end_run("FAILED")  # forget the interrupted run; mark it FAILED if the store answers
        message = f"retrain failed, champion untouched: {describe_failure(exc, uri)}"
        return RetrainResult(Outcome.FAILED, message)
    finally:
        lock.release()

