"""Hot reload: follow the registry alias and swap in each new version once it has loaded and answered."""

from __future__ import annotations

import asyncio
import logging

from serving.loader import LoadedModel, load_checked, resolve_version
from serving.metrics import Metrics
from serving.settings import Settings
from serving.state import ModelHolder

log = logging.getLogger("serving.reload")


async def refresh(settings: Settings, holder: ModelHolder, metrics: Metrics) -> bool:
    """One poll: load the version the alias points at if it is new; True when a model was swapped in."""
    current = holder.current
    step = f"asking the registry where {settings.model_uri} points"
    try:
        resolved = await asyncio.to_thread(resolve_version, settings.model_uri, settings.tracking_uri)
        if current is not None and resolved[1] == current.version:
            return False
        step = f"loading version {resolved[1]}" if resolved[1] else "loading the bundle"
        loaded = await asyncio.to_thread(load_checked, settings.model_uri, settings.tracking_uri, resolved)
    except Exception as exc:  # any failure keeps the old model serving
        metrics.reload_failures.inc()
        log.error(
            "could not load %s (serving %s): %s failed with %s",
            settings.model_uri,
            served(current),
            step,
            f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,  # EOFError() says nothing
        )
        return False
    holder.swap(loaded)
    metrics.reloads.inc()
    log.info(
        "now serving %s (%s, run %s; was %s)", served(loaded), loaded.name, loaded.run_id, served(current)
    )
    return True


def served(model: LoadedModel | None) -> str:
    """What a log line calls the model being served: its registry version, a bundle path, or nothing."""
    if model is None:
        return "nothing"
    return f"version {model.version}" if model.version else f"the bundle at {model.uri}"


async def watch(settings: Settings, holder: ModelHolder, metrics: Metrics) -> None:
    """Poll every reload_interval_s until cancelled at shutdown."""
    while True:
        await asyncio.sleep(settings.reload_interval_s)
        await refresh(settings, holder, metrics)
