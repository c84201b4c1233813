"""The one place aliases move, because MLflow keeps no history of alias moves and we need one."""

from __future__ import annotations

import getpass
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import mlflow
from mlflow.entities import Param, RunStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from models import registry
from training.evaluate import HEADLINE

LOG = logging.getLogger(__name__)
REGISTRY_EXPERIMENT = "salary-registry"
ACTOR_ENV = "SALARY_ACTOR"
MAX_TAG_CHARS = 4000
MAX_DESCRIPTION_CHARS = 4900  # SQL stores keep at most 5000 characters of a description
HISTORY_CELL_CHARS = 80


@dataclass(frozen=True)
class AliasMove:
    """One entry of the append-only alias log: who moved which alias from which version to which, and why."""

    alias: str
    from_version: str | None
    to_version: str
    actor: str
    reason: str
    at: str


def actor() -> str:
    """Who is acting: $SALARY_ACTOR (set it in cron jobs), else the login name."""
    return os.environ.get(ACTOR_ENV) or getpass.getuser()


def current_version(alias: str, name: str = registry.MODEL_NAME) -> str | None:
    """The version an alias points at, or None when the alias (or the model) does not exist yet."""
    try:
        return str(MlflowClient().get_model_version_by_alias(name, alias).version)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def register_version(
    model_uri: str,
    run_id: str,
    name: str = registry.MODEL_NAME,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
) -> str:
    """Register a logged model as a new version, tagged with the run that produced it; no alias moves."""
    version = mlflow.register_model(model_uri, name, tags={"run_id": run_id, **(tags or {})})
    if description:
        MlflowClient().update_model_version(name, str(version.version), description[:MAX_DESCRIPTION_CHARS])
    return str(version.version)


def _number(name: str, value: float) -> str:
    if name.startswith(("mae", "width")) and not name.startswith("mae_vs"):
        return f"{value:,.0f}"
    return f"{value:.3f}"


def version_description(
    summary: Mapping[str, Any], metrics: Mapping[str, float], run_id: str, decision: str
) -> str:
    """A registered version's description (markdown): its data, rows, backtest metrics, who decided what."""
    rows = (
        f"{summary['rows_in']:,} rows read, {summary['rows_out']:,} after cleaning; backtest fitted on "
        f"{summary['rows_train']:,} and scored on {summary['rows_eval']:,} ({summary['split']}); "
        f"this model fitted on {summary['rows_fitted']:,}."
    )
    table = ["| metric | backtest |", "|---|---|"] + [
        f"| {name} | {_number(name, metrics[name])} |" for name in HEADLINE if name in metrics
    ]
    lines = [
        f"**{summary['model_kind']}** on **{summary['source']}** (`{summary['data_path']}`)",
        "",
        rows,
        "",
        *table,
        "",
        f"Evaluation digest `{summary['eval_digest']}`; run `{run_id}`.",
        "",
        f"Decision: {decision}",
    ]
    return "\n".join(lines)


def version_tags(summary: Mapping[str, Any]) -> dict[str, str]:
    """A registered version's tags: where its data came from, which rows scored it, its bundle format."""
    return {
        "source": str(summary["source"]),
        "model_kind": str(summary["model_kind"]),
        "eval_digest": str(summary["eval_digest"]),
        "bundle_format": str(registry.BUNDLE_FORMAT_VERSION),
    }


