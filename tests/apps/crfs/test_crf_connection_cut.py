"""A connection cut in the middle of a form save stores nothing of it (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from connection_cut import cut_on
from oncotrials.apps.audit import services as audit_services
from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.audit.services import audit_verify
from oncotrials.apps.crfs.models import FormInstance
from oncotrials.apps.crfs.services import form_save

VITALS = {"assessed_on": "2026-11-13", "systolic_bp": "120", "heart_rate": 70}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("point", ["_lock_heads", "_insert_and_move_heads"])
def test_a_cut_during_a_form_save_leaves_no_half_saved_form(cb, point):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend: PostgreSQL")
    nurse = cb.users["nurse"]

    def save(version: int, heart_rate: int) -> FormInstance:
        return form_save(
            registration=cb.registration,
            visit_code="C1D1",
            form_name="vital_signs",
            data={**VITALS, "heart_rate": heart_rate},
            version=version,
            by=nurse,
        )

    with cut_on(audit_services, point) as cuts, pytest.raises(OperationalError):
        save(0, 71)  # a first save: the form row is inserted, then the connection is cut
    assert cuts
    connection.close()
    assert FormInstance.objects.count() == 0
    form = save(0, 72)
    events = AuditEvent.objects.count()
    with cut_on(audit_services, point) as cuts, pytest.raises(OperationalError):
        save(form.version, 99)  # an edit: updated, then cut
    assert cuts
    connection.close()
    stored = FormInstance.objects.get()
    assert (stored.version, stored.data["heart_rate"]) == (form.version, 72)
    assert AuditEvent.objects.count() == events
    assert audit_verify().ok  # (the fixture edits users directly: no --rows here)
