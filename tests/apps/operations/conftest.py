"""A unit manager at the main site, and the main site's day unit and ward."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

MONDAY = dt.date(2026, 11, 16)


@pytest.fixture
def manager(unit: Any) -> Any:
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create

    user = user_create(username="manager", password="a-long-test-password-42")
    membership_grant(user=user, role=Role.UNIT_MANAGER, site=unit.main)
    unit.users["manager"] = user
    return user


@pytest.fixture
def equipped(unit: Any, manager: Any) -> Any:
    """Main site: 4 chairs, 2 beds, 1 isolator, two nurse bands, a closure on Wednesday."""
    from oncotrials.apps.operations.services import closure_add, nurse_shift_add, resource_save

    for i in range(4):
        resource_save(site=unit.main, kind="chair", code=f"CH-{i + 1:02d}", by=manager)
    for i in range(2):
        resource_save(site=unit.main, kind="bed", code=f"BED-{i + 1}", by=manager)
    resource_save(site=unit.main, kind="isolator", code="ISO-1", by=manager)
    nurse_shift_add(site=unit.main, starts="08:00", ends="13:00", nurses=3, by=manager)
    nurse_shift_add(site=unit.main, starts="13:00", ends="19:00", nurses=2, by=manager)
    closure_add(site=unit.main, on=MONDAY + dt.timedelta(days=2), reason="Works", by=manager)
    return unit
