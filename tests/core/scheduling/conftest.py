"""The ONC-WEEK instance, loaded once for the scheduling tests."""

from __future__ import annotations

import pytest

from fixtures.scheduling import week_doc
from oncotrials.core.scheduling import Instance, load_instance


@pytest.fixture(scope="session")
def week() -> Instance:
    return load_instance(week_doc(), source="onc-week-s1.json")
