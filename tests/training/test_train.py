"""The training job logs a run, registers a version and makes the first one champion."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from data_files import FIXTURES
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from models import registry
from training import promote, tracking
from training.cleaning import DEFAULT_MAX_REJECTED
from training.cli import app as cli
from training.config import TrainConfig, available_cores
from training.evaluate import HEADLINE
from training.train import fit_bundle, train

UNREADABLE_CSV = FIXTURES / "aijobs_unreadable.csv"  # invented rows: 8 of 40 salaries are text


def test_train_logs_registers_and_sets_champion_once(mlflow_store: str, demo_csv: Path) -> None:
    config = TrainConfig(data=demo_csv, num_boost_round=20, params={"num_threads": 1})
    first = train(config)
    second = train(config)
    client = MlflowClient(tracking_uri=mlflow_store, registry_uri=mlflow_store)
    champion = client.get_model_version_by_alias(registry.MODEL_NAME, registry.CHAMPION)
    assert (first.version, second.version) == ("1", "2")
    assert first.became_champion and not second.became_champion
    assert str(champion.version) == "1"
    run = client.get_run(first.run_id)
    for metric in ("mae", "mdape", "r2_log", "coverage_p10_p90"):
        assert metric in run.data.metrics
    assert run.data.tags["eval_digest"] == first.eval_digest == second.eval_digest
    assert "cleaning_report.json" in [a.path for a in client.list_artifacts(first.run_id)]
    history = promote.alias_history(registry.CHAMPION)
    assert [(m.from_version, m.to_version) for m in history] == [(None, "1")]


def test_run_logs_what_makes_runs_comparable(mlflow_store: str, demo_csv: Path) -> None:
    result = train(TrainConfig(data=demo_csv, num_boost_round=20, params={"num_threads": 1}, register=False))
    client = MlflowClient(tracking_uri=mlflow_store, registry_uri=mlflow_store)
    run = client.get_run(result.run_id)
    contexts = {
        tag.value: entry.dataset
        for entry in run.inputs.dataset_inputs
        for tag in entry.tags
        if tag.key == "mlflow.data.context"
    }
    assert contexts["evaluation"].digest == result.eval_digest
    assert "training" in contexts
    for param in ("model_kind", "num_boost_round", "lgbm_learning_rate", "features_min_count", "source",
                  "calibration.fold", "calibration.refit", "calibration.center_offset"):
        assert param in run.data.params
    shifts = {q: float(run.data.params[f"calibration.shift_p{q}"]) for q in (10, 25, 50, 75, 90)}
    assert shifts[50] == 0.0 and shifts[10] != 0.0
    assert run.data.tags["mlflow.source.git.commit"]
    assert run.data.tags["version.lightgbm"]
    assert run.data.metrics["rows_out"] == run.data.metrics["rows_train"] + run.data.metrics["rows_eval"]
    assert run.data.params["num_threads"] == run.data.params["lgbm_num_threads"] == "1"
    # A handful of grouped segment metrics, not one per segment: the full table is the artifact below.
    grouped = sorted(k for k in run.data.metrics if k.startswith("segment/"))
    assert grouped == [
        f"segment/{kind}/{name}" for kind in sorted(tracking.SEGMENT_KINDS)
        for name in ("coverage_gap_max", "mae_max")
    ]
    artifacts = {a.path for d in ("plots", "evaluation") for a in client.list_artifacts(result.run_id, d)}
    assert {
        "plots/predicted_vs_actual.png",
        "plots/residuals_by_role_family.png",
        "plots/coverage_p10_p90_by_decile.png",
        "plots/feature_importance.png",
        "evaluation/segment_metrics.csv",
    } <= artifacts
    csv = mlflow.artifacts.download_artifacts(
        run_id=result.run_id, artifact_path="evaluation/segment_metrics.csv"
    )
    segments = pd.read_csv(csv)
    assert set(segments["kind"]) == {"role_family", "seniority", "country_group"}
    assert result.version is None


def test_registered_model_loads_as_pyfunc(mlflow_store: str, demo_csv: Path) -> None:
    train(TrainConfig(data=demo_csv, num_boost_round=20, params={"num_threads": 1}))
    model = mlflow.pyfunc.load_model(registry.alias_uri())
    out = model.predict(pd.DataFrame([{"title": "Senior Software Engineer", "location": "NYC"}]))
    assert list(out.columns) == ["p10", "p25", "p50", "p75", "p90"]
    assert out.iloc[0]["p10"] <= out.iloc[0]["p50"] <= out.iloc[0]["p90"]


def test_the_pyfunc_takes_a_batch_where_rows_leave_out_different_fields(
    mlflow_store: str, demo_csv: Path
) -> None:
    train(TrainConfig(data=demo_csv, num_boost_round=20, params={"num_threads": 1}))
    model = mlflow.pyfunc.load_model(registry.alias_uri())
    batch = pd.DataFrame(
        [
            {"title": "Data Analyst", "location": "Austin, TX", "work_year": 2023.0},
            {"title": "Data Analyst", "location": "Austin, TX"},
            {"title": "Data Analyst", "years_experience": 4.0, "skills": ["SQL", "Excel"]},
            {"title": "Data Analyst", "years_experience": 4.0, "skills": "SQL, Excel"},
            {},
        ]
    )
    out = model.predict(batch)
    assert len(out) == 5 and out.notna().all().all()
    assert out.iloc[2].tolist() == out.iloc[3].tolist()  # a list and comma text read the same
    assert (out["p10"] <= out["p50"]).all() and (out["p50"] <= out["p90"]).all()


def test_the_registered_model_is_fitted_on_every_row_and_says_its_metrics_are_the_backtests(
    mlflow_store: str, demo_csv: Path
) -> None:
    result = train(TrainConfig(data=demo_csv, num_boost_round=20, params={"num_threads": 1}))
    run = MlflowClient().get_run(result.run_id)
    metrics = run.data.metrics
    assert metrics["rows_fitted"] == metrics["rows_out"] == metrics["rows_train"] + metrics["rows_eval"]
    said = run.data.tags["metrics_from"]
    assert said.startswith("backtest") and "all rows" in said
    served = registry.load_version(result.version or "")
    assert served.metadata["rows_fitted"] == metrics["rows_out"]
    assert served.metadata["metrics"]["mae"] == pytest.approx(metrics["mae"])
    # The newest year's rows (the demo's evaluation year) are in the served model's population.
    assert served.metadata["population"]["rows"] == metrics["rows_out"]


def test_missing_data_file_is_a_clear_error(
    mlflow_store: str, tmp_path: pytest.TempPathFactory
) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        train(TrainConfig(source="demo", data=tmp_path / "nope.csv"))  # type: ignore[operator]


def test_a_baseline_is_registered_but_never_made_champion(mlflow_store: str, demo_csv: Path) -> None:
    baseline = train(TrainConfig(data=demo_csv, model_kind="group_median"))
    assert baseline.version == "1" and not baseline.became_champion
    model = train(TrainConfig(data=demo_csv, num_boost_round=20, params={"num_threads": 1}))
    assert model.became_champion and model.version == "2"


def test_the_seed_reaches_the_boosters_unless_params_set_lightgbms_own(demo_frame: pd.DataFrame) -> None:
    # The demo data splits by year and calibrates on its newest year: nothing random but the
    # boosters' bagging and feature sampling, so only LightGBM's seed can tell two seeds apart.
    fit, new = demo_frame.iloc[:2000], demo_frame.iloc[2000:2300]

    def predictions(seed: int, lightgbm_seed: int | None = None, copies: int = 2) -> np.ndarray:
        own = {} if lightgbm_seed is None else {"seed": lightgbm_seed}
        config = TrainConfig(
            seed=seed, num_boost_round=30, params={"num_threads": 1, **own}, augment_copies=copies
        )
        bundle = fit_bundle(fit, config)
        assert bundle.model.calibration_["refit"] == "all"  # a newest-year fold, not a seeded sample
        logged = tracking.run_params(config, bundle, "temporal")["lgbm_seed"]
        assert logged == str(seed if lightgbm_seed is None else lightgbm_seed)
        return bundle.predict(new)

    first = predictions(1)
    np.testing.assert_array_equal(first, predictions(1))
    assert np.abs(np.log(first / predictions(2))).max() > 0.01
    # Without partial copies (whose blanking the run's seed also draws), LightGBM's own seed decides.
    np.testing.assert_array_equal(predictions(1, 5, copies=0), predictions(2, 5, copies=0))
    assert np.abs(np.log(predictions(1, 5) / predictions(2, 5))).max() > 0.01


def test_a_run_accounts_for_every_row_read(mlflow_store: str) -> None:
    config = TrainConfig(source="aijobs", data=UNREADABLE_CSV, max_rejected=0.25, num_boost_round=5,
                         params={"num_threads": 1}, register=False)
    result = train(config)
    metrics = MlflowClient().get_run(result.run_id).data.metrics
    assert metrics["rows_in"] == 40 and metrics["rows_rejected_unparseable_salary"] == 8
    assert metrics["rows_out"] == 29 == metrics["rows_train"] + metrics["rows_eval"]
    path = mlflow.artifacts.download_artifacts(run_id=result.run_id, artifact_path="cleaning_report.json")
    logged = json.loads(Path(path).read_text())
    counted = {r["reason"]: r["rows"] for r in logged["reasons"]}
    assert counted == {"unparseable_salary": 8, "missing_salary": 1, "salary_below_floor": 1,
                       "part_time_not_annualised": 1}
    assert logged["rows_in"] == sum(counted.values()) + logged["rows_out"]


def test_cli_refuses_unreadable_data_with_exit_2_and_registers_nothing(mlflow_store: str) -> None:
    out = CliRunner().invoke(cli, ["train", "--source", "aijobs", "--data", str(UNREADABLE_CSV)])
    assert out.exit_code == 2, out.output
    assert "40 rows read, 29 rows out" in out.output  # the report is printed before the refusal
    assert "8 of 40 rows read (20.0%)" in out.output and "salary_in_usd='$100k'" in out.output
    client = MlflowClient()
    assert client.search_registered_models() == []
    assert all(not client.search_runs([e.experiment_id]) for e in client.search_experiments())


def test_cli_says_every_salary_is_unreadable(mlflow_store: str, tmp_path: Path) -> None:
    path = tmp_path / "salaries.csv"
    pd.read_csv(UNREADABLE_CSV, dtype=str).assign(salary_in_usd="competitive").to_csv(path, index=False)
    out = CliRunner().invoke(cli, ["train", "--source", "aijobs", "--data", str(path), "--max-rejected", "1"])
    assert out.exit_code == 2
    assert "every salary_in_usd value is unusable" in out.output and "empty side" not in out.output


def test_cli_max_rejected_default_is_the_library_default() -> None:
    out = CliRunner().invoke(cli, ["train", "--help"], terminal_width=200)
    assert f"default: {DEFAULT_MAX_REJECTED}" in out.output


def test_lightgbm_threads_default_to_the_cores_this_process_may_use() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert available_cores() == cores
    assert TrainConfig().lightgbm_params()["num_threads"] == cores
    assert TrainConfig(num_threads=3).lightgbm_params()["num_threads"] == 3
    assert TrainConfig(num_threads=3, params={"num_threads": 1}).lightgbm_params()["num_threads"] == 1


def test_salary_makes_openmp_threads_wait_passively_unless_told_otherwise(
    mlflow_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert CliRunner().invoke(cli, ["train", "--source", "nope"]).exit_code == 2
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"  # spinning threads stall on a busy machine
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    CliRunner().invoke(cli, ["train", "--source", "nope"])
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_baselines_are_logged_beside_the_run_on_its_evaluation_set_and_not_registered(
    mlflow_store: str, demo_csv: Path
) -> None:
    result = train(TrainConfig(data=demo_csv, num_boost_round=20, params={"num_threads": 1}))
    client = MlflowClient()
    assert set(result.baseline_runs) == {"global_median", "group_median"}
    for kind, run_id in result.baseline_runs.items():
        run = client.get_run(run_id)
        assert (run.info.run_name, run.info.status) == (f"{kind}-demo", "FINISHED")
        assert run.data.params["model_kind"] == kind
        assert run.data.tags["eval_digest"] == result.eval_digest
        assert run.data.tags["baseline_for"] == result.run_id
        assert "plots/predicted_vs_actual.png" in {a.path for a in client.list_artifacts(run_id, "plots")}
    group = client.get_run(result.baseline_runs["group_median"]).data.metrics
    assert group["mae_vs_group_median"] == 1.0
    assert result.metrics["mae_vs_group_median"] == pytest.approx(result.metrics["mae"] / group["mae"])
    assert result.metrics["mae_vs_group_median"] < 1  # LightGBM beats the group median on the demo data
    versions = client.search_model_versions(f"name = '{registry.MODEL_NAME}'")
    assert [v.run_id for v in versions] == [result.run_id]  # baselines beside a run are never registered

    out = CliRunner().invoke(
        cli, ["train", "--data", str(demo_csv), "--rounds", "5", "--threads", "1", "--no-baselines"]
    )
    assert out.exit_code == 0, out.output
    experiment = client.get_experiment_by_name(registry.EXPERIMENT)
    assert len(client.search_runs([experiment.experiment_id])) == 4  # 1 + 2 baselines, then 1 alone


def test_the_models_tab_gets_the_headline_metrics_named_with_the_evaluation_set(
    mlflow_store: str, demo_csv: Path
) -> None:
    result = train(TrainConfig(data=demo_csv, num_boost_round=20, params={"num_threads": 1}, register=False))
    experiment = mlflow.get_experiment_by_name(registry.EXPERIMENT)
    models = mlflow.search_logged_models(experiment_ids=[experiment.experiment_id], output_format="list")
    by_kind = {m.tags["model_kind"]: m for m in models}
    assert set(by_kind) == {"lightgbm", "global_median", "group_median"}
    assert by_kind["lightgbm"].source_run_id == result.run_id
    for model in models:
        assert [m.key for m in model.metrics] == list(HEADLINE)  # not the row counts or segment metrics
        assert {m.dataset_name for m in model.metrics} == {"demo-evaluation"}
        assert {m.dataset_digest for m in model.metrics} == {result.eval_digest}
    run = MlflowClient().get_run(result.run_id)
    assert {"rows_in", "pinball_p50", "segment/seniority/mae_max"} <= set(run.data.metrics)


def test_registered_versions_describe_themselves_and_the_model_shows_its_alias_history(
    mlflow_store: str, demo_csv: Path
) -> None:
    config = TrainConfig(data=demo_csv, num_boost_round=20, params={"num_threads": 1}, baselines=False)
    first = train(config)
    promote.move_alias(registry.CHALLENGER, "1", "second | opinion")
    client = MlflowClient()
    version = client.get_model_version(registry.MODEL_NAME, "1")
    assert version.tags["source"] == "demo" and version.tags["model_kind"] == "lightgbm"
    assert version.tags["eval_digest"] == first.eval_digest
    assert version.tags["bundle_format"] == str(registry.BUNDLE_FORMAT_VERSION)
    text = version.description
    assert "**lightgbm** on **demo**" in text and str(demo_csv) in text
    summary = first.summary
    assert f"{summary['rows_in']:,} rows read" in text and f"scored on {summary['rows_eval']:,}" in text
    assert f"| mae | {first.metrics['mae']:,.0f} |" in text
    assert f"| coverage_p10_p90 | {first.metrics['coverage_p10_p90']:.3f} |" in text
    assert first.eval_digest in text and first.run_id in text
    assert "Decision: salary train, no gate" in text
    history = client.get_registered_model(registry.MODEL_NAME).description
    rows = [line for line in history.splitlines() if line.startswith("| 20")]
    assert len(rows) == 2  # newest first, the reason's pipe kept from breaking the table
    assert rows[0].split(" | ")[1:4] == ["challenger", "-", "v1"] and "second / opinion" in rows[0]
    assert rows[1].split(" | ")[1:4] == ["champion", "-", "v1"]


def test_experiments_open_as_model_development_in_the_ui(mlflow_store: str) -> None:
    registry.configure()
    created = registry.ensure_experiment("fresh")
    plain = mlflow.create_experiment("made-before")  # as an older release made them
    chosen = mlflow.create_experiment("chosen", tags={registry.EXPERIMENT_KIND_TAG: "genai_development"})
    for name in ("made-before", "chosen"):
        registry.ensure_experiment(name, tracking.experiment_tags())
    kind = {e: MlflowClient().get_experiment(e).tags.get(registry.EXPERIMENT_KIND_TAG)
            for e in (created, plain, chosen)}
    assert kind == {created: "custom_model_development", plain: "custom_model_development",
                    chosen: "genai_development"}  # a kind someone chose in the UI is kept
    view = json.loads(MlflowClient().get_experiment(plain).tags["mlflow.sharedViewState.headline"])
    assert view["selectedColumns"][-len(HEADLINE):] == [f"metrics.`{m}`" for m in HEADLINE]
    assert view["orderByKey"] == "metrics.`mae`"
