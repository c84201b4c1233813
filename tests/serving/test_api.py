"""The real app through its lifespan: estimates, batches, the model, limits, keys, CORS, metrics, logs."""

from __future__ import annotations

import gzip
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.settings import Settings

ClientFactory = Callable[..., TestClient]
JSON = {"content-type": "application/json"}
SENIOR = {
    "title": "Senior Data Scientist",
    "skills": ["python", "k8s"],
    "location": "NYC",
    "years_experience": 5,
}


def test_estimate_has_range_interpretation_and_model(client: TestClient) -> None:
    response = client.post("/v1/estimates", json=SENIOR)
    assert response.status_code == 200
    data = response.json()
    assert data["p10"] <= data["p25"] <= data["p50"] <= data["p75"] <= data["p90"]
    assert (data["currency"], data["period"]) == ("USD", "year")
    assert data["interpreted"]["seniority"] == "senior"
    assert data["interpreted"]["region"] == "NY"
    assert "Kubernetes" in data["interpreted"]["skills"]
    assert data["model"]["name"]
    assert all(set(d) == {"factor", "effect_pct"} for d in data["drivers"])


def test_headcount_is_read_and_shown(client: TestClient) -> None:
    answer = client.post("/v1/estimates", json={**SENIOR, "company_employees": 20_000}).json()
    assert answer["interpreted"]["company_employees"] == 20_000
    assert answer["interpreted"]["company_size"] == "L"  # derived: no company_size was given


def test_posting_text_alone_is_read(client: TestClient) -> None:
    text = "Senior Data Engineer, Austin, TX. You have 7+ years of experience with Python and Spark."
    response = client.post("/v1/estimates", json={"description": text})
    assert response.status_code == 200
    answer = response.json()
    assert "Python" in answer["interpreted"]["skills"]
    assert (answer["interpreted"]["role"], answer["interpreted"]["city"]) == ("data_engineer", "Austin")
    assert "title read from the posting text: 'Senior Data Engineer'" in answer["warnings"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"years_experience": -2}, "years_experience"),
        ({"remote_ratio": 101}, "remote_ratio"),
        ({"remote_ratio": -0.5}, "remote_ratio"),
        ({"skills": "python"}, "skills"),
        ({"work_year": "soon"}, "work_year"),
        ({"title": "x" * 301}, "title"),
        ({"colour": "red"}, "colour"),
        ({"company_employees": 0}, "company_employees"),
        ({"company_employees": 2.5}, "company_employees"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client: TestClient, body: dict[str, object], field: str) -> None:
    response = client.post("/v1/estimates", json=body)
    assert response.status_code == 422
    assert field in response.json()["detail"][0]["loc"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"years_experience": NaN}', "years_experience"),
        ('{"remote_ratio": Infinity}', "remote_ratio"),
        ('{"years_experience": -Infinity}', "years_experience"),
        ('{"remote_ratio": 1e999}', "remote_ratio"),
        ('{"work_year": NaN}', "work_year"),
    ],
)
def test_non_finite_numbers_are_a_422_not_a_500(client: TestClient, raw: str, field: str) -> None:
    response = client.post("/v1/estimates", content=raw, headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


def test_each_unknown_code_is_warned_about_once(client: TestClient) -> None:
    body = {"title": "Data Engineer", "experience_level": "guru", "company_size": "huge"}
    response = client.post("/v1/estimates", json=body)
    assert response.status_code == 200
    warnings = response.json()["warnings"]
    assert [w for w in warnings if "experience_level" in w] == [
        "experience_level 'guru' not recognised; expected one of entry, mid, senior, executive"
    ]
    assert [w for w in warnings if "company_size" in w] == [
        "company_size 'HUGE' not recognised; expected one of S, M, L"
    ]


def test_batch_answers_good_items_and_names_bad_ones(client: TestClient) -> None:
    records: list[Any] = [SENIOR, {"years_experience": -1}, "not a record", {"title": "Data Analyst"}]
    response = client.post("/v1/estimates/batch", json={"records": records})
    assert response.status_code == 200
    data = response.json()
    assert (data["succeeded"], data["failed"]) == (2, 2)
    assert [item["index"] for item in data["results"]] == [0, 1, 2, 3]
    assert data["results"][1]["estimate"] is None
    assert data["results"][1]["errors"][0]["loc"] == ["years_experience"]
    assert data["results"][2]["errors"][0]["type"] == "model_type"
    single = client.post("/v1/estimates", json=SENIOR).json()
    assert data["results"][0]["estimate"]["p50"] == pytest.approx(single["p50"])
    assert data["results"][0]["estimate"]["interpreted"] == single["interpreted"]


def test_drivers_are_on_by_default_for_one_estimate_and_on_request_for_a_batch(client: TestClient) -> None:
    assert client.post("/v1/estimates", json=SENIOR).json()["drivers"]
    assert client.post("/v1/estimates?explain=false", json=SENIOR).json()["drivers"] == []
    batch = {"records": [SENIOR]}
    assert client.post("/v1/estimates/batch", json=batch).json()["results"][0]["estimate"]["drivers"] == []
    explained = client.post("/v1/estimates/batch?explain=true", json=batch).json()
    assert (
        explained["results"][0]["estimate"]["drivers"]
        == client.post("/v1/estimates", json=SENIOR).json()["drivers"]
    )


def test_batch_item_with_nan_is_an_item_error(client: TestClient) -> None:
    raw = '{"records": [{"title": "Data Analyst"}, {"remote_ratio": NaN}]}'
    response = client.post("/v1/estimates/batch", content=raw, headers=JSON)
    assert response.status_code == 200
    assert response.json()["results"][1]["errors"][0]["loc"] == ["remote_ratio"]


def test_batch_over_the_limit_is_refused_naming_records(make_client: ClientFactory) -> None:
    client = make_client(max_batch=3)
    response = client.post("/v1/estimates/batch", json={"records": [{"title": "Analyst"}] * 4})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "records"]
    assert "at most 3" in response.json()["detail"][0]["msg"]
    assert client.post("/v1/estimates/batch", json={"records": [{"title": "Analyst"}] * 3}).status_code == 200


