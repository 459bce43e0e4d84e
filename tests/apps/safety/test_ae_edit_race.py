"""Two users save the same version of one adverse event at the same moment: one wins, one is told."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.safety.models import AdverseEvent
from oncotrials.apps.safety.services import adverse_event_create, adverse_event_update
from oncotrials.core.errors import ConflictError


@pytest.mark.django_db(transaction=True)
def test_simultaneous_saves_of_one_version_never_lose_an_update(safety, complete_ae):
    nurse, investigator = safety.users["nurse"], safety.users["investigator"]
    ae = adverse_event_create(
        registration=safety.registration, data=complete_ae(), by=nurse, complete=True
    )
    barrier = threading.Barrier(2)
    outcomes: list[tuple[str, int]] = []
    told: list[int] = []

    def save(user, grade):
        try:
            mine = AdverseEvent.objects.get(pk=ae.pk)
            barrier.wait()
            adverse_event_update(
                ae=mine,
                data=complete_ae(grade=grade),
                version=1,
                by=user,
                complete=True,
                reason=f"grade {grade} per source",
            )
            outcomes.append(("saved", grade))
        except ConflictError as exc:
            told.append(exc.extra["current_version"])
            outcomes.append(("conflict", grade))
        finally:
            connection.close()  # this thread's own connection

    threads = [
        threading.Thread(target=save, args=(nurse, 2)),
        threading.Thread(target=save, args=(investigator, 4)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(kind for kind, _ in outcomes) == ["conflict", "saved"]
    assert told == [2]  # the loser is shown the winner's version
    winner = next(grade for kind, grade in outcomes if kind == "saved")
    stored = AdverseEvent.objects.get(pk=ae.pk)
    assert (stored.version, stored.grade) == (2, winner)
    updates = AuditEvent.objects.filter(object_type="safety.adverseevent", action="update")
    assert updates.count() == 1
