"""The tumour-board forms (new meeting, case added by hand, chair and attendees, board judgement,
recommendation, its change and its signature, funnel filter) render with the shared accessible
fields: a refused submit shows the error summary, the field marked ``aria-invalid`` with its error
beside it, the input kept and nothing saved; the kind of a recommendation is the board's decision,
never pre-selected."""

from __future__ import annotations

import datetime as dt

import pytest
from mtb_board_helpers import G12C, aware, held_meeting, import_report, make_board, make_patient

from form_markup import form_html as _form
from form_markup import refused as _refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(unit, tmp_path):
    from oncotrials.apps.mtb.services import agenda_build

    b = make_board(unit)
    patient = make_patient(unit.main, unit.users["nurse"])
    import_report(tmp_path, patient, imported_at=aware(dt.date(2026, 9, 12)), variants=G12C)
    meeting = held_meeting(b, dt.date(2026, 9, 17), chair=unit.users["investigator"])
    (case,) = agenda_build(meeting=meeting, by=b.coordinator)
    return b, meeting, case


def test_a_new_board_meeting_without_date_is_refused_beside_the_field(board, client_for):
    from oncotrials.apps.mtb.models import MtbMeeting

    c = client_for("coordinator")
    before = MtbMeeting.objects.count()
    r = c.post("/mtb/", {"site": "main", "held_on": "", "title": "Thoracic board"})
    assert r.status_code == 422
    form = _form(r.content.decode(), "mtb-new-meeting")
    _refused(form, "id_held_on", kept='value="Thoracic board"')
    assert "Date of the meeting" in form
    assert MtbMeeting.objects.count() == before


def test_a_case_added_by_hand_names_the_unknown_patient_and_the_missing_reason(board, client_for):
    _b, meeting, _case = board
    r = client_for("coordinator").post(
        f"/mtb/meetings/{meeting.pk}/", {"action": "add", "research_id": "NOPE-1", "reason": ""}
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "mtb-add-case")
    _refused(form, "id_reason")
    r = client_for("coordinator").post(
        f"/mtb/meetings/{meeting.pk}/",
        {"action": "add", "research_id": "NOPE-1", "reason": "asked by Dr X"},
    )
    form = _form(r.content.decode(), "mtb-add-case")
    _refused(form, "id_research_id", kept='value="NOPE-1"')
    assert "No patient NOPE-1 that you may see." in form
    assert 'value="asked by Dr X"' in form
    c = client_for("coordinator")
    c.cookies["django_language"] = "fr"
    r = c.post(
        f"/mtb/meetings/{meeting.pk}/",
        {"action": "add", "research_id": "NOPE-1", "reason": "demandé par le Dr X"},
    )
    form = _form(r.content.decode(), "mtb-add-case")
    assert "Aucun patient NOPE-1 que vous puissiez consulter." in form
    assert 'value="demandé par le Dr X"' in form
    assert meeting.cases.count() == 1


def test_a_recommendation_has_no_preselected_kind_and_keeps_the_rationale(board, client_for):
    _b, _meeting, case = board
    c = client_for("coordinator")
    page = _form(c.get(f"/mtb/cases/{case.pk}/").content.decode(), "mtb-recommend")
    assert '<option value="" selected>—</option>' in page
    r = c.post(
        f"/mtb/cases/{case.pk}/",
        {"action": "recommend", "kind": "", "rationale": "KRAS G12C; discuss sotorasib"},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "mtb-recommend")
    _refused(form, "id_kind", kept="KRAS G12C; discuss sotorasib")
    assert case.recommendations.count() == 0


def test_the_funnel_filter_marks_a_reversed_period(board, client_for):
    r = client_for("coordinator").get("/mtb/funnel/?date_from=2026-10-01&date_to=2026-09-01")
    assert r.status_code == 422
    form = _form(r.content.decode(), "mtb-funnel-filter")
    assert 'role="alert"' in form
    assert "The end of the period is before its start." in form
    assert 'value="2026-10-01"' in form


def test_chair_and_attendees_outside_the_site_staff_are_refused_beside_the_field(
    board, unit, client_for
):
    _b, meeting, _case = board
    meeting.refresh_from_db()
    before = (meeting.version, meeting.chair_id, list(meeting.attendees.all()))
    c = client_for("coordinator")
    r = c.post(
        f"/mtb/meetings/{meeting.pk}/",
        {
            "action": "people",
            "version": meeting.version,
            "chair": "someone-else",
            "attendees": ["nurse"],
        },
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "mtb-people")
    _refused(form, "id_chair")
    # What was chosen is kept: the attendee stays selected.
    assert '<option value="nurse" selected>' in form
    meeting.refresh_from_db()
    assert (meeting.version, meeting.chair_id, list(meeting.attendees.all())) == before
    ok = c.post(
        f"/mtb/meetings/{meeting.pk}/",
        {"action": "people", "version": meeting.version, "chair": "", "attendees": ["nurse"]},
    )
    assert ok.status_code == 302
    assert list(meeting.attendees.values_list("username", flat=True)) == ["nurse"]


def test_a_stale_chair_and_attendees_form_is_refused_above_the_form(board, client_for):
    _b, meeting, _case = board
    meeting.refresh_from_db()
    r = client_for("coordinator").post(
        f"/mtb/meetings/{meeting.pk}/",
        {"action": "people", "version": meeting.version - 1, "attendees": ["nurse"]},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "mtb-people")
    assert 'data-testid="error-summary"' in form
    assert "reload it" in form
    assert meeting.attendees.count() == 0


