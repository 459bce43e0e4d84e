from __future__ import annotations

from pathlib import Path

import pytest

from oncotrials.core.matching import OncoTreeMap

# tests/core/matching -> repository root -> ../shared (the team's shared fixtures)
ONCOTREE_DIR = Path(__file__).parents[3] / ".." / "shared" / "genomics-fixtures" / "oncotree"
HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def oncotree() -> OncoTreeMap:
    """OncoTree 2025-10-03 (cBioPortal/oncotree, CC BY 4.0)."""
    files = sorted(ONCOTREE_DIR.glob("oncotree_*.json")) if ONCOTREE_DIR.is_dir() else []
    if not files:
        pytest.skip(f"OncoTree fixture not found under {ONCOTREE_DIR}")
    return OncoTreeMap.from_path(files[-1])


@pytest.fixture(scope="session")
def ctml_dir() -> Path:
    return HERE / "ctml"
