"""The stack's floor: FastAPI, pydantic and uvicorn answering a fixed estimate, with no model behind it.

`benchmarks/serving.py` serves it beside this API and `mlflow models serve` so that the ratio any model
code could reach on the standard stack is measured in the same run: the same request body (JobRecord,
strict) is parsed and a response of the same shape is written, but nothing is estimated.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from features.schema import JobRecord


class FixedEstimate(BaseModel):
    """The fields an estimate's answer always carries, with fixed values."""

    p10: float
    p25: float
    p50: float
    p75: float
    p90: float
    currency: str
    period: str
    confidence: str


ANSWER = FixedEstimate(
    p10=1.0, p25=2.0, p50=3.0, p75=4.0, p90=5.0, currency="USD", period="year", confidence="low"
)


def create_app() -> FastAPI:
    """An app with one route, for `uvicorn --factory`."""
    app = FastAPI()

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/v1/estimates", response_model=FixedEstimate)
    async def estimate(record: JobRecord) -> FixedEstimate:
        return ANSWER

    return app
