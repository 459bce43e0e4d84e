"""A connection cut in the middle of an AE save stores nothing of it (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from connection_cut import cut_on
from oncotrials.apps.audit import services as audit_services
from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.audit.services import audit_verify
from oncotrials.apps.safety.models import AdverseEvent
from oncotrials.apps.safety.services import adverse_event_create, adverse_event_update

# After the AE row is written: while the chain heads are locked, and in the audit insert itself.
POINTS = ["_lock_heads", "_insert_and_move_heads"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("point", POINTS)
def test_a_cut_during_an_ae_save_leaves_no_half_saved_event(safety, complete_ae, point):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend: PostgreSQL")
    nurse = safety.users["nurse"]
    ae = adverse_event_create(
        registration=safety.registration, data=complete_ae(grade=1), by=nurse, complete=True
    )
    events = AuditEvent.objects.count()
    with cut_on(audit_services, point) as cuts, pytest.raises(OperationalError):
        adverse_event_create(
            registration=safety.registration, data=complete_ae(grade=2), by=nurse, complete=True
        )
    assert cuts
    connection.close()  # the killed connection; the next query opens a new one
    with cut_on(audit_services, point) as cuts, pytest.raises(OperationalError):
        adverse_event_update(
            ae=AdverseEvent.objects.get(pk=ae.pk),
            data=complete_ae(grade=4),
            version=1,
            by=nurse,
            complete=True,
            reason="grade 4 per source",
        )
    assert cuts
    connection.close()
    assert list(AdverseEvent.objects.values_list("pk", "grade", "version")) == [(ae.pk, 1, 1)]
    assert AuditEvent.objects.count() == events
    assert audit_verify(rows=True).ok
