"""A shortcut from the middleware stack straight to the single-estimate endpoint.

FastAPI's router, its exception middleware and its per-request dependency solving cost about as much
CPU as the estimate itself (benchmarks/RESULTS.md, issue 7). The hottest route skips them: its
endpoint is the same function the router would call and OpenAPI documents, and its errors go through
the app's own exception handlers, so answers are byte for byte those of the routed path. Every other
method and path, and anything the endpoint does not catch, goes on as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


class DirectRoute:
    """Answers one method and path with its endpoint; innermost, so auth, limits and metrics still run."""

    def __init__(self, app: ASGIApp, route: APIRoute, handled: tuple[type[Exception], ...]) -> None:
        self.app = app
        self.route = route
        self.endpoint: Endpoint = route.endpoint
        self.methods = route.methods or set()
        self.handled = handled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in self.methods
            or _route_path(scope) != self.route.path
        ):
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route  # what the router would set: metrics label requests by it
        scope["endpoint"] = self.endpoint
        request = Request(scope, receive, send)
        try:
            response = await self.endpoint(request)
        except self.handled as exc:
            response = await _handler(scope["app"], exc)(request, exc)
        await response(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path without the app's mount prefix, as Starlette's router matches it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _handler(app: Any, exc: Exception) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The app's handler for `exc`, looked up as Starlette does: status code first, then the class's MRO."""
    handlers = app.exception_handlers
    status = getattr(exc, "status_code", None)
    if status in handlers:
        return handlers[status]
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    raise exc
