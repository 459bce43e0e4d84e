"""Several status moves of one registration in one call: the rows and refusals of one call each."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.audit.services import audit_batch
from oncotrials.apps.subjects.models import Registration, RegistrationStatusChange
from oncotrials.apps.subjects.services import (
    consent_withdraw,
    registration_change_status,
    registration_change_statuses,
    registration_create,
)
from oncotrials.core.errors import ValidationError

MOVES = [
    ("on_treatment", dt.date(2026, 11, 13), ""),
    ("end_of_treatment", dt.date(2026, 11, 18), "Progression"),
    ("follow_up", dt.date(2026, 11, 19), ""),
    ("off_study", dt.date(2026, 11, 20), "Death"),
]


@pytest.fixture
def registered(journey, screen) -> Registration:
    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    return registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )


def _rows(reg: Registration) -> dict[str, Any]:
    """What the moves wrote: the registration, its status changes, its history, its events
    (each with the digest of the row as its move left it)."""
    events = AuditEvent.objects.filter(
        object_type="subjects.registration", object_id=str(reg.pk), action="status"
    ).order_by("seq")
    history = reg.history.order_by("history_date", "history_id")  # type: ignore[attr-defined]
    return {
        "registration": Registration.objects.filter(pk=reg.pk)
        .values("status", "status_date", "status_reason", "treatment_start", "version")
        .get(),
        "changes": list(
            RegistrationStatusChange.objects.filter(registration=reg)
            .order_by("pk")
            .values("from_status", "to_status", "on", "reason", "changed_by")
        ),
        "history": list(history.values_list("status", "status_date", "version", "history_user")),
        "events": list(events.values_list("changes", "reason", "row_digest")),
    }


@pytest.mark.parametrize("split", [1, 2, 4])
def test_moves_in_one_call_write_the_rows_of_one_call_each(journey, registered, split):
    nurse = journey.unit.users["nurse"]
    with transaction.atomic():  # one call per move, then undone
        with audit_batch():
            reg = registered
            for status, on, reason in MOVES:
                reg = registration_change_status(
                    registration=reg, to_status=status, on=on, by=nurse, reason=reason
                )
        one_by_one = _rows(registered)
        transaction.set_rollback(True)
    assert len(one_by_one["events"]) == 4
    assert len({digest for _, _, digest in one_by_one["events"]}) == 4

    with audit_batch():  # the events are sealed together, as in the demo
        reg = registered
        for start in range(0, len(MOVES), split):
            reg = registration_change_statuses(
                registration=reg, changes=MOVES[start : start + split], by=nurse
            )
    assert _rows(registered) == one_by_one
    assert (reg.status, reg.treatment_start) == ("off_study", dt.date(2026, 11, 13))


def test_a_move_refused_refuses_the_call_and_records_none_of_its_moves(journey, registered):
    nurse = journey.unit.users["nurse"]
    with pytest.raises(ValidationError, match="cannot date from before the current one"):
        registration_change_statuses(
            registration=registered,
            changes=[MOVES[0], ("end_of_treatment", dt.date(2026, 11, 12), "Progression")],
            by=nurse,
        )
    with pytest.raises(ValidationError, match="cannot move to follow_up"):
        registration_change_statuses(
            registration=registered, changes=[MOVES[0], MOVES[2]], by=nurse
        )
    with pytest.raises(ValidationError, match="needs a reason"):
        registration_change_statuses(
            registration=registered,
            changes=[MOVES[0], ("end_of_treatment", dt.date(2026, 11, 18), " ")],
            by=nurse,
        )
    registered.refresh_from_db()
    assert registered.status == "registered"
    assert list(registered.status_history.values_list("to_status", flat=True)) == ["registered"]


def test_a_withdrawn_consent_blocks_the_same_moves_as_one_call_each(journey, registered):
    nurse = journey.unit.users["nurse"]
    reg = registration_change_statuses(registration=registered, changes=MOVES[:2], by=nurse)
    consent_withdraw(
        consent=journey.patient.consents.get(),
        on=dt.date(2026, 11, 18),
        scope=["follow_up"],
        reason="Patient's decision",
        by=nurse,
    )
    with pytest.raises(ValidationError, match="withdrew consent to follow-up"):
        registration_change_status(
            registration=reg, to_status="follow_up", on=dt.date(2026, 11, 19), by=nurse
        )
    with pytest.raises(ValidationError, match="withdrew consent to follow-up"):
        registration_change_statuses(registration=reg, changes=MOVES[2:], by=nurse)
    reg = registration_change_statuses(
        registration=reg,
        changes=[("off_study", dt.date(2026, 11, 19), "Consent withdrawn")],
        by=nurse,
    )
    assert reg.status == "off_study"
