"""The openly licensed genomics fixtures kept in the repository (tests/fixtures/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures import GENOMICS


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return GENOMICS
