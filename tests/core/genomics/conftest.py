"""Locate the shared, openly licensed genomics fixtures (see their README.md for sources)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "genomics-fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    if not (FIXTURES / "README.md").is_file():
        pytest.skip(
            f"genomics fixtures not found at {FIXTURES.resolve()} (shared/ beside the repo)"
        )
    return FIXTURES.resolve()
