"""The app factory and its lifespan: load the model, follow the alias, keep the last good model on failure."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from features.schema import JobRecord
from serving.auth import ApiKeyMiddleware, document_api_keys
from serving.direct import DirectRoute
from serving.errors import validation_error_handler
from serving.limits import BodyLimitMiddleware
from serving.loader import is_alias
from serving.metrics import Metrics, MetricsMiddleware
from serving.reload import refresh, watch
from serving.routes import api, create_estimate, ops
from serving.settings import Settings
from serving.state import ModelHolder

log = logging.getLogger("serving")

DESCRIPTION = """Salary ranges (P10-P90, USD per year) for a job, with what drove them and how the input
was read. Send structured fields, a posting's raw text, or both. When the service has API keys, the
`/v1` routes need one in the `X-API-Key` header; health, readiness and metrics stay open."""


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
    app.include_router(api)
    app.include_router(ops)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    # Middlewares added first sit innermost: the shortcut runs after keys, limits and metrics.
    app.add_middleware(
        DirectRoute, route=route_of(create_estimate), handled=(HTTPException, RequestValidationError)
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.api_keys:
        app.add_middleware(ApiKeyMiddleware, keys=settings.api_keys)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key"],
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    complete_openapi(app, settings)
    return app


def route_of(endpoint: object) -> APIRoute:
    """The /v1 route an endpoint function is registered as."""
    return next(r for r in api.routes if isinstance(r, APIRoute) and r.endpoint is endpoint)


def complete_openapi(app: FastAPI, settings: Settings) -> None:
    """Add what FastAPI cannot see: JobRecord (read from bytes), the key header, the runtime batch limit."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["JobRecord"] = JobRecord.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas["BatchRequest"]["properties"]["records"]["maxItems"] = settings.max_batch
            if settings.api_keys:
                document_api_keys(schema)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
