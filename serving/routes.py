"""HTTP routes: estimates (one and batch) and the model under /v1; health, readiness and metrics open."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from features.population import Population
from features.schema import EXAMPLE_RECORD, JobRecord
from models.bundle import Estimate
from serving.errors import field_errors, too_many
from serving.loader import LoadedModel
from serving.metrics import Metrics
from serving.schemas import (
    BatchItem,
    BatchRequest,
    BatchResponse,
    EstimateResponse,
    FieldError,
    Health,
    Interpreted,
    ModelInfo,
    ModelRef,
    PopulationOut,
    Problem,
    TrainingSummary,
    ValidationProblem,
)
from serving.settings import Settings
from serving.state import ModelHolder

REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "API keys are configured and X-API-Key is missing or wrong."},
    413: {"model": Problem, "description": "The request body is larger than max_body_bytes."},
    422: {"model": ValidationProblem, "description": "Refused input; `loc` names the field."},
    503: {"model": Problem, "description": "No model loaded yet; see /readyz."},
}

RECORD_EXAMPLES: dict[str, Any] = {
    "structured": {"summary": "Structured fields", "value": EXAMPLE_RECORD},
    "posting": {
        "summary": "A posting's raw text",
        "value": {
            "title": "Data Engineer",
            "description": "Remote (US). 3+ years building pipelines with Spark, Airflow and Python.",
        },
    },
}

_BOOLEAN = TypeAdapter(bool)

api = APIRouter(prefix="/v1", responses=REFUSALS)
ops = APIRouter(tags=["operations"])


async def get_holder(request: Request) -> ModelHolder:
    """The app's model holder, set up by the factory."""
    holder: ModelHolder = request.app.state.holder
    return holder


async def get_model(request: Request) -> LoadedModel:
    """The serving model as a dependency (see current_model)."""
    return current_model(request)


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_metrics(request: Request) -> Metrics:
    """The app's own metrics registry."""
    metrics: Metrics = request.app.state.metrics
    return metrics


ModelDep = Annotated[LoadedModel, Depends(get_model)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def to_response(estimate: Estimate, record: JobRecord, ref: ModelRef) -> EstimateResponse:
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
        confidence=estimate.confidence,
        evidence=estimate.evidence,
        model=ref,
    )


def model_ref(model: LoadedModel) -> ModelRef:
    """The identity every answer carries."""
    return ModelRef(name=model.name, version=model.version, run_id=model.run_id)


def estimate_all(
    model: LoadedModel, records: Sequence[JobRecord], explain: bool
) -> list[Estimate | ValueError]:
    """One vectorised prediction; if the model refuses the batch, find the records it refuses one by one."""
    try:
        return list(model.bundle.estimate_many(records, num_threads=1, explain=explain))
    except ValueError:
        out: list[Estimate | ValueError] = []
        for record in records:
            try:
                out.append(model.bundle.estimate(record, num_threads=1, explain=explain))
            except ValueError as exc:
                out.append(exc)
        return out


def parse_record(body: bytes) -> JobRecord:
    """The body as a JobRecord, parsed and validated in one pass; a refusal is FastAPI's 422 with `body`."""
    try:
        return JobRecord.model_validate_json(body)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def query_flag(request: Request, name: str, default: bool) -> bool:
    """A boolean query parameter read as FastAPI would ('false', '0', 'no'...), 422 naming it if not one."""
    # Read as Starlette's QueryParams would (latin-1, blanks kept, last value wins) without building
    # one, which cost about 3% of a request's CPU.
    query: bytes = request.scope["query_string"]
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True) if query else []
    values = [value for key, value in pairs if key == name]
    if not values:
        return default
    raw = values[-1]
    try:
        return _BOOLEAN.validate_python(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("query", name)} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def inline(record: JobRecord, explain: bool, max_text_chars: int) -> bool:
    """Whether to answer on the loop: no drivers and short text cost about a thread hop (RESULTS.md)."""
    return not explain and len(record.description or "") <= max_text_chars


def current_model(request: Request) -> LoadedModel:
    """The serving model, taken once so a reload mid-request cannot mix two models; 503 while none."""
    model: LoadedModel | None = request.app.state.holder.current
    if model is None:
        raise HTTPException(status_code=503, detail="no model loaded yet; see /readyz")
    return model


