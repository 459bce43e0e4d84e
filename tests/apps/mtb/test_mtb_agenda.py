"""The agenda of a tumour-board meeting: reports imported since the previous held meeting of the
site and not yet discussed, one case per patient; cases added by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from mtb_board_helpers import G12C, aware, held_meeting, import_report, make_board, make_patient

from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError

pytestmark = pytest.mark.django_db


def _meeting(board, day, status="planned"):
    from oncotrials.apps.mtb.services import meeting_create, meeting_update

    m = meeting_create(site=board.unit.main, held_on=day, by=board.coordinator)
    if status != "planned":
        m = meeting_update(meeting=m, version=m.version, status="held", by=board.coordinator)
    return m


def test_agenda_lists_new_undiscussed_reports_since_the_previous_held_meeting(unit, tmp_path):
    from oncotrials.apps.mtb.services import agenda_build

    board = make_board(unit)
    nurse = unit.users["nurse"]
    a, b, c = (make_patient(unit.main, nurse) for _ in range(3))
    partner_patient = make_patient(unit.partner, unit.users["partner_investigator"])
    # Before the previous meeting: not on the new agenda (unless never discussed and in window).
    old = import_report(tmp_path, a, imported_at=aware(dt.date(2026, 9, 1)))
    held_meeting(board, dt.date(2026, 9, 10))
    # The morning of the previous meeting's day: inside the window (not discussed then).
    same_day = import_report(tmp_path, b, imported_at=aware(dt.date(2026, 9, 10), hour=6))
    a_new_1 = import_report(tmp_path, a, imported_at=aware(dt.date(2026, 9, 12)), variants=G12C)
    a_new_2 = import_report(tmp_path, a, imported_at=aware(dt.date(2026, 9, 14)))
    # After the meeting's day: not yet.
    import_report(tmp_path, c, imported_at=aware(dt.date(2026, 9, 18)))
    import_report(tmp_path, partner_patient, imported_at=aware(dt.date(2026, 9, 12)))

    meeting = _meeting(board, dt.date(2026, 9, 17))
    cases = agenda_build(meeting=meeting, by=board.coordinator)

    by_patient = {case.patient_id: {r.pk for r in case.reports.all()} for case in cases}
    assert by_patient == {a.pk: {a_new_1.pk, a_new_2.pk}, b.pk: {same_day.pk}}
    assert old.pk not in by_patient[a.pk]
    # Building twice adds nothing.
    assert agenda_build(meeting=meeting, by=board.coordinator) == []
    assert meeting.cases.count() == 2


def test_a_planned_meeting_that_never_took_place_does_not_close_the_window(unit, tmp_path):
    from oncotrials.apps.mtb.services import agenda_build

    board = make_board(unit)
    p = make_patient(unit.main, unit.users["nurse"])
    report = import_report(tmp_path, p, imported_at=aware(dt.date(2026, 9, 5)))
    _meeting(board, dt.date(2026, 9, 10))  # planned, never held
    meeting = _meeting(board, dt.date(2026, 9, 17))
    (case,) = agenda_build(meeting=meeting, by=board.coordinator)
    assert [r.pk for r in case.reports.all()] == [report.pk]


def test_a_discussed_report_is_not_listed_again_and_superseded_reports_are_left_out(unit, tmp_path):
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.mtb.services import agenda_build

    board = make_board(unit)
    p, q = (
        make_patient(unit.main, unit.users["nurse"]),
        make_patient(unit.main, unit.users["nurse"]),
    )
    first = held_meeting(board, dt.date(2026, 9, 10))
    r1 = import_report(tmp_path, p, imported_at=aware(dt.date(2026, 9, 9)))
    agenda_build(meeting=first, by=board.coordinator)
    old = import_report(tmp_path, q, imported_at=aware(dt.date(2026, 9, 11)))
    GenomicReport.objects.filter(pk=old.pk).update(superseded=True)
    second = _meeting(board, dt.date(2026, 9, 17))
    assert agenda_build(meeting=second, by=board.coordinator) == []
    assert list(first.cases.values_list("patient_id", flat=True)) == [p.pk]
    assert r1.mtb_case_report.case.meeting_id == first.pk


def test_a_case_added_by_hand_keeps_its_reason_and_the_agenda_extends_it(unit, tmp_path):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.mtb.services import agenda_build, case_add

    board = make_board(unit)
    p = make_patient(unit.main, unit.users["nurse"])
    meeting = _meeting(board, dt.date(2026, 9, 17))
    case = case_add(
        meeting=meeting, patient=p, reason="Progression on osimertinib", by=board.coordinator
    )
    assert case.added_by_hand
    assert case.reason == "Progression on osimertinib"
    report = import_report(tmp_path, p, imported_at=aware(dt.date(2026, 9, 15)))
    (same,) = agenda_build(meeting=meeting, by=board.coordinator)
    assert same.pk == case.pk
    assert [r.pk for r in same.reports.all()] == [report.pk]
    assert AuditEvent.objects.filter(object_type="mtb.mtbcase", object_id=str(case.pk)).count() == 2


@pytest.mark.parametrize(
    ("reason", "field"), [("", "reason"), ("   ", "reason"), ("x\x00y", "reason")]
)
def test_adding_a_case_needs_a_reason_and_saves_nothing_without(unit, reason, field):
    from oncotrials.apps.mtb.models import MtbCase
    from oncotrials.apps.mtb.services import case_add

    board = make_board(unit)
    p = make_patient(unit.main, unit.users["nurse"])
    meeting = _meeting(board, dt.date(2026, 9, 17))
    with pytest.raises(ValidationError) as err:
        case_add(meeting=meeting, patient=p, reason=reason, by=board.coordinator)
    assert err.value.extra["field"] == field
    assert not MtbCase.objects.exists()


def test_the_same_patient_twice_or_from_another_site_is_refused(unit):
    from oncotrials.apps.mtb.models import MtbCase
    from oncotrials.apps.mtb.services import case_add

    board = make_board(unit)
    p = make_patient(unit.main, unit.users["nurse"])
    other = make_patient(unit.partner, unit.users["partner_investigator"])
    meeting = _meeting(board, dt.date(2026, 9, 17))
    case_add(meeting=meeting, patient=p, reason="asked by Dr X", by=board.coordinator)
    with pytest.raises(ConflictError):
        case_add(meeting=meeting, patient=p, reason="again", by=board.coordinator)
    with pytest.raises(ValidationError, match="another site"):
        case_add(meeting=meeting, patient=other, reason="cross", by=board.coordinator)
    assert MtbCase.objects.count() == 1


def test_a_closed_meeting_takes_no_new_case(unit):
    from oncotrials.apps.mtb.services import agenda_build, case_add, meeting_update

    board = make_board(unit)
    meeting = held_meeting(board, dt.date(2026, 9, 17))
    meeting = meeting_update(
        meeting=meeting, version=meeting.version, status="closed", by=board.coordinator
    )
    with pytest.raises(ValidationError, match="closed"):
        agenda_build(meeting=meeting, by=board.coordinator)
    with pytest.raises(ValidationError, match="closed"):
        case_add(
            meeting=meeting,
            patient=make_patient(unit.main, unit.users["nurse"]),
            reason="late",
            by=board.coordinator,
        )


def test_meeting_status_follows_planned_held_closed_and_bad_values_are_named(unit):
    from oncotrials.apps.mtb.services import meeting_create, meeting_update

    board = make_board(unit)
    m = meeting_create(site=unit.main, held_on=dt.date(2026, 9, 17), by=board.coordinator)
    with pytest.raises(ValidationError, match="planned → held → closed"):
        meeting_update(meeting=m, version=m.version, status="closed", by=board.coordinator)
    with pytest.raises(ValidationError, match="got 'cancelled'"):
        meeting_update(meeting=m, version=m.version, status="cancelled", by=board.coordinator)
    with pytest.raises(ConflictError):
        meeting_update(meeting=m, version=m.version + 3, status="held", by=board.coordinator)
    m.refresh_from_db()
    assert m.status == "planned"
    assert m.version == 1


def test_chair_and_attendees_must_be_staff_of_the_site(unit):
    from oncotrials.apps.mtb.models import MtbMeeting
    from oncotrials.apps.mtb.services import meeting_create

    board = make_board(unit)
    m = meeting_create(
        site=unit.main,
        held_on=dt.date(2026, 9, 17),
        chair=unit.users["investigator"],
        attendees=[board.coordinator, board.biologist],
        by=board.coordinator,
    )
    assert m.chair == unit.users["investigator"]
    assert {u.username for u in m.attendees.all()} == {"coordinator", "mtb_biologist"}
    for bad in (
        {"chair": unit.users["partner_investigator"]},
        {"attendees": [unit.users["monitor"]]},
    ):
        with pytest.raises(ValidationError, match="no membership at Main centre"):
            meeting_create(
                site=unit.main, held_on=dt.date(2026, 9, 24), by=board.coordinator, **bad
            )
    assert MtbMeeting.objects.count() == 1


def test_attendees_are_checked_in_one_query_whatever_their_number(unit):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from oncotrials.apps.mtb.services import meeting_create

    board = make_board(unit)
    # The organiser's own memberships are read on the first call: counted from the second on.
    meeting_create(site=unit.main, held_on=dt.date(2026, 9, 10), by=board.coordinator)
    counts = []
    for day, attendees in (
        (dt.date(2026, 9, 17), [board.coordinator]),
        (dt.date(2026, 9, 24), [board.coordinator, board.biologist, unit.users["nurse"]]),
    ):
        with CaptureQueriesContext(connection) as ctx:
            meeting_create(site=unit.main, held_on=day, attendees=attendees, by=board.coordinator)
        counts.append(sum("accounts_membership" in q["sql"] for q in ctx.captured_queries))
    assert counts[0] == counts[1]
    # A mix of members and an outsider names the first one who is not the site's staff.
    with pytest.raises(ValidationError, match="monitor has no membership"):
        meeting_create(
            site=unit.main,
            held_on=dt.date(2026, 10, 1),
            attendees=[board.coordinator, unit.users["monitor"], unit.users["outsider"]],
            by=board.coordinator,
        )


@pytest.mark.parametrize("who", ["nurse", "monitor", "outsider", "partner_investigator"])
def test_only_board_organisers_of_the_site_schedule_meetings(unit, who):
    from oncotrials.apps.mtb.models import MtbMeeting
    from oncotrials.apps.mtb.services import meeting_create

    make_board(unit)
    with pytest.raises(PermissionDeniedError):
        meeting_create(site=unit.main, held_on=dt.date(2026, 9, 17), by=unit.users[who])
    assert not MtbMeeting.objects.exists()


def test_a_case_by_hand_may_carry_the_patients_undiscussed_reports(unit, tmp_path):
    from oncotrials.apps.mtb.models import MtbCase
    from oncotrials.apps.mtb.services import agenda_build, case_add

    board = make_board(unit)
    p, q = (
        make_patient(unit.main, unit.users["nurse"]),
        make_patient(unit.main, unit.users["nurse"]),
    )
    mine = import_report(tmp_path, p, imported_at=aware(dt.date(2026, 9, 12)))
    theirs = import_report(tmp_path, q, imported_at=aware(dt.date(2026, 9, 12)))
    meeting = _meeting(board, dt.date(2026, 9, 17))
    with pytest.raises(ValidationError, match=f"Report {theirs.pk} is not a current report"):
        case_add(meeting=meeting, patient=p, reason="x", reports=[theirs], by=board.coordinator)
    case = case_add(meeting=meeting, patient=p, reason="x", reports=[mine], by=board.coordinator)
    assert [r.pk for r in case.reports.all()] == [mine.pk]
    later = _meeting(board, dt.date(2026, 9, 24))
    with pytest.raises(ConflictError, match="already discussed"):
        case_add(meeting=later, patient=p, reason="y", reports=[mine], by=board.coordinator)
    (built,) = agenda_build(meeting=meeting, by=board.coordinator)
    assert built.patient_id == q.pk
    assert MtbCase.objects.filter(meeting=later).count() == 0


def test_agenda_api_builds_and_lists_the_cases(unit, tmp_path, client_for):
    board = make_board(unit)
    p = make_patient(unit.main, unit.users["nurse"])
    report = import_report(tmp_path, p, imported_at=aware(dt.date(2026, 9, 12)), variants=G12C)
    meeting = _meeting(board, dt.date(2026, 9, 17))
    c = client_for("coordinator")
    built = c.post(f"/api/v1/mtb/meetings/{meeting.pk}/agenda")
    assert built.status_code == 200
    (case,) = built.json()
    assert case["research_id"] == p.research_id
    assert [r["id"] for r in case["reports"]] == [report.pk]
    assert c.get(f"/api/v1/mtb/meetings/{meeting.pk}/cases").json() == built.json()
    closed = c.patch(
        f"/api/v1/mtb/meetings/{meeting.pk}",
        '{"version": 1, "status": "closed"}',
        content_type="application/json",
    )
    assert closed.status_code == 422
    assert closed.json()["extra"]["field"] == "status"


def test_a_meeting_is_held_on_its_day_not_before(unit):
    from django.utils import timezone

    from oncotrials.apps.mtb.services import meeting_create, meeting_update

    board = make_board(unit)
    future = timezone.localdate() + dt.timedelta(days=7)
    m = meeting_create(site=unit.main, held_on=future, by=board.coordinator)
    with pytest.raises(ValidationError, match="has not taken place yet"):
        meeting_update(meeting=m, version=m.version, status="held", by=board.coordinator)
    m.refresh_from_db()
    assert m.status == "planned"
