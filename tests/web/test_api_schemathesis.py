"""Property-based API testing against our own OpenAPI document: no 5xx, responses match the schema.

Runs schemathesis' generated cases for every operation, authenticated with an investigator's
personal access token, inside the test's database transaction.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from oncotrials.web.wsgi import application


def _operations():
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: requests must not close the test transaction's connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(unit, keep_test_connection):
    from oncotrials.apps.accounts.services import token_create

    _, raw = token_create(user=unit.users["investigator"], name="schemathesis")
    return raw


@pytest.mark.django_db
def test_api_never_fails_and_matches_its_schema(token):
    operations = _operations()
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,  # the same cases on every run: CI is reproducible
        )
        def check(case):
            # What the issue asks: no 5xx, documented status codes, responses matching the schema.
            # Schemathesis' "positive data acceptance" is left out: clinical rules (edit checks,
            # lifecycle, dates, NUL-free text) refuse some schema-valid input with a 422 in the
            # error shape, by design.
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"},
                checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
            )

        check()
