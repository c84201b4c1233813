"""Starting the server: uvicorn workers, logging configured once, metrics shared through a directory."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import uvicorn

from serving.metrics import MULTIPROC_ENV

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"


def log_config() -> dict[str, Any]:
    """uvicorn's log_config: every logger through one stderr handler with time, level, logger and process."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {name: {"level": "INFO"} for name in ("uvicorn", "serving", "models")},
    }


def serve(host: str, port: int, workers: int, access_log: bool = False) -> None:
    """Run the API; with several workers, point them at one fresh metrics directory before they start.

    The access log is off unless asked for: a line per request cost about a tenth of a request's CPU in
    benchmarks/serving.py, and /metrics already counts requests by route and status. It is written by
    the app (serving.access), never with the query string; uvicorn's own access log stays off.
    """
    with tempfile.TemporaryDirectory(prefix="salary-metrics-") as metrics_dir:
        if workers > 1:
            os.environ.setdefault(MULTIPROC_ENV, metrics_dir)
        if access_log:
            os.environ["SALARY_ACCESS_LOG"] = "true"  # workers read their settings from the environment
        uvicorn.run(
            "serving.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_config=log_config(),
        )
