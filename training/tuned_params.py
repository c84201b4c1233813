"""Where `salary tune` leaves its best parameters and how `salary train` picks them up."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from models import registry
from training.config import TrainConfig

TUNED_PARAMS_FILE = "tuned_params.json"


def default_path(tracking_uri: str | None = None) -> Path:
    """Beside the SQLite tracking store when there is one, else in the working directory."""
    uri = registry.tracking_uri(tracking_uri)
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///")).parent / TUNED_PARAMS_FILE
    return Path.cwd() / TUNED_PARAMS_FILE


def read(path: Path) -> dict[str, Any]:
    """Every source's best parameters, or nothing when tuning never ran."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path} holds {type(data).__name__}; expected an object keyed by source")
    return data


def write(path: Path, source: str, entry: dict[str, Any]) -> Path:
    """Record one source's best parameters, keeping the other sources' entries."""
    data = read(path)
    data[source] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def with_tuned_params(config: TrainConfig) -> TrainConfig:
    """The config with the source's tuned LightGBM parameters, unless parameters were given explicitly."""
    if config.model_kind != "lightgbm" or config.params:
        return config
    path = config.tuned_params or default_path(config.tracking_uri)
    entry = read(path).get(config.source)
    if not entry:
        return config
    return dataclasses.replace(
        config,
        params=dict(entry["params"]),
        num_boost_round=int(entry.get("num_boost_round", config.num_boost_round)),
        tuned_params=path,
    )
