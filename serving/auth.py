"""Optional API keys: when any are configured, the /v1 routes need one in X-API-Key.

A plain ASGI middleware rather than a FastAPI dependency: a dependency costs every request about as
much as a quarter of an estimate, and with no keys configured the middleware is not installed at all.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

HEADER = "X-API-Key"
GUARDED_PREFIX = "/v1/"
SCHEME = "APIKeyHeader"


class ApiKeyMiddleware:
    """Refuses /v1 requests without a known key with a 401; health, readiness and metrics stay open."""

    def __init__(self, app: ASGIApp, keys: list[str]) -> None:
        self.app = app
        self.keys = [k.encode() for k in keys]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(GUARDED_PREFIX) and not self._allowed(scope):
            body = json.dumps(
                {"detail": f"missing or unknown API key; send one in the {HEADER} header"}
            ).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", HEADER.encode()),
            ]
            await send({"type": "http.response.start", "status": 401, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        """Constant-time compare against every key, so timing does not reveal how much of a key matched."""
        name = HEADER.lower().encode()
        given = next((value for key, value in scope["headers"] if key == name), None)
        return given is not None and any([hmac.compare_digest(given, k) for k in self.keys])


def document_api_keys(schema: dict[str, Any]) -> None:
    """Declare the header in the OpenAPI schema and require it on every /v1 operation."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "apiKey",
        "in": "header",
        "name": HEADER,
        "description": "One of the service's configured API keys.",
    }
    for path, operations in schema.get("paths", {}).items():
        if path.startswith(GUARDED_PREFIX):
            for operation in operations.values():
                operation["security"] = [{SCHEME: []}]