def test_empty_batch_is_an_empty_answer(client: TestClient) -> None:
    data = client.post("/v1/estimates/batch", json={"records": []}).json()
    assert (data["results"], data["succeeded"], data["failed"]) == ([], 0, 0)


def test_declared_body_over_the_limit_is_a_413(make_client: ClientFactory) -> None:
    client = make_client(max_body_bytes=2048)
    response = client.post("/v1/estimates", json={"description": "word " * 1000})
    assert response.status_code == 413
    assert "2048 bytes" in response.json()["detail"]


def test_streamed_body_over_the_limit_is_a_413(make_client: ClientFactory) -> None:
    client = make_client(max_body_bytes=2048)
    chunks = iter([b'{"description": "', b"x" * 1500, b"y" * 1500, b'"}'])
    response = client.post("/v1/estimates", content=chunks, headers=JSON)  # chunked: no Content-Length
    assert response.status_code == 413


def test_model_endpoint_describes_the_serving_model(client: TestClient) -> None:
    data = client.get("/v1/model").json()
    assert data["quantiles"] == ["p10", "p25", "p50", "p75", "p90"]
    assert set(data["training"]) == {
        "source",
        "rows_train",
        "rows_eval",
        "rows_fitted",
        "split",
        "eval_digest",
        "metrics_from",
    }
    assert isinstance(data["metrics"], dict)
    population = data["population"]
    assert population["rows"] > 0 and sum(population["country_group"].values()) == population["rows"]
    assert population["role"] and population["country"] and population["seniority"]


def test_every_estimate_carries_its_evidence_and_confidence(client: TestClient) -> None:
    seen = client.post("/v1/estimates", json={"title": "Data Engineer", "location": "Chicago, IL"}).json()
    assert seen["confidence"] in ("high", "medium") and seen["evidence"]["records"] >= 20
    unseen = client.post(
        "/v1/estimates", json={"title": "Registered Nurse", "location": "Chicago, IL"}
    ).json()
    assert unseen["confidence"] == "low" and unseen["evidence"]["matching_all_stated"] == 0
    assert any(w.startswith("registered_nurse: no comparable records") for w in unseen["warnings"])


def test_api_keys_guard_v1_but_not_health(make_client: ClientFactory) -> None:
    client = make_client(api_keys=["k1", "k2"])
    assert client.post("/v1/estimates", json=SENIOR).status_code == 401
    assert client.post("/v1/estimates", json=SENIOR, headers={"X-API-Key": "nope"}).status_code == 401
    assert client.get("/v1/model").status_code == 401
    assert client.post("/v1/estimates", json=SENIOR, headers={"X-API-Key": "k2"}).status_code == 200
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path).status_code == 200


