"""A restartable `mlflow server` process on a free local port, for tests against a real tracking server."""

from __future__ import annotations

import sys

from server_process import ServerProcess


class MlflowServer(ServerProcess):
    """`mlflow server` on 127.0.0.1 with a SQLite backend and a local artifact root; restartable."""

    name = "mlflow server"

    def command(self) -> list[str]:
        """The command line that serves the store on `self.port`."""
        return [
            sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
            "--artifacts-destination", str(self.root / "artifacts"),
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
        ]
