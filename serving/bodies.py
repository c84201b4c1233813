"""Request bodies read as JSON the same way on every route: a body that is not JSON text is a 422.

FastAPI answers a body that `json.loads` refuses with a 422 naming the body when the text is bad JSON,
but with a 400 when it is not text at all (invalid UTF-8, a gzip body), nests too deeply or holds an
integer too long to convert. Here all of them are bad JSON, through FastAPI's documented custom
request and route classes, so a client sees one kind of answer for one kind of mistake.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class JSONBodyRequest(Request):
    """A request whose `json()` raises JSONDecodeError, with the reason, for any body json cannot read."""

    async def json(self) -> Any:
        """The body parsed by the standard library's json module."""
        body = await self.body()
        try:
            return json.loads(body)
        except json.JSONDecodeError:
            raise
        except UnicodeDecodeError as exc:
            reason = "body is not UTF-8 text (compressed or binary?)"
            raise json.JSONDecodeError(reason, "", exc.start) from exc
        except RecursionError as exc:
            raise json.JSONDecodeError("body nests arrays or objects too deeply", "", 0) from exc
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            raise json.JSONDecodeError(str(exc), "", 0) from exc


class JSONBodyRoute(APIRoute):
    """A route that hands its handler a JSONBodyRequest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, given the same request as a JSONBodyRequest."""
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(JSONBodyRequest(request.scope, request.receive))

        return handle