def test_api_keys_are_documented_only_when_configured(make_client: ClientFactory) -> None:
    guarded = make_client(api_keys=["k1"]).get("/openapi.json").json()
    scheme = guarded["components"]["securitySchemes"]["APIKeyHeader"]
    assert (scheme["in"], scheme["name"]) == ("header", "X-API-Key")
    assert guarded["paths"]["/v1/estimates"]["post"]["security"] == [{"APIKeyHeader": []}]
    assert "security" not in guarded["paths"]["/healthz"]["get"]
    open_spec = make_client().get("/openapi.json").json()
    assert "security" not in open_spec["paths"]["/v1/estimates"]["post"]


def test_the_batch_limit_is_published(make_client: ClientFactory) -> None:
    spec = make_client(max_batch=7).get("/openapi.json").json()
    assert spec["components"]["schemas"]["BatchRequest"]["properties"]["records"]["maxItems"] == 7


def test_estimate_request_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/estimates"]["post"]
    body = operation["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/JobRecord"}
    assert "years_experience" in spec["components"]["schemas"]["JobRecord"]["properties"]
    assert [p["name"] for p in operation["parameters"]] == ["explain"]


@pytest.mark.parametrize(
    ("content", "query", "loc"),
    [
        (b"{not json", "", ["body"]),
        (b"", "", ["body"]),
        (b"[1, 2]", "", ["body"]),
        (b'{"title": "Data Scientist"}', "?explain=maybe", ["query", "explain"]),
    ],
)
def test_unreadable_requests_are_422s(client: TestClient, content: bytes, query: str, loc: list[str]) -> None:
    response = client.post(f"/v1/estimates{query}", content=content, headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][: len(loc)] == loc


