"""HTTP routes: estimates, health and readiness."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from features.schema import JobRecord
from models.bundle import Estimate
from serving.loader import LoadedModel
from serving.schemas import EstimateResponse, Health, Interpreted, ModelRef
from serving.state import ModelHolder

router = APIRouter()


def get_holder(request: Request) -> ModelHolder:
    """The app's model holder, set up by the lifespan."""
    holder: ModelHolder = request.app.state.holder
    return holder


def get_model(holder: Annotated[ModelHolder, Depends(get_holder)]) -> LoadedModel:
    """The serving model, or a 503 while none is loaded."""
    model = holder.current
    if model is None:
        raise HTTPException(status_code=503, detail="no model loaded yet; see /readyz")
    return model


ModelDep = Annotated[LoadedModel, Depends(get_model)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]


def to_response(estimate: Estimate, model: LoadedModel) -> EstimateResponse:
    """Shape a bundle Estimate as the public response."""
    q = estimate.quantiles
    return EstimateResponse(
        p10=q["p10"],
        p25=q.get("p25"),
        p50=q["p50"],
        p75=q.get("p75"),
        p90=q["p90"],
        interpreted=Interpreted.model_validate(estimate.interpreted.public()),
        drivers=estimate.drivers,
        warnings=estimate.warnings,
        model=ModelRef(name=model.name, version=model.version, run_id=model.run_id),
    )


@router.post("/v1/estimates", response_model=EstimateResponse, tags=["estimates"])
def create_estimate(record: JobRecord, model: ModelDep) -> EstimateResponse:
    """Estimate the salary range of one job."""
    estimate = model.bundle.estimate(record)
    estimate.warnings.extend(record.unknown_codes())
    return to_response(estimate, model)


@router.get("/healthz", response_model=Health, tags=["health"])
def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, tags=["health"], responses={503: {"model": Health}})
def readyz(holder: HolderDep) -> Health:
    """A model is loaded and estimates can be served."""
    model = holder.current
    if model is None:
        raise HTTPException(status_code=503, detail="no model loaded")
    return Health(status="ready", model_version=model.version)
