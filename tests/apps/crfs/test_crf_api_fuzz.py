"""The crfs endpoints under schemathesis: no 5xx, responses match the OpenAPI document.

(The project-wide run in tests/web covers every app; this one keeps the crfs operations
checked on their own, with a registered patient whose casebook exists.)
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


@pytest.fixture
def keep_test_connection():
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_crfs_api_never_fails_and_matches_its_schema(cb, keep_test_connection):
    from oncotrials.apps.accounts.services import token_create

    _, token = token_create(user=cb.users["nurse"], name="schemathesis")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    operations = [r.ok() for r in schema.get_all_operations() if "/crfs/" in r.ok().path]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case):
            if "registration_id" in (case.path_parameters or {}):
                case.path_parameters["registration_id"] = cb.registration.pk
            # Edit checks refuse schema-valid data by design (422), so schemathesis'
            # "positive data acceptance" check does not apply here.
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"},
                checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
            )

        check()
