"""Fetching downloads from a local server into the cache and refuses a file with the wrong checksum."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from data_files import FIXTURES

from training.fetch import CACHE_ENV, fetch_dataset, resolve_cache_dir
from training.sources import get_source


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep test output clean."""


@pytest.fixture()
def fixture_url() -> Iterator[str]:
    """The aijobs fixture served over HTTP on 127.0.0.1."""
    handler = partial(_QuietHandler, directory=str(FIXTURES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/aijobs.csv"
    finally:
        server.shutdown()
        server.server_close()


def test_download_with_matching_checksum_lands_in_cache(fixture_url: str, tmp_path: Path) -> None:
    expected = hashlib.sha256((FIXTURES / "aijobs.csv").read_bytes()).hexdigest()
    path = fetch_dataset("aijobs", cache_dir=tmp_path, url=fixture_url, sha256=expected)
    assert path == tmp_path / "aijobs" / "salaries.csv"
    assert path.read_bytes() == (FIXTURES / "aijobs.csv").read_bytes()
    assert get_source("aijobs").read(path).rows_read == 6


def test_checksum_mismatch_deletes_the_download(fixture_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"checksum mismatch.*deleted"):
        fetch_dataset("aijobs", cache_dir=tmp_path, url=fixture_url, sha256="0" * 64)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_checksum_is_required_unless_skipped_explicitly(fixture_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no sha256"):
        fetch_dataset("aijobs", cache_dir=tmp_path, url=fixture_url)
    path = fetch_dataset("aijobs", cache_dir=tmp_path, url=fixture_url, verify=False)
    assert path.exists()


def test_unknown_dataset_and_cache_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown dataset"):
        fetch_dataset("nope", cache_dir=tmp_path, verify=False)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    assert resolve_cache_dir() == tmp_path / "cache"
    monkeypatch.delenv(CACHE_ENV)
    assert resolve_cache_dir() == Path.home() / ".cache" / "salary-service"
