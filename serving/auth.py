"""Optional API keys: when any are configured, the /v1 routes need one in X-API-Key."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

from serving.settings import Settings

_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="Needed only when the service has API keys set."
)


async def require_api_key(request: Request, key: Annotated[str | None, Depends(_api_key_header)]) -> None:
    """Constant-time compare so keys cannot be guessed; async as it never blocks (sync costs a thread hop)."""
    settings: Settings = request.app.state.settings
    if not settings.api_keys:
        return
    if key is None or not any(hmac.compare_digest(key.encode(), k.encode()) for k in settings.api_keys):
        raise HTTPException(
            status_code=401,
            detail="missing or unknown API key; send one in the X-API-Key header",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
