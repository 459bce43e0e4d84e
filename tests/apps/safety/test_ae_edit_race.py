"""Two users save the same version of one adverse event at the same moment: one wins, one is told."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.safety.models import AdverseEvent
from oncotrials.apps.safety.services import adverse_event_create, adverse_event_update
from oncotrials.core.errors import ConflictError

PASSWORD = "a-long-test-password-42"  # tests/conftest.py


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


@pytest.mark.django_db(transaction=True)
def test_a_void_and_an_edit_of_one_version_at_once_one_wins_and_the_other_is_told(
    safety, complete_ae
):
    from oncotrials.apps.safety.services import adverse_event_void

    nurse, investigator = safety.users["nurse"], safety.users["investigator"]
    ae = adverse_event_create(
        registration=safety.registration, data=complete_ae(), by=nurse, complete=True
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(kind):
        try:
            mine = AdverseEvent.objects.select_related("registration").get(pk=ae.pk)
            barrier.wait()
            if kind == "void":
                adverse_event_void(ae=mine, version=1, reason="entered twice", by=nurse)
            else:
                adverse_event_update(
                    ae=mine,
                    data=complete_ae(grade=4),
                    version=1,
                    by=investigator,
                    complete=True,
                    reason="grade 4 per source",
                )
            outcomes.append(f"{kind} saved")
        except ConflictError:
            outcomes.append(f"{kind} conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(k,)) for k in ("void", "edit")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.split()[1] for o in outcomes) == ["conflict", "saved"]
    stored = AdverseEvent.objects.get(pk=ae.pk)
    assert stored.version == 2
    assert stored.voided == ("void saved" in outcomes)


@pytest.mark.django_db(transaction=True)
def test_two_adjudications_of_one_dlt_case_at_once_one_signs_and_the_other_is_told(
    safety, rules, complete_ae
):
    from oncotrials.apps.safety.dlt_review import dlt_case_adjudicate, dlt_status_for
    from oncotrials.apps.safety.models import DltCase

    adverse_event_create(
        registration=safety.registration,
        data=complete_ae(),
        by=safety.users["nurse"],
        complete=True,
    )
    case = DltCase.objects.get()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def sign(decision):
        try:
            mine = DltCase.objects.select_related("registration__trial").get(pk=case.pk)
            barrier.wait()
            dlt_case_adjudicate(
                case=mine,
                decision=decision,
                reason=decision,
                password=PASSWORD,
                meaning="I sign",
                version=1,
                by=safety.users["investigator"],
            )
            outcomes.append(decision)
        except ConflictError:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=sign, args=(d,)) for d in ("confirm", "reject")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("conflict") == 1
    stored = DltCase.objects.get()
    assert stored.version == 2
    winner = next(o for o in outcomes if o != "conflict")
    expected = {"confirm": "dlt", "reject": "pending"}[winner]
    assert dlt_status_for(safety.registration).outcome == expected
