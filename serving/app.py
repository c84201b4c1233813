"""The app factory and its lifespan: load the model, follow the alias, keep the last good model on failure."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Security
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware

from serving.deps import API_KEY_HEADER, require_api_key
from serving.errors import validation_error_handler
from serving.limits import BodyLimitMiddleware
from serving.loader import is_alias
from serving.metrics import Metrics, MetricsMiddleware
from serving.reload import refresh, watch
from serving.routes import api, ops
from serving.settings import Settings
from serving.state import ModelHolder

DESCRIPTION = """Salary ranges (P10-P90, USD per year) for a job, with what drove them and how the input
was read. Send structured fields, a posting's raw text, or both, as JSON with `Content-Type:
application/json`. When the service has API keys, the `/v1` routes need one in the `X-API-Key` header;
health, readiness and metrics stay open."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API; settings are read here (never at import) unless given."""
    settings = settings or Settings()
    holder = ModelHolder()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await refresh(settings, holder, metrics)  # a failure leaves the API up and /readyz at 503
        watcher = None
        if settings.reload_interval_s > 0 and is_alias(settings.model_uri):
            watcher = asyncio.create_task(watch(settings, holder, metrics), name="model-reload")
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    app = FastAPI(title="Salary estimator", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.holder = holder
    app.state.metrics = metrics
    # With no keys configured the check is not installed at all, and OpenAPI shows no security scheme.
    app.include_router(api, dependencies=[Security(require_api_key)] if settings.api_keys else [])
    app.include_router(ops)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", API_KEY_HEADER],
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics, log_requests=settings.access_log)
    publish_batch_limit(app, settings)
    return app


def publish_batch_limit(app: FastAPI, settings: Settings) -> None:
    """Add the runtime batch limit to the generated OpenAPI schema (FastAPI's documented extension point)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema["components"]["schemas"]["BatchRequest"]["properties"]["records"]["maxItems"] = (
                settings.max_batch
            )
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
