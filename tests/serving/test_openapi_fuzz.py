"""Schemathesis against the published OpenAPI schema: generated requests never get a 5xx."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from serving.app import create_app
from serving.settings import Settings

# Driven through hypothesis directly: schemathesis' lazy pytest fixture relies on a pytest internal
# (Node._nodeid) that pytest 9 removed.
KEY = "fuzz-key"
OPERATIONS = [
    "POST /v1/estimates",
    "POST /v1/estimates/batch",
    "GET /v1/model",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
]


@pytest.fixture(scope="module")
def api_schema(bundle_dir: Path) -> schemathesis.BaseSchema:
    """The real app serving the demo bundle with a key set, so schemathesis also checks refused keys."""
    settings = Settings(model_uri=str(bundle_dir), reload_interval_s=0, max_batch=20, api_keys=[KEY])
    app = create_app(settings)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_every_operation_is_fuzzed(api_schema: schemathesis.BaseSchema) -> None:
    found = {f"{op.ok().method.upper()} {op.ok().path}" for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize("name", OPERATIONS)
def test_generated_requests_get_no_server_error(api_schema: schemathesis.BaseSchema, name: str) -> None:
    method, path = name.split()
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"X-API-Key": KEY})

    check()
