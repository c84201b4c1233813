"""The service's settings: one class, read from SALARY_* environment variables, validated at startup."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.registry import alias_uri


class Settings(BaseSettings):
    """Every knob of the API; see the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="SALARY_", extra="ignore", protected_namespaces=())

    model_uri: str = Field(
        default_factory=alias_uri,
        description="Model to serve: models:/NAME@ALIAS, models:/NAME/VERSION or a local bundle path.",
    )
    tracking_uri: str | None = Field(
        None,
        description="MLflow tracking URI; defaults to MLFLOW_TRACKING_URI, else sqlite:///mlflow.db.",
    )
    reload_interval_s: float = Field(
        30.0,
        ge=0,
        description="How often to check whether the alias moved; 0 turns hot reload off.",
    )
    max_batch: int = Field(
        1000, ge=1, le=100_000, description="Largest batch accepted by /v1/estimates/batch."
    )
    max_explain_batch: int = Field(
        100,
        ge=0,
        le=100_000,
        description="Largest batch that may ask for drivers (explain=true): with TreeSHAP drivers (a "
        "model the packed trees refuse) one big explained batch held up every other request for seconds.",
    )
    inline_text_chars: int = Field(
        2_000,
        ge=-1,
        description="A single estimate with at most this much posting text is answered on the event "
        "loop, as a thread hop costs as much as the estimate, unless its drivers need TreeSHAP (a model "
        "the packed trees refuse); -1 sends every estimate to the threadpool.",
    )
    max_body_bytes: int = Field(2_000_000, ge=1024, description="Largest request body accepted, in bytes.")
    api_keys: list[str] = Field(
        default_factory=list,
        description="If set, requests must send one of these in the X-API-Key header.",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS; empty = none."
    )
    access_log: bool = Field(
        False, description="Log a line per request: client, method, path without its query, status, time."
    )
