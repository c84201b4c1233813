"""The app factory and its lifespan: load the champion at startup, keep the last good model on failure."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from serving.loader import load_model
from serving.routes import router
from serving.settings import Settings
from serving.state import ModelHolder

log = logging.getLogger("serving")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API; settings are read here (never at import) unless given."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            loaded = load_model(settings.model_uri, settings.tracking_uri)
            app.state.holder.swap(loaded)
            log.info("serving %s version %s", loaded.name, loaded.version)
        except Exception as exc:  # the API still starts: /readyz says not ready
            log.error("could not load model %s: %s", settings.model_uri, exc)
        yield

    app = FastAPI(
        title="Salary estimator",
        version="0.1.0",
        description="Salary ranges (P10-P90, USD per year) for a job, with how the input was read.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.holder = ModelHolder()
    app.include_router(router)
    return app
