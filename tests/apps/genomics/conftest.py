"""Fixtures of the genomics tests; helpers and constants are in genomics_helpers.py."""

from __future__ import annotations

from typing import Any

import pytest
from genomics_helpers import (  # noqa: F401
    APL_PRIMARY,
    APL_RELAPSE,
    LAML,
    LONG_STUDY_PATIENT,
    STUDY,
    identity_map,
    make_patients,
    make_study_patients,
    study_patient_map,
)


@pytest.fixture
def biologist(unit: Any) -> Any:
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create

    user = user_create(username="biologist", password="a-long-test-password-42")
    membership_grant(user=user, role=Role.MOLECULAR_BIOLOGIST, site=unit.main)
    unit.users["biologist"] = user
    return user
