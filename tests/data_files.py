"""Where test data lives: hand-made fixtures in the repo, real datasets beside it (may be absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
SHARED_DATA = TESTS.parent.parent / "shared" / "data"


def shared_data_file(relative: str) -> Path:
    """A file of the real datasets, or skip the test saying why."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real dataset {relative} not found under {SHARED_DATA}")
    return path
