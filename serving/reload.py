"""Hot reload: follow the registry alias and swap in each new version once it has loaded and answered."""

from __future__ import annotations

import asyncio
import logging

from serving.loader import load_checked, resolve_version
from serving.metrics import Metrics
from serving.settings import Settings
from serving.state import ModelHolder

log = logging.getLogger("serving.reload")


async def refresh(settings: Settings, holder: ModelHolder, metrics: Metrics) -> bool:
    """One poll: load the version the alias points at if it is new; True when a model was swapped in."""
    current = holder.current
    try:
        resolved = await asyncio.to_thread(resolve_version, settings.model_uri, settings.tracking_uri)
        if current is not None and resolved[1] == current.version:
            return False
        loaded = await asyncio.to_thread(load_checked, settings.model_uri, settings.tracking_uri, resolved)
    except Exception as exc:  # any failure keeps the old model serving
        metrics.reload_failures.inc()
        log.error(
            "could not load %s (serving %s): %s",
            settings.model_uri,
            f"version {current.version}" if current else "nothing",
            exc,
        )
        return False
    holder.swap(loaded)
    metrics.reloads.inc()
    log.info(
        "now serving %s version %s (was %s)",
        loaded.name,
        loaded.version,
        current.version if current else "nothing",
    )
    return True


async def watch(settings: Settings, holder: ModelHolder, metrics: Metrics) -> None:
    """Poll every reload_interval_s until cancelled at shutdown."""
    while True:
        await asyncio.sleep(settings.reload_interval_s)
        await refresh(settings, holder, metrics)
