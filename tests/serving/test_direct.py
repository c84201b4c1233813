"""The single-estimate shortcut answers exactly as FastAPI's router would, and only for its own route."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.direct import DirectRoute
from serving.settings import Settings

SENIOR = {"title": "Senior Data Scientist", "skills": ["python"], "location": "NYC", "years_experience": 5}
REQUESTS: list[tuple[str, bytes]] = [
    ("/v1/estimates", b'{"title": "Senior Data Scientist", "location": "NYC", "years_experience": 5}'),
    ("/v1/estimates?explain=false", b'{"title": "Data Engineer", "skills": ["spark", "no-such-skill"]}'),
    ("/v1/estimates", b'{"years_experience": -1}'),
    ("/v1/estimates", b'{"years_experience": NaN}'),
    ("/v1/estimates", b"not json"),
    ("/v1/estimates", b"[]"),
    ("/v1/estimates?explain=maybe", b"{}"),
]


def without_shortcut(app: FastAPI) -> FastAPI:
    """The same app with every request going through the router (before the stack is first built)."""
    app.user_middleware = [m for m in app.user_middleware if m.cls is not DirectRoute]
    return app


def shortcut_in(app: object) -> bool:
    """Whether the built middleware chain holds the shortcut (else the comparison would be vacuous)."""
    layer = getattr(app, "middleware_stack", None)
    while layer is not None:
        if isinstance(layer, DirectRoute):
            return True
        layer = getattr(layer, "app", None)
    return False


@pytest.fixture()
def pair(bundle_dir: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps on one model: with the shortcut (as served) and without it."""
    settings = Settings(model_uri=str(bundle_dir), reload_interval_s=0)
    with (
        TestClient(create_app(settings)) as direct,
        TestClient(without_shortcut(create_app(settings))) as routed,
    ):
        direct.get("/healthz")  # builds the middleware stacks
        assert shortcut_in(direct.app) and not shortcut_in(routed.app)
        yield direct, routed


@pytest.mark.parametrize(("path", "body"), REQUESTS)
def test_answers_match_the_router_byte_for_byte(
    pair: tuple[TestClient, TestClient], path: str, body: bytes
) -> None:
    direct, routed = pair
    a = direct.post(path, content=body, headers={"content-type": "application/json"})
    b = routed.post(path, content=body, headers={"content-type": "application/json"})
    assert (a.status_code, a.content) == (b.status_code, b.content)
    assert a.headers["content-type"] == b.headers["content-type"]


def test_no_model_is_the_same_503(tmp_path: Path) -> None:
    settings = Settings(model_uri=str(tmp_path / "missing"), reload_interval_s=0)
    with (
        TestClient(create_app(settings)) as direct,
        TestClient(without_shortcut(create_app(settings))) as routed,
    ):
        a, b = (c.post("/v1/estimates", json=SENIOR) for c in (direct, routed))
    assert a.status_code == b.status_code == 503
    assert a.json() == b.json()


def test_other_methods_and_paths_go_to_the_router(client: TestClient) -> None:
    assert client.get("/v1/estimates").status_code == 405
    assert client.post("/v1/estimates/", json=SENIOR, follow_redirects=False).status_code == 307
    assert client.post("/v1/estimates/batch", json={"records": [SENIOR]}).json()["succeeded"] == 1


def test_served_under_a_root_path_and_counted_by_route(bundle_dir: Path) -> None:
    app = create_app(Settings(model_uri=str(bundle_dir), reload_interval_s=0))
    with TestClient(app, root_path="/salary") as client:
        assert client.post("/salary/v1/estimates", json=SENIOR).status_code == 200
        text = client.get("/salary/metrics").text
    assert 'salary_http_requests_total{method="POST",route="/v1/estimates",status="200"} 1.0' in text


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
