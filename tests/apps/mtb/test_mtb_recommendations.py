"""Board recommendations: what each kind must name, the signature (investigator or chair, with
the password, at a held meeting), its invalidation by any later change, and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from mtb_board_helpers import PASSWORD, held_meeting, make_board, make_patient

from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError

pytestmark = pytest.mark.django_db
MEANING = "I approve this recommendation on behalf of the board"


def _case(board, *, chair=None, day=dt.date(2026, 9, 17)):
    from oncotrials.apps.mtb.services import case_add

    meeting = held_meeting(board, day, chair=chair)
    patient = make_patient(board.unit.main, board.unit.users["nurse"])
    return case_add(meeting=meeting, patient=patient, reason="asked", by=board.coordinator)


def _therapy(board, case, **kw):
    from oncotrials.apps.mtb.services import recommendation_create

    data = {
        "kind": "off_label_therapy",
        "therapy": "sotorasib",
        "rationale": "KRAS G12C; no trial open.",
    } | kw
    return recommendation_create(case=case, by=board.coordinator, **data)


def test_a_signature_names_the_signer_time_and_meaning_and_is_audited(unit):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.mtb.selectors import signature_view
    from oncotrials.apps.mtb.services import recommendation_sign

    board = make_board(unit)
    rec = _therapy(board, _case(board))
    assert not signature_view(rec).signed
    signed = recommendation_sign(
        recommendation=rec, meaning=MEANING, password=PASSWORD, by=unit.users["investigator"]
    )
    view = signature_view(signed)
    assert view.valid
    assert view.name == "investigator"
    assert view.meaning == MEANING
    assert view.at is not None
    event = AuditEvent.objects.filter(action="sign", object_id=str(rec.pk)).get()
    assert event.actor == unit.users["investigator"]
    assert event.changes["meaning"] == [None, MEANING]


def test_any_later_change_invalidates_the_signature_and_the_audit_says_so(unit):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.mtb.selectors import signature_view
    from oncotrials.apps.mtb.services import recommendation_sign, recommendation_update

    board = make_board(unit)
    rec = _therapy(board, _case(board))
    rec = recommendation_sign(
        recommendation=rec, meaning=MEANING, password=PASSWORD, by=unit.users["investigator"]
    )
    changed = recommendation_update(
        recommendation=rec,
        version=rec.version,
        rationale="KRAS G12C; no trial open; discussed with the patient.",
        reason="rationale completed",
        by=board.coordinator,
    )
    view = signature_view(changed)
    assert view.signed
    assert not view.valid
    assert view.label == "signature invalidated by a later change"
    update = AuditEvent.objects.filter(action="update", object_id=str(rec.pk)).get()
    assert update.changes["signature"][1] == "invalidated by this change"
    assert update.reason == "rationale completed"
    # A change by another path (here a direct write) is caught by the fingerprint too.
    again = recommendation_sign(
        recommendation=changed, meaning=MEANING, password=PASSWORD, by=unit.users["investigator"]
    )
    assert signature_view(again).valid
    type(again).objects.filter(pk=again.pk).update(therapy="adagrasib")
    again.refresh_from_db()
    assert not signature_view(again).valid


def test_the_chair_signs_even_without_the_investigator_role(unit):
    from oncotrials.apps.mtb.selectors import signature_view
    from oncotrials.apps.mtb.services import recommendation_sign

    board = make_board(unit)
    rec = _therapy(board, _case(board, chair=board.coordinator))
    signed = recommendation_sign(
        recommendation=rec, meaning=MEANING, password=PASSWORD, by=board.coordinator
    )
    assert signature_view(signed).name == "Tara Board"


@pytest.mark.parametrize("who", ["coordinator", "nurse", "mtb_biologist", "partner_investigator"])
def test_others_may_not_sign(unit, who):
    from oncotrials.apps.mtb.services import recommendation_sign

    board = make_board(unit)
    rec = _therapy(board, _case(board))
    with pytest.raises(PermissionDeniedError, match="investigator of the site or the meeting"):
        recommendation_sign(
            recommendation=rec, meaning=MEANING, password=PASSWORD, by=unit.users[who]
        )
    rec.refresh_from_db()
    assert rec.signed_at is None


def test_a_wrong_password_a_planned_meeting_or_a_second_signature_are_refused(unit):
    from oncotrials.apps.mtb.services import case_add, meeting_create, recommendation_sign

    board = make_board(unit)
    inv = unit.users["investigator"]
    rec = _therapy(board, _case(board))
    with pytest.raises(PermissionDeniedError, match="password"):
        recommendation_sign(recommendation=rec, meaning=MEANING, password="nope", by=inv)
    with pytest.raises(ValidationError) as err:
        recommendation_sign(recommendation=rec, meaning="  ", password=PASSWORD, by=inv)
    assert err.value.extra["field"] == "meaning"
    rec.refresh_from_db()
    assert rec.signed_at is None
    recommendation_sign(recommendation=rec, meaning=MEANING, password=PASSWORD, by=inv)
    with pytest.raises(ConflictError, match="already signed"):
        recommendation_sign(recommendation=rec, meaning=MEANING, password=PASSWORD, by=inv)
    planned = meeting_create(site=unit.main, held_on=dt.date(2026, 9, 24), by=board.coordinator)
    later = case_add(
        meeting=planned,
        patient=make_patient(unit.main, unit.users["nurse"]),
        reason="asked",
        by=board.coordinator,
    )
    draft = _therapy(board, later)
    with pytest.raises(ValidationError, match="held meeting"):
        recommendation_sign(recommendation=draft, meaning=MEANING, password=PASSWORD, by=inv)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "surgery"}, "kind"),
        ({"kind": "trial_referral", "therapy": ""}, "trial"),
        ({"kind": "approved_therapy", "therapy": ""}, "therapy"),
        ({"kind": "no_action", "therapy": "", "rationale": ""}, "rationale"),
        ({"kind": "germline_testing", "therapy": "", "trial": "T-SHARED"}, "trial"),
        ({"kind": "trial_referral", "therapy": "", "trial": "T-OTHER"}, "trial"),
        ({"kind": "trial_referral", "therapy": "", "trial": "T-PARTNER"}, "trial"),
        ({"kind": "trial_referral", "therapy": "", "trial": "T-SHARED", "cohort": "ESC"}, "cohort"),
        ({"kind": "trial_referral", "therapy": "sotorasib", "trial": "T-SHARED"}, "therapy"),
        ({"rationale": "x" * 4001}, "rationale"),
    ],
)
def test_bad_recommendations_name_the_field_and_save_nothing(unit, data, field):
    from oncotrials.apps.mtb.models import MtbRecommendation
    from oncotrials.apps.trials.models import Cohort, Trial

    board = make_board(unit)
    case = _case(board)
    if "trial" in data:
        data["trial"] = Trial.objects.get(protocol_code=data["trial"])
    if "cohort" in data:
        # T-MAIN's escalation cohort: not part of T-SHARED.
        data["cohort"] = Cohort.objects.get(trial__protocol_code="T-MAIN", code=data["cohort"])
    # T-OTHER runs at the main site too: move it to the partner to test the site rule.
    Trial.objects.filter(protocol_code="T-OTHER").first().trial_sites.update(site=unit.partner)
    with pytest.raises(ValidationError) as err:
        _therapy(board, case, **data)
    assert err.value.extra["field"] == field
    assert not MtbRecommendation.objects.exists()


def test_changing_needs_a_reason_and_the_current_version(unit):
    from oncotrials.apps.mtb.services import recommendation_update

    board = make_board(unit)
    rec = _therapy(board, _case(board))
    with pytest.raises(ValidationError) as err:
        recommendation_update(
            recommendation=rec,
            version=rec.version,
            rationale="new",
            reason="",
            by=board.coordinator,
        )
    assert err.value.extra["field"] == "reason"
    with pytest.raises(ConflictError):
        recommendation_update(
            recommendation=rec, version=9, rationale="new", reason="typo", by=board.coordinator
        )
    rec.refresh_from_db()
    assert rec.rationale == "KRAS G12C; no trial open."


def test_a_meeting_closes_only_when_every_recommendation_is_signed(unit):
    from oncotrials.apps.mtb.services import meeting_update, recommendation_sign

    board = make_board(unit)
    case = _case(board)
    rec = _therapy(board, case)
    meeting = case.meeting
    meeting.refresh_from_db()
    with pytest.raises(ValidationError, match=rf"\(ids? {rec.pk}\)"):
        meeting_update(
            meeting=meeting, version=meeting.version, status="closed", by=board.coordinator
        )
    recommendation_sign(
        recommendation=rec, meaning=MEANING, password=PASSWORD, by=unit.users["investigator"]
    )
    closed = meeting_update(
        meeting=meeting, version=meeting.version, status="closed", by=board.coordinator
    )
    assert closed.status == "closed"


def test_a_series_is_signed_with_one_password_entry_all_or_nothing(unit):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.mtb.services import recommendations_sign, signature_is_valid

    board = make_board(unit)
    case = _case(board)
    first = _therapy(board, case)
    second = _therapy(board, case, kind="germline_testing", therapy="", rationale="BRCA2")
    inv = unit.users["investigator"]
    # One of the series is already signed: nothing of the series is signed.
    recommendations_sign(recommendations=[second], meaning=MEANING, password=PASSWORD, by=inv)
    third = _therapy(board, case, kind="no_action", therapy="", rationale="VUS only")
    with pytest.raises(ConflictError, match=f"Recommendation {second.pk} is already signed"):
        recommendations_sign(
            recommendations=[first, second, third], meaning=MEANING, password=PASSWORD, by=inv
        )
    first.refresh_from_db()
    third.refresh_from_db()
    assert not signature_is_valid(first)
    assert not signature_is_valid(third)
    signed = recommendations_sign(
        recommendations=[third, first], meaning=MEANING, password=PASSWORD, by=inv
    )
    assert [r.pk for r in signed] == sorted([first.pk, third.pk])
    assert all(signature_is_valid(r) for r in signed)
    assert (
        AuditEvent.objects.filter(action="sign", object_type="mtb.mtbrecommendation").count() == 3
    )
    with pytest.raises(ValidationError) as err:
        recommendations_sign(recommendations=[], meaning=MEANING, password=PASSWORD, by=inv)
    assert err.value.extra["field"] == "recommendations"


def test_the_page_shows_an_invalidated_signature_and_signs_again(unit, client_for):
    from oncotrials.apps.mtb.services import recommendation_sign

    board = make_board(unit)
    case = _case(board)
    rec = recommendation_sign(
        recommendation=_therapy(board, case),
        meaning=MEANING,
        password=PASSWORD,
        by=unit.users["investigator"],
    )
    coordinator = client_for("coordinator")
    changed = coordinator.post(
        f"/mtb/recommendations/{rec.pk}/edit/",
        {"version": rec.version, "rationale": "New rationale", "reason": "completed"},
    )
    assert changed.status_code == 302
    page = coordinator.get(f"/mtb/cases/{case.pk}/").content.decode()
    assert "invalidated by a later change" in page
    # Without a reason, the change is refused with the field named, nothing saved.
    rec.refresh_from_db()
    refused = coordinator.post(
        f"/mtb/recommendations/{rec.pk}/edit/",
        {"version": rec.version, "rationale": "Other", "reason": ""},
    )
    assert refused.status_code == 422
    assert f'id="id_rec{rec.pk}_reason-error"' in refused.content.decode()
    investigator = client_for("investigator")
    wrong = investigator.post(
        f"/mtb/recommendations/{rec.pk}/sign/", {"meaning": MEANING, "password": "nope"}
    )
    assert wrong.status_code == 422
    assert "password does not match" in wrong.content.decode()
    ok = investigator.post(
        f"/mtb/recommendations/{rec.pk}/sign/", {"meaning": MEANING, "password": PASSWORD}
    )
    assert ok.status_code == 302
    assert "Signed by investigator" in investigator.get(f"/mtb/cases/{case.pk}/").content.decode()
    nurse = client_for("nurse")
    assert (
        nurse.post(
            f"/mtb/recommendations/{rec.pk}/sign/", {"meaning": MEANING, "password": PASSWORD}
        ).status_code
        == 403
    )
    assert (
        client_for("partner_investigator")
        .post(f"/mtb/recommendations/{rec.pk}/sign/", {"meaning": MEANING, "password": PASSWORD})
        .status_code
        == 404
    )