def _unreadable(kind: str, batch: bool) -> bytes:
    """A body json cannot read, of one kind, for the single route or wrapped as a batch."""
    record = b'{"title": "Data Analyst", "years_experience": 3}'
    if kind == "gzip":
        return gzip.compress(b'{"records": [' + record + b"]}" if batch else record)
    inner = {
        "invalid UTF-8": b'{"title": "Data \xff\xfe Analyst"}',
        "deep nesting": b'{"skills": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "integer of 5,000 digits": b'{"years_experience": ' + b"9" * 5000 + b"}",
    }[kind]
    return b'{"records": [' + inner + b"]}" if batch else inner


@pytest.mark.parametrize("kind", ["invalid UTF-8", "deep nesting", "integer of 5,000 digits", "gzip"])
def test_unreadable_bodies_are_one_422_naming_the_body_on_both_routes(client: TestClient, kind: str) -> None:
    single = client.post("/v1/estimates", content=_unreadable(kind, batch=False), headers=JSON)
    batch = client.post("/v1/estimates/batch", content=_unreadable(kind, batch=True), headers=JSON)
    assert (single.status_code, batch.status_code) == (422, 422)
    for answer in (single.json()["detail"][0], batch.json()["detail"][0]):
        assert (answer["loc"][0], answer["type"]) == ("body", "json_invalid")


def test_unreadable_bodies_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/estimates", "/v1/estimates/batch"):
        responses = paths[path]["post"]["responses"]
        assert "400" not in responses
        assert "not UTF-8" in responses["422"]["description"]
        assert "Content-Type: application/json" in responses["422"]["description"]


def test_numbers_must_be_json_numbers_on_both_routes(client: TestClient) -> None:
    wrong: list[tuple[str, object]] = [
        ("years_experience", True),
        ("remote_ratio", False),
        ("company_employees", True),
        ("years_experience", "5"),
        ("work_year", "2024"),
    ]
    for field, value in wrong:
        single = client.post("/v1/estimates", json={field: value})
        assert single.status_code == 422, (field, value)
        assert single.json()["detail"][0]["loc"] == ["body", field]
        batch = client.post("/v1/estimates/batch", json={"records": [{field: value}]}).json()
        assert batch["results"][0]["errors"][0]["loc"] == [field]
    whole = client.post("/v1/estimates", json={**SENIOR, "work_year": 2024.0, "company_employees": 300.0})
    exact = client.post("/v1/estimates", json={**SENIOR, "work_year": 2024, "company_employees": 300})
    assert whole.status_code == 200 and whole.content == exact.content


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_sent_as_json_is_refused_alike_on_both_routes(
    client: TestClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    single = client.post("/v1/estimates", content=json.dumps(SENIOR), headers=headers)
    batch = client.post("/v1/estimates/batch", content=json.dumps({"records": [SENIOR]}), headers=headers)
    assert (single.status_code, batch.status_code) == (422, 422)
    assert single.json()["detail"][0]["loc"] == batch.json()["detail"][0]["loc"] == ["body"]


def test_batches_asking_for_drivers_are_capped(make_client: ClientFactory) -> None:
    client = make_client(max_explain_batch=2)
    three = {"records": [SENIOR] * 3}
    refused = client.post("/v1/estimates/batch?explain=true", json=three)
    assert refused.status_code == 422
    detail = refused.json()["detail"][0]
    assert detail["loc"] == ["body", "records"]
    assert "explain=true" in detail["msg"] and "at most 2" in detail["msg"]
    assert client.post("/v1/estimates/batch", json=three).status_code == 200
    assert client.post("/v1/estimates/batch?explain=true", json={"records": [SENIOR] * 2}).status_code == 200


@pytest.mark.parametrize(
    ("query", "drivers"),
    [("", True), ("?explain=0", False), ("?explain=true&explain=no", False), ("?other=1&explain=on", True)],
)
def test_explain_is_read_as_a_query_boolean(client: TestClient, query: str, drivers: bool) -> None:
    answer = client.post(f"/v1/estimates{query}", json=SENIOR)
    assert answer.status_code == 200
    assert bool(answer.json()["drivers"]) is drivers


def test_a_blank_explain_is_a_422_naming_it(client: TestClient) -> None:
    answer = client.post("/v1/estimates?explain=", json=SENIOR)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "explain"]


def test_other_methods_and_paths_are_refused_or_redirected(client: TestClient) -> None:
    assert client.get("/v1/estimates").status_code == 405
    assert client.post("/v1/estimates/", json=SENIOR, follow_redirects=False).status_code == 307


def test_served_under_a_root_path_and_counted_by_route(bundle_dir: Path) -> None:
    app = create_app(Settings(model_uri=str(bundle_dir), reload_interval_s=0))
    with TestClient(app, root_path="/salary") as client:
        assert client.post("/salary/v1/estimates", json=SENIOR).status_code == 200
        text = client.get("/salary/metrics").text
    assert 'salary_http_requests_total{method="POST",route="/v1/estimates",status="200"} 1.0' in text


def test_explain_false_skips_drivers(client: TestClient) -> None:
    explained = client.post("/v1/estimates", json=SENIOR).json()
    plain = client.post("/v1/estimates?explain=false", json=SENIOR).json()
    assert explained["drivers"] and not plain["drivers"]
    assert plain["p50"] == pytest.approx(explained["p50"])


def test_estimates_on_the_threadpool_equal_inline_ones(make_client: ClientFactory) -> None:
    posting = {"title": "Data Engineer", "description": "Spark and Airflow. " * 200}  # over the limit
    inline, threaded = make_client(), make_client(inline_text_chars=-1)
    for body in (SENIOR, posting):
        a = inline.post("/v1/estimates?explain=false", json=body).json()
        b = threaded.post("/v1/estimates?explain=false", json=body).json()
        assert a == b


def test_explained_estimates_run_on_the_event_loop_when_drivers_are_cheap(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client()
    bundle = client.app.state.holder.current.bundle  # type: ignore[attr-defined]
    estimate, threads = bundle.estimate, []

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return estimate(*args, **kwargs)

    monkeypatch.setattr(bundle, "estimate", spy)
    for query in ("?explain=false", "", "?explain=true"):
        assert client.post(f"/v1/estimates{query}", json=SENIOR).json()["p50"]
    assert bundle.cheap_drivers
    assert len(set(threads)) == 1  # drivers by path attribution cost about a thread hop: no hop
    monkeypatch.setattr(type(bundle), "cheap_drivers", property(lambda self: False))  # TreeSHAP's cost
    client.post("/v1/estimates", json=SENIOR)
    assert threads[-1] != threads[0]


def test_cors_allows_only_configured_origins(make_client: ClientFactory) -> None:
    client = make_client(cors_origins=["https://jobs.example"])
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = client.options("/v1/estimates", headers={"Origin": "https://jobs.example", **preflight})
    assert allowed.headers["access-control-allow-origin"] == "https://jobs.example"
    refused = client.options("/v1/estimates", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers


def test_metrics_count_requests_and_estimates_per_version(client: TestClient) -> None:
    client.post("/v1/estimates", json=SENIOR)
    client.post("/v1/estimates/batch", json={"records": [SENIOR, SENIOR, {"years_experience": -1}]})
    client.post("/v1/estimates", json={"years_experience": -1})
    text = client.get("/metrics").text
    assert 'salary_http_requests_total{method="POST",route="/v1/estimates",status="200"} 1.0' in text
    assert 'salary_http_requests_total{method="POST",route="/v1/estimates",status="422"} 1.0' in text
    assert 'salary_estimates_total{model_version="local"} 3.0' in text
    assert 'salary_http_request_duration_seconds_count{route="/v1/estimates/batch"} 1.0' in text
    assert "salary_model_reloads_total 1.0" in text
    assert "salary_model_reload_failures_total 0.0" in text


def test_odd_methods_share_one_metrics_label(client: TestClient) -> None:
    for method in ("BREW", "PROPFIND", "X-SCAN"):
        client.request(method, "/v1/estimates")
    text = client.get("/metrics").text
    assert 'salary_http_requests_total{method="other",route="/v1/estimates",status="405"} 3.0' in text
    assert "BREW" not in text and "PROPFIND" not in text


def test_request_bodies_are_never_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    marker = "Zanzibar-7f3e-secret"
    with caplog.at_level(logging.DEBUG):
        client.post("/v1/estimates", json={"title": marker})
        client.post("/v1/estimates", json={"title": marker, "years_experience": -1})
        client.post("/v1/estimates/batch", json={"records": [{"title": marker}, {"city": 5}]})
    assert caplog.records
    assert marker not in caplog.text


def test_every_operation_documents_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def examples_of(media: dict[str, Any]) -> Any:
        ref = media.get("schema", {}).get("$ref", "")
        return (
            media.get("examples")
            or media.get("example")
            or schemas.get(ref.split("/")[-1], {}).get("examples")
        )

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert examples_of(operation["requestBody"]["content"]["application/json"]), (method, path)
            ok = operation["responses"]["200"]["content"]
            assert any(examples_of(media) for media in ok.values()), (method, path)


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/readyz").json()["status"] == "ready"


def test_app_without_a_model_is_alive_but_not_ready(tmp_path: Path) -> None:
    settings = Settings(model_uri=str(tmp_path / "missing"), reload_interval_s=0)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        assert client.post("/v1/estimates", json={"title": "x"}).status_code == 503
        assert "salary_model_reload_failures_total 1.0" in client.get("/metrics").text


@pytest.fixture()
def broken_bundle(tmp_path: Path) -> Iterator[Path]:
    """A folder that looks like a bundle but holds something else."""
    import joblib

    joblib.dump({"not": "a model"}, tmp_path / "bundle.joblib")
    yield tmp_path


def test_a_bundle_that_is_not_a_model_is_never_served(broken_bundle: Path) -> None:
    with TestClient(create_app(Settings(model_uri=str(broken_bundle), reload_interval_s=0))) as client:
        assert client.get("/readyz").status_code == 503


def test_settings_come_from_the_environment_and_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALARY_API_KEYS", '["a", "b"]')
    monkeypatch.setenv("SALARY_MAX_BATCH", "50")
    settings = Settings()
    assert (settings.api_keys, settings.max_batch) == (["a", "b"], 50)
    monkeypatch.setenv("SALARY_MAX_BATCH", "0")
    with pytest.raises(ValueError, match="max_batch"):
        Settings()


def test_request_path_calls_neither_pandas_nor_mlflow(client: TestClient) -> None:
    called: list[str] = []

    def record_call(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            called.append(frame.f_code.co_filename)

    threading.setprofile(record_call)  # the endpoint runs in worker threads started from here on
    sys.setprofile(record_call)
    try:
        assert client.post("/v1/estimates", json=SENIOR).status_code == 200
        assert client.post("/v1/estimates/batch", json={"records": [SENIOR, SENIOR]}).status_code == 200
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    assert any("lightgbm" in name for name in called)
    assert not [name for name in called if "/pandas/" in name or "/mlflow/" in name]
