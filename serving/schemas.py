"""Response bodies of the API; the request body is features.schema.JobRecord itself."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Driver(BaseModel):
    """One factor behind an estimate and its effect on P50 in percent."""

    factor: str = Field(
        description="What the user gave, e.g. 'seniority: senior' or 'skill: PyTorch'."
    )
    effect_pct: float = Field(
        description="Effect on the P50 estimate in percent, e.g. 31.0 for +31%."
    )


class Interpreted(BaseModel):
    """How the input was read."""

    role: str
    role_soc: str | None = None
    seniority: str | None = None
    skills: list[str] = Field(default_factory=list)
    country: str | None = None
    region: str | None = None
    city: str | None = None
    remote: bool = False
    years_experience: float | None = None


class ModelRef(BaseModel):
    """Which model answered."""

    name: str
    version: str | None = None
    run_id: str | None = None


class EstimateResponse(BaseModel):
    """A salary range in USD per year with its explanation."""

    p10: float
    p25: float | None = None
    p50: float
    p75: float | None = None
    p90: float
    currency: str = "USD"
    period: str = "year"
    interpreted: Interpreted
    drivers: list[Driver] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    model: ModelRef


class Health(BaseModel):
    """Liveness or readiness."""

    status: str
    model_version: str | None = None
