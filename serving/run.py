"""Starting the server: uvicorn workers, with metrics shared across them through a multiprocess directory."""

from __future__ import annotations

import os
import tempfile

import uvicorn

from serving.metrics import MULTIPROC_ENV
from serving.transport import PROTOCOL


def serve(host: str, port: int, workers: int, access_log: bool = False) -> None:
    """Run the API; with several workers, point them at one fresh metrics directory before they start.

    uvicorn's access log is off unless asked for: a line per request cost about a tenth of a request's
    CPU in benchmarks/serving.py, and /metrics already counts requests by route and status.
    """
    with tempfile.TemporaryDirectory(prefix="salary-metrics-") as metrics_dir:
        if workers > 1:
            os.environ.setdefault(MULTIPROC_ENV, metrics_dir)
        uvicorn.run(
            "serving.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            http=PROTOCOL,
        )
