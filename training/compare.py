"""Side-by-side views of runs and registered versions, in the terminal and in the MLflow UI."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from mlflow.tracking import MlflowClient

from models import registry
from training.evaluate import HEADLINE
from training.tracking import HEADLINE_VIEW

HIDDEN_PREFIXES = ("segment/", "champion_", "rows_dropped_", "rows_rejected_")
HIDDEN_PARAMS = ("tracking_uri", "register", "data")  # where a run was logged, not what it was


@dataclass
class Comparison:
    """Metrics of every model, the parameters that differ, and each model's evaluation digest."""

    metrics: pd.DataFrame
    params: pd.DataFrame
    digests: dict[str, str]

    def to_text(self) -> str:
        """The tables as `salary compare` prints them."""
        same = len(set(self.digests.values())) == 1
        lines = [
            "evaluation set: "
            + (f"same for all (digest {next(iter(self.digests.values()))})" if same
               else "DIFFERENT, metrics are not comparable: "
               + ", ".join(f"{k}={v}" for k, v in self.digests.items())),
            "",
            self.metrics.to_string(float_format=lambda v: f"{v:,.4f}"),
            "",
        ]
        if self.params.empty:
            lines.append("parameters: identical")
        else:
            lines += ["parameters that differ:", self.params.to_string()]
        return "\n".join(lines)


def resolve(ref: str, client: MlflowClient) -> tuple[str, str]:
    """A label and a run id for an alias (champion), a version number (3) or a run id."""
    name = registry.MODEL_NAME
    if ref in (registry.CHAMPION, registry.CHALLENGER):
        version = client.get_model_version_by_alias(name, ref)
        return f"{ref} v{version.version}", str(version.run_id)
    if ref.isdigit():
        return f"v{ref}", str(client.get_model_version(name, ref).run_id)
    return f"run {ref[:8]}", client.get_run(ref).info.run_id


def _metric_order(names: set[str]) -> list[str]:
    shown = sorted(n for n in names if not n.startswith(HIDDEN_PREFIXES))
    return [n for n in HEADLINE if n in shown] + [n for n in shown if n not in HEADLINE]


def compare(refs: Sequence[str] = (registry.CHAMPION, registry.CHALLENGER)) -> Comparison:
    """Compare runs or registered versions (default: champion against challenger)."""
    if len(refs) < 1:
        raise ValueError("nothing to compare; pass run ids, version numbers, or champion/challenger")
    client = MlflowClient()
    runs = {}
    for ref in refs:
        label, run_id = resolve(ref, client)
        runs[label] = client.get_run(run_id).data
    metric_names = _metric_order({m for data in runs.values() for m in data.metrics})
    metrics = pd.DataFrame(
        {label: [data.metrics.get(m, float("nan")) for m in metric_names] for label, data in runs.items()},
        index=pd.Index(metric_names, name="metric"),
    )
    param_names = sorted({p for data in runs.values() for p in data.params} - set(HIDDEN_PARAMS))
    params = pd.DataFrame(
        {label: [data.params.get(p, "-") for p in param_names] for label, data in runs.items()},
        index=pd.Index(param_names, name="param"),
    )
    params = params[params.nunique(axis=1) > 1]
    digests = {label: data.tags.get("eval_digest", "?") for label, data in runs.items()}
    return Comparison(metrics, params, digests)


def ui_command(tracking_uri: str, host: str = "127.0.0.1", port: int = 5000) -> list[str]:
    """The `mlflow ui` command line for a local store; a tracking server already has its own UI.

    One worker: the UI of a local store has one reader, and MLflow's default of four takes a loaded
    two-core machine tens of seconds to start.
    """
    if tracking_uri.startswith(("http://", "https://")):
        raise ValueError(f"{tracking_uri} is a tracking server: open it in a browser, it serves the UI")
    artifacts = (Path.cwd() / registry.DEFAULT_ARTIFACT_DIR).resolve().as_uri()
    return [
        sys.executable, "-m", "mlflow", "ui",
        "--backend-store-uri", tracking_uri,
        "--default-artifact-root", artifacts,
        "--host", host, "--port", str(port), "--workers", "1",
    ]


def ui_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The UI's environment: MLflow's background job runners off unless asked for.

    They serve GenAI features (scorers, trace jobs) and start a dozen processes, which on a loaded
    two-core machine delay the first page by tens of seconds; `MLFLOW_SERVER_ENABLE_JOB_EXECUTION=true`
    brings them back.
    """
    return {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **environ}


def runs_page(base_url: str, experiment_id: str) -> str:
    """The experiment's runs in the UI, as model training, with the headline metric columns.

    MLflow 3's UI shows its GenAI pages unless told `workflowType=machine_learning` (newer releases read
    it from the page address and the browser's memory, not from the experiment's kind tag), and shows no
    metric column until someone picks them; the headline view (`tracking.headline_view`) picks them.
    """
    query = f"workflowType=machine_learning&viewStateShareKey={HEADLINE_VIEW}"
    return f"{base_url.rstrip('/')}/#/experiments/{experiment_id}/runs?{query}"


def compare_page(base_url: str, experiment_id: str, run_ids: Sequence[str]) -> str:
    """The UI's side-by-side page of runs: every parameter and metric, plots of the chosen ones."""
    runs = json.dumps(list(run_ids), separators=(",", ":"))
    experiments = json.dumps([experiment_id], separators=(",", ":"))
    return f"{base_url.rstrip('/')}/#/compare-runs?runs={runs}&experiments={experiments}"
