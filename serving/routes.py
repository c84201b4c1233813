"""HTTP routes: estimates (one and batch) and the model under /v1; health, readiness and metrics open."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from features.population import Population
from features.schema import EXAMPLE_RECORD, JobRecord
from models.bundle import Estimate
from serving.bodies import JSONBodyRoute
from serving.deps import HolderDep, MetricsDep, ModelDep, SettingsDep
from serving.errors import field_errors, too_many
from serving.loader import LoadedModel
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

REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "API keys are configured and X-API-Key is missing or wrong."},
    413: {"model": Problem, "description": "The request body is larger than max_body_bytes."},
    422: {
        "model": ValidationProblem,
        "description": "Refused input; `loc` names the field, or `['body', ...]` when the body itself is "
        "unreadable: not JSON, not UTF-8 (e.g. gzip), nested too deeply, an integer of more than 4,300 "
        "digits, or sent without `Content-Type: application/json`. Types are strict: a boolean or a "
        "string is never a number (integers may be written 2024.0).",
    },
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

api = APIRouter(prefix="/v1", responses=REFUSALS, route_class=JSONBodyRoute)
ops = APIRouter(tags=["operations"])

RecordBody = Annotated[JobRecord, Body(openapi_examples=RECORD_EXAMPLES)]
ExplainOne = Annotated[bool, Query(description="Compute `drivers`; false skips them.")]
ExplainBatch = Annotated[
    bool,
    Query(
        description="Compute `drivers` for every record, for at most max_explain_batch records. Off by "
        "default; a model whose drivers need TreeSHAP (docs/model.md) spends milliseconds per record on "
        "them."
    ),
]


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


def inline(record: JobRecord, explain: bool, max_text_chars: int, cheap_drivers: bool) -> bool:
    """Whether to answer on the loop: short text and no drivers, or cheap ones, cost about a thread hop."""
    return (not explain or cheap_drivers) and len(record.description or "") <= max_text_chars


@api.post(
    "/estimates", response_model=EstimateResponse, tags=["estimates"], summary="Salary range for one job"
)
async def create_estimate(
    record: RecordBody,
    model: ModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    explain: ExplainOne = True,
) -> EstimateResponse:
    """P10-P90 in USD per year, what drove P50, how the input was read and what could not be."""

    def answer() -> EstimateResponse:
        try:
            estimate = model.bundle.estimate(record, num_threads=1, explain=explain)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        metrics.count_estimates(model.version or "local")
        return to_response(estimate, record, model_ref(model))

    if inline(record, explain, settings.inline_text_chars, model.bundle.cheap_drivers):
        return answer()
    return await run_in_threadpool(answer)


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
    explain: ExplainBatch = False,
) -> BatchResponse:
    """One entry per record in order; a refused record gets its own errors and does not fail the batch."""
    if len(body.records) > settings.max_batch:
        raise too_many("records", settings.max_batch, len(body.records))
    if explain and len(body.records) > settings.max_explain_batch:
        raise too_many("records", settings.max_explain_batch, len(body.records), "with explain=true, ")
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
