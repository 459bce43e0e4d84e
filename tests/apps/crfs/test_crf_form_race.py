"""Two users save the same form at the same moment: exactly one wins, the other is told."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from oncotrials.apps.crfs.models import FormInstance
from oncotrials.apps.crfs.services import form_save
from oncotrials.core.errors import ConflictError

VITALS = {"assessed_on": "2026-11-13", "systolic_bp": "120"}


def _race(cb, version):
    barrier = threading.Barrier(2)
    outcomes: list[tuple[str, object]] = []

    def save(user, heart_rate):
        try:
            barrier.wait()
            form_save(
                registration=cb.registration,
                visit_code="C1D1",
                form_name="vital_signs",
                data={**VITALS, "heart_rate": heart_rate},
                version=version,
                by=cb.users[user],
            )
            outcomes.append(("saved", heart_rate))
        except ConflictError as exc:
            outcomes.append(("conflict", exc.extra["current_data"].get("heart_rate")))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=("nurse", 70)),
        threading.Thread(target=save, args=("investigator", 90)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_saves_one_creates_the_other_sees_its_values(cb):
    outcomes = _race(cb, 0)
    assert [o[0] for o in outcomes] == ["conflict", "saved"]
    saved_value = outcomes[1][1]
    assert outcomes[0][1] == saved_value  # the loser is shown the winner's value
    assert FormInstance.objects.get().data["heart_rate"] == saved_value


@pytest.mark.django_db(transaction=True)
def test_simultaneous_edits_of_one_version_never_lose_an_update(cb):
    form_save(
        registration=cb.registration,
        visit_code="C1D1",
        form_name="vital_signs",
        data=VITALS,
        version=0,
        by=cb.users["nurse"],
    )
    outcomes = _race(cb, 1)
    assert [o[0] for o in outcomes] == ["conflict", "saved"]
    inst = FormInstance.objects.get()
    assert inst.version == 2
    assert inst.data["heart_rate"] == outcomes[1][1] == outcomes[0][1]
