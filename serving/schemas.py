"""Request and response bodies of the API; a single estimate's request body is features.schema.JobRecord."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from features.schema import EXAMPLE_RECORD

EXAMPLE_MODEL: dict[str, Any] = {"name": "salary-estimator", "version": "3", "run_id": "5f0c1e2d9a8b4c7e"}
EXAMPLE_ESTIMATE: dict[str, Any] = {
    "p10": 148000.0,
    "p25": 171000.0,
    "p50": 196000.0,
    "p75": 226000.0,
    "p90": 259000.0,
    "currency": "USD",
    "period": "year",
    "interpreted": {
        "role": "machine_learning_engineer",
        "role_soc": "15-2051",
        "seniority": "senior",
        "skills": ["Python", "PyTorch", "Kubernetes"],
        "country": "US",
        "region": "CA",
        "city": "San Francisco",
        "remote": False,
        "years_experience": 6.0,
    },
    "drivers": [
        {"factor": "seniority: senior", "effect_pct": 31.0},
        {"factor": "location: San Francisco", "effect_pct": 24.0},
        {"factor": "skill: PyTorch", "effect_pct": 6.0},
    ],
    "warnings": [],
    "confidence": "high",
    "evidence": {
        "records": 1843,
        "group": {"role": "machine_learning_engineer", "seniority": "senior", "country_group": "US"},
        "matching_all_stated": 1843,
    },
    "model": EXAMPLE_MODEL,
}


class Driver(BaseModel):
    """One factor behind an estimate and its effect on P50 in percent."""

    model_config = ConfigDict(extra="ignore")

    factor: str = Field(description="What the user gave, e.g. 'seniority: senior' or 'skill: PyTorch'.")
    effect_pct: float = Field(description="Effect on the P50 estimate in percent, e.g. 31.0 for +31%.")


class Interpreted(BaseModel):
    """How the input was read, so a client can see and correct a misreading."""

    role: str = Field(description="Role family the title was read as; 'unknown' when none matched.")
    role_soc: str | None = Field(None, description="US SOC code of the role, when known.")
    seniority: str | None = None
    skills: list[str] = Field(default_factory=list, description="Canonical names of the skills found.")
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code.")
    region: str | None = None
    city: str | None = None
    remote: bool = False
    years_experience: float | None = None
    experience_level: str | None = None
    employment_type: str | None = None
    company_size: str | None = None
    company_employees: float | None = Field(None, description="Headcount as given, when given.")
    work_year: int | None = None


class EvidenceOut(BaseModel):
    """How many training records back an estimate, and which group they are."""

    records: int = Field(description="Training records in `group`.")
    group: dict[str, str] = Field(
        description="The finest group of what the record states (role, seniority, country_group) with "
        "enough records; seniority, then country, are dropped while it has fewer than 20. Empty: all records."
    )
    matching_all_stated: int = Field(description="Training records matching everything the record states.")


class ModelRef(BaseModel):
    """Which model answered."""

    name: str
    version: str | None = Field(None, description="Registry version; null for a bundle served from a path.")
    run_id: str | None = Field(None, description="MLflow run that trained the model.")


class EstimateResponse(BaseModel):
    """A salary range in USD per year with its explanation."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_ESTIMATE]})

    p10: float
    p25: float | None = None
    p50: float
    p75: float | None = None
    p90: float
    currency: str = "USD"
    period: str = "year"
    interpreted: Interpreted
    drivers: list[Driver] = Field(default_factory=list, description="What moved P50, largest effect first.")
    warnings: list[str] = Field(
        default_factory=list,
        description="What could not be read (unknown role, location, truncated text), a title or place "
        "read from the posting text when none was given, and thin evidence "
        "(a role family or country the training data never saw, a group under 20 records).",
    )
    confidence: str | None = Field(
        None,
        description="high, medium or low, from the evidence and the range's width (README, 'Confidence').",
    )
    evidence: EvidenceOut | None = None
    model: ModelRef


