"""Request dependencies, as `Annotated` aliases: the serving model, the settings, the metrics, the API key."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from serving.loader import LoadedModel
from serving.metrics import Metrics
from serving.settings import Settings
from serving.state import ModelHolder

API_KEY_HEADER = "X-API-Key"
api_key_header = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="One of the service's configured API keys."
)


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with (read once, at startup)."""
    settings: Settings = request.app.state.settings
    return settings


async def get_metrics(request: Request) -> Metrics:
    """The app's own metrics registry, so two apps in one process never share counters."""
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_holder(request: Request) -> ModelHolder:
    """The holder the reloader swaps models in, for readiness."""
    holder: ModelHolder = request.app.state.holder
    return holder


async def get_model(holder: Annotated[ModelHolder, Depends(get_holder)]) -> LoadedModel:
    """The serving model, taken once so a reload mid-request cannot mix two models; 503 while none."""
    model = holder.current
    if model is None:
        raise HTTPException(status_code=503, detail="no model loaded yet; see /readyz")
    return model


SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
ModelDep = Annotated[LoadedModel, Depends(get_model)]


async def require_api_key(
    settings: SettingsDep, key: Annotated[str | None, Security(api_key_header)]
) -> None:
    """401 unless the request carries a configured key; compared in constant time, key by key."""
    given = (key or "").encode()
    if key is None or not any([hmac.compare_digest(given, k.encode()) for k in settings.api_keys]):
        raise HTTPException(
            status_code=401,
            detail=f"missing or unknown API key; send one in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": API_KEY_HEADER},
        )
