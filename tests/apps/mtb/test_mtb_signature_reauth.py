"""The board's signature asks the password again: wrong ones audited, signing locked after N."""

from __future__ import annotations

import datetime as dt

import pytest
from mtb_board_helpers import PASSWORD, held_meeting, make_board, make_patient

from oncotrials.core.errors import PermissionDeniedError

pytestmark = pytest.mark.django_db
MEANING = "I approve this recommendation on behalf of the board"


def test_wrong_passwords_lock_board_signing_and_the_right_one_waits(unit, settings):
    from oncotrials.apps.accounts.models import SigningThrottle
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.mtb.selectors import signature_view
    from oncotrials.apps.mtb.services import case_add, recommendation_create, recommendation_sign

    settings.SIGNATURE_FAILURE_LIMIT = 2
    board = make_board(unit)
    meeting = held_meeting(board, dt.date(2026, 9, 17))
    patient = make_patient(unit.main, unit.users["nurse"])
    case = case_add(meeting=meeting, patient=patient, reason="asked", by=board.coordinator)
    rec = recommendation_create(
        case=case,
        kind="off_label_therapy",
        therapy="sotorasib",
        rationale="KRAS G12C.",
        by=board.coordinator,
    )
    inv = unit.users["investigator"]
    inv.first_name, inv.last_name = "Irène", "Curie"
    inv.save()
    with pytest.raises(PermissionDeniedError, match="password does not match: the"):
        recommendation_sign(recommendation=rec, meaning=MEANING, password="no", by=inv)
    with pytest.raises(PermissionDeniedError, match="signing is locked"):
        recommendation_sign(recommendation=rec, meaning=MEANING, password="no", by=inv)
    with pytest.raises(PermissionDeniedError, match="Signing is locked"):
        recommendation_sign(recommendation=rec, meaning=MEANING, password=PASSWORD, by=inv)
    actions = list(
        AuditEvent.objects.filter(
            object_type="accounts.user", object_id=str(inv.pk), action__startswith="signature_"
        )
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "signature_password_failed",
        "signature_password_failed",
        "signature_locked",
        "signature_refused",
    ]
    rec.refresh_from_db()
    assert not signature_view(rec).signed
    # Someone who may not sign gets the refusal, not a password check (nothing recorded).
    with pytest.raises(PermissionDeniedError, match="Only an investigator"):
        recommendation_sign(
            recommendation=rec, meaning=MEANING, password="no", by=board.coordinator
        )
    assert not AuditEvent.objects.filter(
        action="signature_password_failed", object_id=str(board.coordinator.pk)
    ).exists()
    # The printed name and the meaning are those of the signer, once signing is allowed again.
    SigningThrottle.objects.filter(user=inv).update(locked_until=None)
    signed = recommendation_sign(recommendation=rec, meaning=MEANING, password=PASSWORD, by=inv)
    view = signature_view(signed)
    assert (view.name, view.meaning) == ("Irène Curie", MEANING)
