"""Request body size limit, enforced on Content-Length and on the bytes actually received.

A client that writes its whole body before reading (urllib, requests) would get a reset connection, not
the 413, if the server closed with the body unread: the kernel answers unread data with a TCP reset.
So the rest of a refused body is read and dropped first, up to DRAIN_BYTES and DRAIN_SECONDS (what
nginx calls a lingering close); a client that waits for `100 Continue` is answered without reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRAIN_BYTES = 64 * 2**20  # beyond this a refused body is not read: the client may see a reset
DRAIN_SECONDS = 5.0


class BodyTooLarge(Exception):
    """The body went past the limit while being read."""


class BodyLimitMiddleware:
    """Refuses bodies over `max_bytes` with a 413 before any parsing, whatever the client declared."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            if declared <= DRAIN_BYTES and not _expects_continue(scope):
                await _drain(receive)
            await self._refuse(send)
            return
        try:
            messages = await self._read_body(receive)
        except BodyTooLarge:
            await _drain(receive)
            await self._refuse(send)
            return
        pending = iter(messages)

        async def replay() -> Message:
            # The buffered body first; after it, the real channel (to see a client disconnect).
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, receive: Receive) -> list[Message]:
        """Buffer the body (the app would anyway), counting bytes as they stream in."""
        messages: list[Message] = []
        total = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            total += len(message.get("body", b""))
            if total > self.max_bytes:
                raise BodyTooLarge
            if not message.get("more_body", False):
                return messages

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"detail": f"request body larger than {self.max_bytes} bytes; send less (split big batches)"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _drain(receive: Receive) -> None:
    """Read and drop what is left of the body, within DRAIN_BYTES and DRAIN_SECONDS."""
    total = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DRAIN_SECONDS):
            while total <= DRAIN_BYTES:
                message = await receive()
                if message["type"] != "http.request":
                    return
                total += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return


def _expects_continue(scope: Scope) -> bool:
    return any(name == b"expect" and value.lower() == b"100-continue" for name, value in scope["headers"])


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