class FieldError(BaseModel):
    """One reason a request or batch item was refused, naming the field."""

    loc: list[str | int] = Field(description="Where the problem is, e.g. ['body', 'years_experience'].")
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """A 422: every field that was refused."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": [
                        {
                            "loc": ["body", "remote_ratio"],
                            "msg": "Input should be a finite number",
                            "type": "finite_number",
                        }
                    ]
                }
            ]
        }
    )

    detail: list[FieldError]


class Problem(BaseModel):
    """Any other refusal (401, 413, 503) with a message saying what to do."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "no model loaded yet; see /readyz"}]}
    )

    detail: str


class BatchRequest(BaseModel):
    """Many jobs at once; each item is a JobRecord, validated on its own so one bad item fails alone."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"records": [EXAMPLE_RECORD, {"title": "Data Analyst"}]}]},
    )

    records: list[Any] = Field(
        description="JobRecord objects; the largest batch accepted is the max_batch setting.",
        json_schema_extra={"items": {"$ref": "#/components/schemas/JobRecord"}},
    )


class BatchItem(BaseModel):
    """The outcome of one batch item: an estimate, or the errors that refused it."""

    index: int = Field(description="Position of the item in `records`.")
    estimate: EstimateResponse | None = None
    errors: list[FieldError] | None = Field(
        None, description="Why the item was refused; `loc` is relative to the item."
    )


class BatchResponse(BaseModel):
    """One entry per record, in request order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {"index": 0, "estimate": EXAMPLE_ESTIMATE, "errors": None},
                        {
                            "index": 1,
                            "estimate": None,
                            "errors": [
                                {
                                    "loc": ["years_experience"],
                                    "msg": "Input should be greater than or equal to 0",
                                    "type": "greater_than_equal",
                                }
                            ],
                        },
                    ],
                    "succeeded": 1,
                    "failed": 1,
                    "model": EXAMPLE_MODEL,
                }
            ]
        }
    )

    results: list[BatchItem]
    succeeded: int
    failed: int
    model: ModelRef


class TrainingSummary(BaseModel):
    """What the serving model was trained and evaluated on."""

    source: str | None = Field(None, description="Dataset adapter, e.g. 'aijobs'.")
    rows_train: int | None = Field(None, description="Rows the backtest model was fitted on.")
    rows_eval: int | None = Field(None, description="Rows the backtest was scored on.")
    rows_fitted: int | None = Field(None, description="Rows the serving model was fitted on (all, usually).")
    split: str | None = Field(None, description="How the evaluation set was held out.")
    eval_digest: str | None = Field(None, description="Digest of the frozen evaluation set.")
    metrics_from: str | None = Field(None, description="Which model and rows the metrics were measured on.")


class PopulationOut(BaseModel):
    """Who the training data covers: records per role family, seniority, country group and country."""

    rows: int
    role: dict[str, int] = Field(default_factory=dict)
    seniority: dict[str, int] = Field(default_factory=dict)
    country_group: dict[str, int] = Field(default_factory=dict)
    country: dict[str, int] = Field(default_factory=dict)


class ModelInfo(BaseModel):
    """The serving model: identity, training data and quality on held-out data."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **EXAMPLE_MODEL,
                    "uri": "models:/salary-estimator@champion",
                    "quantiles": ["p10", "p25", "p50", "p75", "p90"],
                    "training": {
                        "source": "aijobs",
                        "rows_train": 98000,
                        "rows_eval": 24500,
                        "split": "temporal: work_year 2025 held out",
                        "eval_digest": "9c1d0e4a",
                    },
                    "metrics": {"mae": 31000.0, "mdape": 0.19, "coverage_p10_p90": 0.79},
                }
            ]
        }
    )

    name: str
    version: str | None = None
    run_id: str | None = None
    uri: str = Field(description="What the service was told to serve.")
    quantiles: list[str]
    training: TrainingSummary
    metrics: dict[str, float] = Field(default_factory=dict, description="Evaluation metrics of the model.")
    population: PopulationOut | None = Field(None, description="None for models trained before it was kept.")


class Health(BaseModel):
    """Liveness or readiness."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ready", "model_version": "3"}]})

    status: str
    model_version: str | None = None
