"""Train, register, retrain and promote against a real `mlflow server`, including losing it mid-run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from mlflow_process import MlflowServer
from typer.testing import CliRunner

import training.train as train_module
from models import registry
from training import promote
from training.cli import app as cli
from training.retrain import Outcome, retrain
from training.train import TrainConfig, train

pytestmark = pytest.mark.slow


def small(data: Path, rounds: int) -> TrainConfig:
    """Few rows, few rounds: fast, and the round count sets how good the model is."""
    return TrainConfig(source="demo", data=data, num_boost_round=rounds, params={"num_threads": 1})


def test_train_then_worse_then_better_challenger(
    server_store: str, demo_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(promote.ACTOR_ENV, "nightly-cron")
    client = MlflowClient(tracking_uri=server_store, registry_uri=server_store)
    # The first champion keeps the backtest model, so it has not seen the evaluation rows it is
    # rescored on and its score there equals its backtest; a champion refitted on every row scores
    # in-sample there, which favours it (README, "Retraining").
    first = train(replace(small(demo_csv, 30), refit_all=False))
    assert (first.version, first.became_champion) == ("1", True)

    worse = CliRunner().invoke(
        cli,
        ["retrain", "--data", str(demo_csv), "--rounds", "1", "--lock-file", str(tmp_path / "lock")],
    )
    assert worse.exit_code == int(Outcome.KEPT_CHAMPION), worse.output
    assert "kept champion v1" in worse.output and "worse than champion" in worse.output
    assert "coverage_p10_p90" in worse.output  # the comparison table is printed
    assert promote.current_version(registry.CHAMPION) == "1"
    assert promote.current_version(registry.CHALLENGER) == "2"
    challenger_run = client.get_run(client.get_model_version(registry.MODEL_NAME, "2").run_id)
    assert challenger_run.data.tags["eval_digest"] == first.eval_digest
    assert challenger_run.data.metrics["champion_mae"] == pytest.approx(first.metrics["mae"])
    assert challenger_run.data.tags["gate"].startswith("failed")
    beside = client.search_runs(
        [challenger_run.info.experiment_id], f"tags.baseline_for = '{challenger_run.info.run_id}'"
    )
    assert sorted(r.data.params["model_kind"] for r in beside) == ["global_median", "group_median"]
    assert {r.data.tags["eval_digest"] for r in beside} == {first.eval_digest}
    assert "champion_mae_vs_group_median" in challenger_run.data.metrics  # same rows, same reference
    kept = client.get_model_version(registry.MODEL_NAME, "2").description
    assert "failed the gate against v1, champion kept: MAE" in kept and "| mae_vs_group_median |" in kept

    better = retrain(small(demo_csv, 80), lock_file=tmp_path / "lock", reason="new data")
    assert better.outcome == Outcome.PROMOTED, better.message
    assert (better.challenger_version, better.champion_version) == ("3", "3")
    assert promote.current_version(registry.CHAMPION) == "3"
    moves = [(m.alias, m.from_version, m.to_version) for m in promote.alias_history()]
    assert moves == [
        ("champion", None, "1"),
        ("challenger", None, "2"),
        ("challenger", "2", "3"),
        ("champion", "1", "3"),
    ]
    last = promote.alias_history(registry.CHAMPION)[-1]
    assert last.actor == "nightly-cron" and "new data" in last.reason and first.eval_digest in last.reason
    assert "alias.champion.set" in client.get_model_version(registry.MODEL_NAME, "3").tags
    promoted = client.get_model_version(registry.MODEL_NAME, "3")
    assert "salary retrain (new data): passed the gate against v1" in promoted.description
    assert promoted.tags["eval_digest"] == first.eval_digest
    assert "alias.champion.removed" in client.get_model_version(registry.MODEL_NAME, "1").tags


def test_losing_the_server_mid_run_fails_clearly_and_leaves_the_champion(
    mlflow_server: MlflowServer, server_store: str, demo_csv: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if promote.current_version(registry.CHAMPION) is None:
        train(small(demo_csv, 10))
    client = MlflowClient(tracking_uri=server_store, registry_uri=server_store)
    champion = promote.current_version(registry.CHAMPION)
    challenger = promote.current_version(registry.CHALLENGER)
    versions = {v.version for v in client.search_model_versions(f"name = '{registry.MODEL_NAME}'")}
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    fit = train_module.fit_bundle

    def fit_while_the_server_goes_down(frame, config, *rest):  # type: ignore[no-untyped-def]
        if config.model_kind == "lightgbm":  # inside the run; the baselines beside it are fitted before
            mlflow_server.stop()
        return fit(frame, config, *rest)

    monkeypatch.setattr(train_module, "fit_bundle", fit_while_the_server_goes_down)
    result = retrain(small(demo_csv, 10), lock_file=tmp_path / "lock")
    assert result.outcome == Outcome.FAILED
    assert f"lost the MLflow tracking server at {server_store}" in result.message
    assert "champion untouched" in result.message

    mlflow_server.start()  # the same store behind a new port
    # The short timeout was for noticing the loss; a restarted server's first answers can take longer
    # than 5 s on a loaded machine (seen at load 15), and these checks are not about speed.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "120")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    registry.configure()
    client = MlflowClient(tracking_uri=mlflow_server.uri, registry_uri=mlflow_server.uri)
    assert promote.current_version(registry.CHAMPION) == champion
    assert promote.current_version(registry.CHALLENGER) == challenger
    after = {v.version for v in client.search_model_versions(f"name = '{registry.MODEL_NAME}'")}
    assert after == versions  # nothing half-registered
    interrupted = client.search_runs(
        [client.get_experiment_by_name(registry.EXPERIMENT).experiment_id],
        order_by=["attributes.start_time DESC"], max_results=1,
    )[0]
    assert interrupted.info.status == "RUNNING"  # the server went away before it could be told
