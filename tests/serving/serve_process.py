"""`salary serve` as a real process on a free port, for the tests that need uvicorn and its logs."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(condition: Callable[[], bool], what: str, limit_s: float = 120.0) -> None:
    """Poll until `condition` holds; the limit only stops a hung test, it is not a speed goal."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def salary_serve(
    options: list[str], env: dict[str, str], log: Path
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`salary serve OPTIONS` writing its output to `log`: its base URL once /readyz answers 200."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "salary"), "serve", "--port", str(port), *options]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()}")
        try:
            return httpx.get(f"{base}/readyz").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(ready, "the server to be ready")
        yield base, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