def test_the_board_judgement_keeps_the_notes_when_refused(board, client_for):
    _b, _meeting, case = board
    case.refresh_from_db()
    notes = "Discussed: " + "x" * 4000
    r = client_for("coordinator").post(
        f"/mtb/cases/{case.pk}/",
        {"action": "actionable", "version": case.version, "actionable": "yes", "notes": notes},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "mtb-judgement")
    _refused(form, "id_judgement_notes", kept=notes)
    assert '<option value="yes" selected>' in form
    case.refresh_from_db()
    assert case.actionable is None
    assert case.notes == ""


def test_a_recommendation_change_without_reason_keeps_the_new_rationale(board, client_for):
    from oncotrials.apps.mtb.services import recommendation_create

    b, _meeting, case = board
    rec = recommendation_create(
        case=case,
        kind="off_label_therapy",
        therapy="sotorasib",
        rationale="KRAS G12C; no trial open.",
        by=b.coordinator,
    )
    c = client_for("coordinator")
    r = c.post(
        f"/mtb/recommendations/{rec.pk}/edit/",
        {"version": rec.version, "rationale": "Completed rationale", "therapy": "adagrasib"},
    )
    assert r.status_code == 422
    html = r.content.decode()
    form = _form(html, f"mtb-edit-{rec.pk}")
    _refused(form, f"id_rec{rec.pk}_reason", kept="Completed rationale")
    assert 'value="adagrasib"' in form
    assert html.count('data-testid="error-summary"') == 1
    rec.refresh_from_db()
    assert (rec.rationale, rec.therapy) == ("KRAS G12C; no trial open.", "sotorasib")
    c.cookies["django_language"] = "fr"
    r = c.post(
        f"/mtb/recommendations/{rec.pk}/edit/",
        {"version": rec.version, "rationale": "", "reason": "complété"},
    )
    form = _form(r.content.decode(), f"mtb-edit-{rec.pk}")
    _refused(form, f"id_rec{rec.pk}_rationale", kept='value="complété"')
    assert "Ce champ est obligatoire." in form
    assert "Motif de la modification" in form


def test_a_wrong_signing_password_is_refused_beside_the_password(board, unit, client_for):
    from oncotrials.apps.mtb.selectors import signature_view
    from oncotrials.apps.mtb.services import recommendation_create

    b, _meeting, case = board
    rec = recommendation_create(
        case=case,
        kind="off_label_therapy",
        therapy="sotorasib",
        rationale="KRAS G12C; no trial open.",
        by=b.coordinator,
    )
    c = client_for("investigator")
    meaning = "Approved for the board after discussion"
    r = c.post(f"/mtb/recommendations/{rec.pk}/sign/", {"meaning": meaning, "password": "nope"})
    assert r.status_code == 422
    form = _form(r.content.decode(), f"mtb-sign-{rec.pk}")
    _refused(form, f"id_sign{rec.pk}_password", kept=f'value="{meaning}"')
    assert "password does not match" in form
    assert 'value="nope"' not in form  # a password is never sent back
    r = c.post(f"/mtb/recommendations/{rec.pk}/sign/", {"meaning": "", "password": "x"})
    assert r.status_code == 422
    _refused(_form(r.content.decode(), f"mtb-sign-{rec.pk}"), f"id_sign{rec.pk}_meaning")
    c.cookies["django_language"] = "fr"
    r = c.post(f"/mtb/recommendations/{rec.pk}/sign/", {"meaning": "", "password": "x"})
    form = _form(r.content.decode(), f"mtb-sign-{rec.pk}")
    assert "Signification de la signature" in form
    assert "Ce champ est obligatoire." in form
    rec.refresh_from_db()
    assert not signature_view(rec).signed


def test_a_refused_status_step_is_told_in_the_summary_of_its_button(board, client_for):
    from oncotrials.apps.mtb.models import MtbMeeting
    from oncotrials.apps.mtb.services import meeting_create

    b, _meeting, _case = board
    later = meeting_create(
        site=b.unit.main, held_on=dt.date(2099, 3, 4), by=b.coordinator, title="Later"
    )
    c = client_for("coordinator")
    c.cookies["django_language"] = "fr"
    r = c.post(
        f"/mtb/meetings/{later.pk}/",
        {"action": "status", "status": "held", "version": str(later.version)},
    )
    assert r.status_code == 422
    html = r.content.decode()
    form = _form(html, "mtb-status-held")
    assert 'role="alert"' in form
    assert 'data-testid="error-summary"' in form
    assert "La réunion du 2099-03-04 n’a pas encore eu lieu" in form
    assert html.count('data-testid="error-summary"') == 1
    assert MtbMeeting.objects.get(pk=later.pk).status == "planned"
    # A stale page: the meeting changed meanwhile, said in the same place.
    r = c.post(
        f"/mtb/meetings/{later.pk}/",
        {"action": "status", "status": "held", "version": str(later.version + 5)},
    )
    assert r.status_code == 422
    assert "modifié entre-temps" in _form(r.content.decode(), "mtb-status-held")
    # A status that is not one: refused without a traceback, nothing changed.
    r = c.post(
        f"/mtb/meetings/{later.pk}/", {"action": "status", "status": "bogus", "version": "0"}
    )
    assert r.status_code == 422
    assert MtbMeeting.objects.get(pk=later.pk).status == "planned"