@api.post(
    "/estimates",
    response_model=EstimateResponse,
    tags=["estimates"],
    summary="Salary range for one job",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/JobRecord"},
                    "examples": RECORD_EXAMPLES,
                }
            },
        },
        "parameters": [
            {
                "name": "explain",
                "in": "query",
                "required": False,
                "schema": {"type": "boolean", "default": True},
                "description": "Compute `drivers`; false skips them (most of the CPU).",
            }
        ],
    },
)
async def create_estimate(request: Request) -> Response:
    """P10-P90 in USD per year, what drove P50, how the input was read and what could not be.

    The body is read and validated by pydantic-core straight from bytes, and the answer is serialised
    the same way: FastAPI's generic body and response handling cost more than the estimate itself.
    """
    explain = query_flag(request, "explain", default=True)
    record = parse_record(await request.body())
    model = current_model(request)
    metrics: Metrics = request.app.state.metrics

    def answer() -> bytes:
        try:
            estimate = model.bundle.estimate(record, num_threads=1, explain=explain)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        metrics.count_estimates(model.version or "local")
        return to_response(estimate, record, model_ref(model)).model_dump_json().encode()

    settings: Settings = request.app.state.settings
    if inline(record, explain, settings.inline_text_chars):
        return Response(answer(), media_type="application/json")
    return Response(await run_in_threadpool(answer), media_type="application/json")


@api.post(
    "/estimates/batch",
    response_model=BatchResponse,
    tags=["estimates"],
    summary="Salary ranges for many jobs",
)
def create_estimates(
    body: BatchRequest,
    model: ModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    explain: Annotated[
        bool,
        Query(
            description="Compute `drivers` for every record. Off by default: drivers cost several times "
            "the estimate itself, and a big explained batch would hold up every other request."
        ),
    ] = False,
) -> BatchResponse:
    """One entry per record in order; a refused record gets its own errors and does not fail the batch."""
    if len(body.records) > settings.max_batch:
        raise too_many("records", settings.max_batch, len(body.records))
    results: list[BatchItem | None] = [None] * len(body.records)
    good: list[tuple[int, JobRecord]] = []
    for index, raw in enumerate(body.records):
        try:
            good.append((index, JobRecord.model_validate(raw)))
        except ValidationError as exc:
            results[index] = BatchItem(index=index, errors=field_errors(exc.errors()))
    ref = model_ref(model)
    answers = estimate_all(model, [record for _, record in good], explain)
    for (index, record), answer in zip(good, answers, strict=True):
        if isinstance(answer, ValueError):
            error = FieldError(loc=[], msg=str(answer), type="value_error")
            results[index] = BatchItem(index=index, errors=[error])
        else:
            results[index] = BatchItem(index=index, estimate=to_response(answer, record, ref))
    done = [item for item in results if item is not None]
    succeeded = sum(item.estimate is not None for item in done)
    if succeeded:
        metrics.count_estimates(model.version or "local", succeeded)
    return BatchResponse(results=done, succeeded=succeeded, failed=len(done) - succeeded, model=ref)


@api.get("/model", response_model=ModelInfo, tags=["model"], summary="The serving model")
def get_model_info(model: ModelDep) -> ModelInfo:
    """Version, training data and quality metrics of the model answering right now."""
    meta = model.bundle.metadata
    return ModelInfo(
        name=model.name,
        version=model.version,
        run_id=model.run_id,
        uri=model.uri,
        quantiles=model.bundle.quantile_names,
        training=TrainingSummary.model_validate({key: meta.get(key) for key in TrainingSummary.model_fields}),
        metrics={k: float(v) for k, v in (meta.get("metrics") or {}).items()},
        population=population_out(model.bundle.population),
    )


def population_out(population: Population | None) -> PopulationOut | None:
    """The training population's margins, as `/v1/model` shows them."""
    if population is None:
        return None
    return PopulationOut(rows=population.rows, **population.margins())


@ops.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is alive (says nothing about the model: restart only on this failing)."""
    return Health(status="ok")


@ops.get("/readyz", response_model=Health, responses={503: {"model": Problem}})
async def readyz(holder: HolderDep) -> Health:
    """A model is loaded and estimates can be served (route traffic only on this passing)."""
    model = holder.current
    if model is None:
        raise HTTPException(status_code=503, detail="no model loaded")
    return Health(status="ready", model_version=model.version)


@ops.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"example": "salary_http_requests_total{...} 12.0"}}}},
)
async def prometheus_metrics(metrics: MetricsDep) -> Response:
    """Prometheus metrics of this process: requests, latency, estimates per model version, reloads."""
    return Response(metrics.render(), media_type=metrics.content_type)
