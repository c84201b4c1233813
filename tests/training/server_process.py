"""A restartable server process on a free local port, for tests against a real server over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import pytest

STARTUP_LIMIT_S = 180  # generous: the test machine is shared; this is a deadline, not an assertion


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A server on 127.0.0.1 started from `command()`, ready once `health_path` answers 200; restartable."""

    name = "server"
    health_path = "/health"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        """The base URL clients use."""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The command line that serves on `self.port`."""
        raise NotImplementedError

    def environment(self) -> dict[str, str] | None:
        """The process environment (None: this one's)."""
        return None

    def start(self) -> None:
        """Start on a fresh free port (the same root) and wait until the health path answers."""
        self.port = free_port()
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True,
            env=self.environment(),
        )
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.uri}{self.health_path}", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        self.stop()
        pytest.fail(
            f"{self.name} did not answer {self.health_path} within {STARTUP_LIMIT_S}s: {self.log_tail()}"
        )

    @contextmanager
    def running(self) -> Iterator[Self]:
        """Started for the duration of a `with` block, stopped at its end even when the block fails."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop the server with its workers (its own process group), killing it if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait()

    def log_tail(self) -> str:
        """The end of the server log, for failure messages."""
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"
