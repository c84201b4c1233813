"""`salary serve` as deployed (a real uvicorn process): 413s that clients see, logs with time and level."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serve_process import salary_serve, wait_for

LIMIT = 4096
BIG = 8_000_000  # far past what the kernel buffers for an unread socket, so a reset would show
SECRET = "k3y-in-the-query-7e1f"
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) [\w.]+ \[\d+\] ")


@pytest.fixture(scope="module")
def server(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`salary serve --access-log` with one worker and a small body limit; its base URL and log file."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "SALARY_MAX_BODY_BYTES": str(LIMIT), "SALARY_RELOAD_INTERVAL_S": "0"}
    with salary_serve(["--model", str(bundle_dir), "--workers", "1", "--access-log"], env, log) as (base, _):
        yield base, log


def refused_by(url: str, data: bytes | Iterator[bytes]) -> tuple[int, str]:
    """POST with urllib, which writes the whole body before it reads anything; the error's status and body."""
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    return refused.value.code, refused.value.read().decode()


def test_a_client_that_writes_the_whole_body_first_gets_the_413(server: tuple[str, Path]) -> None:
    base, _ = server
    status, body = refused_by(f"{base}/v1/estimates", b'{"description": "' + b"x" * BIG + b'"}')
    assert status == 413
    assert f"{LIMIT} bytes" in body


def test_a_chunked_body_over_the_limit_gets_the_413(server: tuple[str, Path]) -> None:
    base, _ = server
    chunks = (b"x" * 65536 for _ in range(BIG // 65536))  # no Content-Length: the limit is counted
    status, body = refused_by(f"{base}/v1/estimates/batch", chunks)
    assert status == 413
    assert f"{LIMIT} bytes" in body


def test_logs_have_time_and_level_and_say_what_is_served(server: tuple[str, Path], bundle_dir: Path) -> None:
    _, log = server
    lines = log.read_text().splitlines()
    served = [line for line in lines if f"now serving the bundle at {bundle_dir}" in line]
    assert served and LINE.match(served[0]) and " INFO serving.reload " in served[0]
    assert any(LINE.match(line) and "uvicorn" in line for line in lines)  # uvicorn's own lines too


def test_the_access_log_has_paths_without_query_strings(server: tuple[str, Path]) -> None:
    base, log = server
    answer = httpx.post(f"{base}/v1/estimates?explain=false&api_key={SECRET}", json={"title": "Nurse"})
    assert answer.status_code == 200
    wait_for(lambda: '"POST /v1/estimates HTTP/1.1" 200' in log.read_text(), "the access log line")
    text = log.read_text()
    assert SECRET not in text
    access = [line for line in text.splitlines() if "serving.access" in line]
    assert access and all(LINE.match(line) for line in access)
