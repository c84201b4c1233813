"""One write per response: the coalescing transport alone, and a real uvicorn speaking HTTP through it."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from serving.app import create_app
from serving.settings import Settings
from serving.transport import PROTOCOL, CoalescingTransport


class Recorder(asyncio.Transport):
    """Keeps what reaches the socket."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


def test_writes_of_one_loop_turn_reach_the_socket_once() -> None:
    async def scenario() -> tuple[list[bytes], int]:
        raw = Recorder()
        transport = CoalescingTransport(raw, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(memoryview(b"body"))
        queued = transport.get_write_buffer_size()
        assert raw.writes == []
        await asyncio.sleep(0)
        transport.write(b"next")
        await asyncio.sleep(0)
        return raw.writes, queued

    writes, queued = asyncio.run(scenario())
    assert writes == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"next"]
    assert queued == len(b"HTTP/1.1 200 OK\r\n\r\nbody")


def test_close_sends_what_is_queued_and_a_closed_socket_gets_nothing() -> None:
    async def scenario() -> tuple[Recorder, Recorder]:
        loop = asyncio.get_running_loop()
        first, second = Recorder(), Recorder()
        closing = CoalescingTransport(first, loop)
        closing.write(b"last response")
        closing.close()
        gone = CoalescingTransport(second, loop)
        gone.write(b"too late")
        second.closed = True
        await asyncio.sleep(0)
        return first, second

    first, second = asyncio.run(scenario())
    assert (first.writes, first.closed) == ([b"last response"], True)
    assert second.writes == []


@pytest.fixture()
def live_server(bundle_dir: Path) -> Iterator[int]:
    """The real app under uvicorn with the coalescing protocol, in a thread, on a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    app = create_app(Settings(model_uri=str(bundle_dir), reload_interval_s=0))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=PROTOCOL, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # only stops a hung test
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=30)


def _request(title: str, close: bool = False) -> bytes:
    body = json.dumps({"title": title}).encode()
    head = (
        "POST /v1/estimates?explain=false HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{'Connection: close' + chr(13) + chr(10) if close else ''}\r\n"
    )
    return head.encode() + body


def _responses(data: bytes) -> list[tuple[int, dict[str, object]]]:
    """Split a byte stream of Content-Length framed HTTP/1.1 responses."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:])
        length = int(headers["content-length"])
        out.append((int(lines[0].split()[1]), json.loads(rest[:length])))
        data = rest[length:]
    return out


def test_pipelined_requests_are_answered_in_order_and_close_is_clean(live_server: int) -> None:
    titles = ["Data Analyst", "Senior Machine Learning Engineer", "Nurse"]
    with socket.create_connection(("127.0.0.1", live_server), timeout=30) as sock:
        sock.sendall(b"".join(_request(t, close=(i == len(titles) - 1)) for i, t in enumerate(titles)))
        received = b""
        while chunk := sock.recv(65536):  # the server closes after the last response
            received += chunk
    answers = _responses(received)
    assert [status for status, _ in answers] == [200, 200, 200]
    roles = [body["interpreted"]["role"] for _, body in answers]  # type: ignore[index]
    assert roles[0] != roles[1] != roles[2]
    assert roles[1] == "machine_learning_engineer"
