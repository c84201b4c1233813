"""Starting the server: uvicorn workers, with metrics shared across them through a multiprocess directory."""

from __future__ import annotations

import os
import tempfile

import uvicorn

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def serve(host: str, port: int, workers: int) -> None:
    """Run the API; with several workers, point them at one fresh metrics directory before they start."""
    with tempfile.TemporaryDirectory(prefix="salary-metrics-") as metrics_dir:
        if workers > 1:
            os.environ.setdefault(MULTIPROC_ENV, metrics_dir)
        uvicorn.run("serving.main:create_app", factory=True, host=host, port=port, workers=workers)
