from __future__ import annotations

from pathlib import Path

import pytest

from fixtures import ONCOTREE
from oncotrials.core.matching import OncoTreeMap

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def oncotree() -> OncoTreeMap:
    """OncoTree 2025-10-03 (cBioPortal/oncotree, CC BY 4.0)."""
    return OncoTreeMap.from_path(ONCOTREE)


@pytest.fixture(scope="session")
def ctml_dir() -> Path:
    return HERE / "ctml"