def register(
    model_uri: str,
    run_id: str,
    champion_reason: str | None,
    *,
    challenger_reason: str | None = None,
    replace_champion: bool = False,
    name: str = registry.MODEL_NAME,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> tuple[str, bool]:
    """The one way a run's model enters the registry: a new version, then its aliases, champion last.

    It gets `challenger` when `challenger_reason` is given. It becomes `champion` only when
    `champion_reason` is given (a version allowed to serve) and there is no champion yet, or
    `replace_champion` says the caller (a passed gate) decided to replace it. Returns the version
    and whether it is now champion. `description` and `tags` describe the version (version_description).
    """
    version = register_version(model_uri, run_id, name, tags, description)
    if challenger_reason is not None:
        move_alias(registry.CHALLENGER, version, challenger_reason, name)
    if champion_reason is None:
        return version, False
    if not replace_champion and current_version(registry.CHAMPION, name) is not None:
        return version, False
    move_alias(registry.CHAMPION, version, champion_reason, name)
    return version, True


def move_alias(alias: str, version: str, reason: str, name: str = registry.MODEL_NAME) -> AliasMove:
    """Point `alias` at `version`, tagging both versions and appending the move to the registry log.

    The log entry is a run in the `salary-registry` experiment, opened before the alias moves and
    marked FINISHED only after it moved, so a failed move never reads as a completed one.
    """
    client = MlflowClient()
    previous = current_version(alias, name)
    move = AliasMove(alias, previous, str(version), actor(), reason, datetime.now(UTC).isoformat())
    run = client.create_run(
        registry.ensure_experiment(REGISTRY_EXPERIMENT),
        run_name=f"{alias}: v{previous or '-'} -> v{version}",
        tags={"model_name": name, "alias": alias, "actor": move.actor, "mlflow.user": move.actor},
    )
    try:
        params = [Param(k, "" if v is None else str(v)[:MAX_TAG_CHARS]) for k, v in asdict(move).items()]
        client.log_batch(run.info.run_id, params=params)
        client.set_registered_model_alias(name, alias, str(version))
        note = f"{move.at} by {move.actor} (was v{previous or '-'}): {reason}"[:MAX_TAG_CHARS]
        client.set_model_version_tag(name, str(version), f"alias.{alias}.set", note)
        if previous is not None and previous != str(version):
            gone = f"{move.at} by {move.actor} (now v{version})"
            client.set_model_version_tag(name, previous, f"alias.{alias}.removed", gone)
    except Exception:
        client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.FAILED))
        raise
    client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.FINISHED))
    try:
        client.update_registered_model(name, description=history_table(alias_history(name=name)))
    except (MlflowException, OSError) as exc:  # the move happened and is logged; only its table is late
        LOG.warning("alias %s moved to v%s, but the registry's history table was not updated: %s",
                    alias, version, exc)
    return move


def _cell(text: str | None) -> str:
    flat = " ".join((text or "-").split()).replace("|", "/")
    return flat if len(flat) <= HISTORY_CELL_CHARS else flat[: HISTORY_CELL_CHARS - 1] + "…"


def history_table(moves: list[AliasMove]) -> str:
    """The alias log as a markdown table, newest first, for the registered model's description.

    MLflow keeps no history of alias moves; the `salary-registry` experiment does, and this table shows it
    where people look, the registry page. Older rows go when the description would pass the stores' limit.
    """
    head = [
        "Alias history, newest first (written by `training/promote.py`; every move is also a run in the "
        f"`{REGISTRY_EXPERIMENT}` experiment).",
        "",
        "| when (UTC) | alias | from | to | who | why |",
        "|---|---|---|---|---|---|",
    ]
    rows = [
        f"| {m.at[:19].replace('T', ' ')} | {m.alias} | {'v' + m.from_version if m.from_version else '-'} "
        f"| v{m.to_version} | {_cell(m.actor)} | {_cell(m.reason)} |"
        for m in reversed(moves)
    ]
    while rows and len("\n".join(head + rows)) > MAX_DESCRIPTION_CHARS:
        rows.pop()
    return "\n".join(head + rows)


def alias_history(alias: str | None = None, name: str = registry.MODEL_NAME) -> list[AliasMove]:
    """Completed alias moves, oldest first, optionally for one alias."""
    experiment = mlflow.get_experiment_by_name(REGISTRY_EXPERIMENT)
    if experiment is None:
        return []
    query = f"tags.model_name = '{name}' and attributes.status = 'FINISHED'"
    if alias is not None:
        query += f" and tags.alias = '{alias}'"
    runs = MlflowClient().search_runs([experiment.experiment_id], query, max_results=10_000)
    moves = [
        AliasMove(
            alias=p["alias"],
            from_version=p["from_version"] or None,
            to_version=p["to_version"],
            actor=p["actor"],
            reason=p["reason"],
            at=p["at"],
        )
        for p in (r.data.params for r in runs)
    ]
    return sorted(moves, key=lambda m: m.at)
