"""The real app through its lifespan: estimates, health, readiness and field-naming 422s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.bundle import SalaryModel
from serving.app import create_app
from serving.settings import Settings


@pytest.fixture()
def client(demo_bundle: SalaryModel, tmp_path: Path) -> Iterator[TestClient]:
    demo_bundle.save(tmp_path)
    with TestClient(
        create_app(Settings(model_uri=str(tmp_path), reload_interval_s=0))
    ) as test_client:
        yield test_client


def test_estimate_has_range_interpretation_and_model(client: TestClient) -> None:
    body = {
        "title": "Senior Data Scientist",
        "skills": ["python", "k8s"],
        "location": "NYC",
        "years_experience": 5,
    }
    response = client.post("/v1/estimates", json=body)
    assert response.status_code == 200
    data = response.json()
    assert data["p10"] <= data["p25"] <= data["p50"] <= data["p75"] <= data["p90"]
    assert (data["currency"], data["period"]) == ("USD", "year")
    assert data["interpreted"]["seniority"] == "senior"
    assert data["interpreted"]["region"] == "NY"
    assert "Kubernetes" in data["interpreted"]["skills"]
    assert data["model"]["name"]
    assert isinstance(data["drivers"], list)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"years_experience": -2}, "years_experience"),
        ({"remote_ratio": 101}, "remote_ratio"),
        ({"skills": "python"}, "skills"),
        ({"work_year": "soon"}, "work_year"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    response = client.post("/v1/estimates", json=body)
    assert response.status_code == 422
    assert field in response.json()["detail"][0]["loc"]


def test_unknown_codes_come_back_as_warnings(client: TestClient) -> None:
    response = client.post("/v1/estimates", json={"title": "Data Engineer", "company_size": "huge"})
    assert response.status_code == 200
    assert any("company_size" in w for w in response.json()["warnings"])


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/readyz").status_code == 200


def test_app_without_a_model_is_alive_but_not_ready(tmp_path: Path) -> None:
    settings = Settings(model_uri=str(tmp_path / "missing"), reload_interval_s=0)
    with TestClient(create_app(settings)) as test_client:
        assert test_client.get("/healthz").status_code == 200
        assert test_client.get("/readyz").status_code == 503
        assert test_client.post("/v1/estimates", json={"title": "x"}).status_code == 503
