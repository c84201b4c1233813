"""Serving fixtures: the session's demo bundle on disk and the real app around it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.bundle import SalaryModel
from serving.app import create_app
from serving.settings import Settings

ClientFactory = Callable[..., TestClient]


@pytest.fixture(scope="session")
def bundle_dir(demo_bundle: SalaryModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo bundle saved once, served from its path."""
    directory = tmp_path_factory.mktemp("bundle")
    demo_bundle.save(directory)
    return directory


@pytest.fixture()
def make_client(bundle_dir: Path) -> Iterator[ClientFactory]:
    """Start the real app (lifespan included) with some settings changed; all are closed at teardown."""
    opened: list[TestClient] = []

    def make(**overrides: object) -> TestClient:
        settings = Settings.model_validate(
            {"model_uri": str(bundle_dir), "reload_interval_s": 0, **overrides}
        )
        client = TestClient(create_app(settings))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture()
def client(make_client: ClientFactory) -> TestClient:
    """The app with default settings."""
    return make_client()
