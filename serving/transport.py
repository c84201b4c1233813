"""uvicorn's httptools protocol with one socket write per response instead of two.

uvicorn writes the status line and headers as soon as the app starts its response, and the body
when it arrives: two `send` system calls, and on a loopback or virtualised network each one can wake
the client. Buffering writes until the event loop's next turn joins them into one. A response is
still on the wire before the loop reads the next request, and ordering is kept because every write
goes through the same buffer. This leans on uvicorn internals (`HttpToolsProtocol.connection_made`,
`.loop`); tests/serving/test_transport.py runs a real uvicorn with it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

PROTOCOL = "serving.transport:HttpProtocol"  # what uvicorn's `http` option takes, importable in workers


class CoalescingTransport:
    """A transport whose writes within one turn of the event loop reach the socket as one write."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue `data`; the first write of a turn schedules the flush."""
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        """Queue every chunk, in order."""
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        """Hand everything queued to the real transport in one write (dropped if it closed meanwhile)."""
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        """Flush, then close: a response followed by `Connection: close` is not cut off."""
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        """Flush before half-closing."""
        self.flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        """Bytes not yet sent, queued here or in the real transport (flow control reads this)."""
        return sum(map(len, self._pending)) + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a coalescing transport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
