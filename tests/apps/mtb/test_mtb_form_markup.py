"""The tumour-board forms (new meeting, case added by hand, recommendation, funnel filter) render
with the shared accessible fields: a refused submit shows the error summary, the field marked
``aria-invalid`` with its error beside it, the input kept and nothing saved; the kind of a
recommendation is the board's decision, never pre-selected."""

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
