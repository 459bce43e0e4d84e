"""Randomisation: concealed block lists and minimisation, concurrency-safe, audited, blind where declared."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.subjects.models import RandomisationRecord
from oncotrials.apps.subjects.selectors import arm_visible_to
from oncotrials.apps.subjects.services import (
    patient_create,
    randomisation_scheme_create,
    randomise,
)
from oncotrials.apps.trials.services import cohort_create
from oncotrials.core.errors import ValidationError


@pytest.fixture
def randomised(journey, screen):
    admin = journey.unit.users["admin"]
    trial = journey.cohort.trial
    for code in ("ARM-A", "ARM-B"):
        cohort_create(trial=trial, code=code, name=code, kind="randomised_arm", by=admin)

    def new_patient(n):
        p = patient_create(
            site=journey.unit.main,
            by=journey.unit.users["nurse"],
            family_name=f"R{n}",
            given_name="X",
            birth_date=dt.date(1960, 1, 1),
            hospital_number=f"R-{n}",
            sex="F",
            referral_source="department",
            referral_date=dt.date(2026, 10, 1),
        )
        screen(journey, p, journey.unit.users["nurse"])
        return p

    return journey, trial, new_patient


def test_blocks_follow_the_concealed_list_per_stratum(randomised):
    journey, trial, new_patient = randomised
    scheme = randomisation_scheme_create(
        trial=trial,
        method="blocks",
        arms={"ARM-A": 1, "ARM-B": 1},
        factors={"ecog": ["0", "1"]},
        block_sizes=[4],
        by=journey.unit.users["admin"],
        list_size=8,
    )
    nurse = journey.unit.users["nurse"]
    arms = [
        randomise(
            patient=new_patient(i),
            trial=trial,
            levels={"ecog": "0"},
            registered_on=dt.date(2026, 11, 12),
            by=nurse,
        ).cohort.code
        for i in range(4)
    ]
    assert arms == scheme.allocation_list["ecog=0"][:4]
    assert sorted(arms) == ["ARM-A", "ARM-A", "ARM-B", "ARM-B"]  # a complete block of 4 is balanced
    assert AuditEvent.objects.filter(action="randomise").count() == 4


def test_minimisation_records_its_scores_and_random_element(randomised):
    journey, trial, new_patient = randomised
    randomisation_scheme_create(
        trial=trial,
        method="minimisation",
        arms={"ARM-A": 1, "ARM-B": 1},
        factors={"ecog": ["0", "1"], "sex": ["F", "M"]},
        p=0.8,
        by=journey.unit.users["admin"],
    )
    nurse = journey.unit.users["nurse"]
    for i in range(6):
        randomise(
            patient=new_patient(i),
            trial=trial,
            levels={"ecog": str(i % 2), "sex": "F"},
            registered_on=dt.date(2026, 11, 12),
            by=nurse,
        )
    records = list(RandomisationRecord.objects.order_by("sequence"))
    assert [r.sequence for r in records] == [1, 2, 3, 4, 5, 6]
    assert all(set(r.details) >= {"scores", "random_element_overrode", "p"} for r in records)
    counts = {arm: sum(r.arm == arm for r in records) for arm in ("ARM-A", "ARM-B")}
    assert abs(counts["ARM-A"] - counts["ARM-B"]) <= 2


def test_unknown_factor_level_is_refused_and_nothing_is_registered(randomised):
    journey, trial, new_patient = randomised
    randomisation_scheme_create(
        trial=trial,
        method="minimisation",
        arms={"ARM-A": 1, "ARM-B": 1},
        factors={"ecog": ["0", "1"]},
        by=journey.unit.users["admin"],
    )
    p = new_patient(1)
    with pytest.raises(ValidationError, match="ecog"):
        randomise(
            patient=p,
            trial=trial,
            levels={"ecog": "3"},
            registered_on=dt.date(2026, 11, 12),
            by=journey.unit.users["nurse"],
        )
    assert not p.registrations.exists()


def test_blinded_arm_is_hidden_from_the_research_nurse(randomised, client_for):
    journey, trial, new_patient = randomised
    randomisation_scheme_create(
        trial=trial,
        method="blocks",
        arms={"ARM-A": 1, "ARM-B": 1},
        block_sizes=[2],
        blinded=True,
        by=journey.unit.users["admin"],
        list_size=4,
    )
    reg = randomise(
        patient=new_patient(1),
        trial=trial,
        levels={},
        registered_on=dt.date(2026, 11, 12),
        by=journey.unit.users["nurse"],
    )
    assert not arm_visible_to(user=journey.unit.users["nurse"], registration=reg)
    assert arm_visible_to(user=journey.unit.users["admin"], registration=reg)
    page = client_for("nurse").get(f"/patients/{reg.patient_id}/").content.decode()
    assert reg.cohort.code not in page
    assert "blinded" in page
    api = (
        client_for("nurse")
        .post(
            f"/api/v1/registrations/{reg.pk}/status",
            '{"status": "on_treatment", "on": "2026-11-13"}',
            content_type="application/json",
        )
        .json()
    )
    assert api["cohort_id"] is None


@pytest.mark.django_db(transaction=True)
def test_simultaneous_randomisations_take_consecutive_rows(randomised):
    journey, trial, new_patient = randomised
    scheme = randomisation_scheme_create(
        trial=trial,
        method="blocks",
        arms={"ARM-A": 1, "ARM-B": 1},
        block_sizes=[4],
        by=journey.unit.users["admin"],
        list_size=8,
    )
    patients = [new_patient(1), new_patient(2)]
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def go(p, user):
        try:
            barrier.wait()
            randomise(
                patient=p, trial=trial, levels={}, registered_on=dt.date(2026, 11, 12), by=user
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=go, args=(p, u))
        for p, u in zip(
            patients, [journey.unit.users["nurse"], journey.unit.users["investigator"]], strict=True
        )
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    records = list(RandomisationRecord.objects.order_by("sequence"))
    assert [r.sequence for r in records] == [1, 2]
    assert [r.arm for r in records] == scheme.allocation_list["all"][:2]
