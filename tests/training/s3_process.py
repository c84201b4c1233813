"""A moto S3-compatible server process on a free local port, and the settings that point s3fs at it."""

from __future__ import annotations

import sys

from server_process import ServerProcess

# Dummy credentials: the server accepts any; botocore needs some before it sends a request.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"
}
# Settings of the developer's own that would send requests elsewhere or sign them differently.
UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL_S3")


class MotoServer(ServerProcess):
    """`moto.server` on 127.0.0.1, answering the S3 API over HTTP as an object store would."""

    name = "moto server"
    health_path = "/moto-api/"

    def command(self) -> list[str]:
        """The command line that serves on `self.port`."""
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def settings(self) -> dict[str, str]:
        """The environment that points botocore (and so s3fs) at this server: AWS_ENDPOINT_URL."""
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.uri}
