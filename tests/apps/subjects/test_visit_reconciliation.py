"""One source of truth for a visit's status: the calendar reconciles the visits recorded with
the screening, the end of treatment, the visits marked not done / not applicable, and the
adverse events and tumour assessments the higher apps hold; the patient page, the work list and
the casebook all read it.

Time is frozen on 2026-11-20 (``journey``); the patient was screened eligible on 11-10,
registered on 11-12 and started treatment (C1D1) on 11-13.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from form_markup import form_html as _form
from form_markup import refused as _refused
from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.subjects.models import VisitRecord
from oncotrials.apps.subjects.selectors import registration_calendar, visits_due
from oncotrials.apps.subjects.services import (
    registration_change_status,
    registration_create,
    visit_mark,
    visit_record,
)
from oncotrials.apps.trials.services import schedule_set
from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "formats" / "visit-schedule.example.yaml"
C1D1 = dt.date(2026, 11, 13)


@pytest.fixture
def reg(journey, screen):
    schedule_set(
        trial=journey.cohort.trial,
        document=yaml.safe_load(EXAMPLE.read_text()),
        by=journey.unit.users["admin"],
    )
    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    r = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    r = registration_change_status(registration=r, to_status="on_treatment", on=C1D1, by=nurse)
    visit_record(registration=r, code="C1D1", on=C1D1, by=nurse)
    return r


def _clock(monkeypatch, day):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: day)


def _due(journey, today):
    return [r["visit"].code for r in visits_due(user=journey.unit.users["nurse"], today=today)]


def test_the_screening_visit_is_done_once_registered(journey, reg):
    scr = registration_calendar(registration=reg).visit("SCR")
    assert (scr.status.value, scr.done_on, scr.source) == (
        "done",
        dt.date(2026, 11, 10),
        "screening",
    )
    assert "SCR" not in _due(journey, dt.date(2026, 11, 20))


def test_cycle_visits_after_end_of_treatment_are_not_expected(journey, reg, monkeypatch):
    nurse = journey.unit.users["nurse"]
    reg = registration_change_status(
        registration=reg,
        to_status="end_of_treatment",
        on=dt.date(2026, 11, 18),
        by=nurse,
        reason="progression",
    )
    _clock(monkeypatch, dt.date(2026, 11, 19))
    reg = registration_change_status(
        registration=reg, to_status="follow_up", on=dt.date(2026, 11, 19), by=nurse
    )
    later = dt.date(2027, 1, 30)
    cal = registration_calendar(registration=reg, today=later)
    # The end of treatment is the day of that change, not the later follow-up date.
    assert cal.end_of_treatment == dt.date(2026, 11, 18)
    assert {"C1D8", "C1D15", "C2D1", "IMG1"}.isdisjoint(v.code for v in cal.visits)
    assert _due(journey, later) == ["EOT"]


def test_end_of_treatment_and_follow_up_visits_are_recorded_once_treatment_ended(
    journey, reg, monkeypatch
):
    nurse = journey.unit.users["nurse"]
    with pytest.raises(ValidationError, match="not in the schedule"):
        visit_record(registration=reg, code="EOT", on=dt.date(2026, 11, 20), by=nurse)
    reg = registration_change_status(
        registration=reg,
        to_status="end_of_treatment",
        on=dt.date(2026, 11, 18),
        by=nurse,
        reason="progression",
    )
    later = dt.date(2027, 3, 1)
    _clock(monkeypatch, later)
    eot = registration_calendar(registration=reg, today=later).visit("EOT")
    visit_record(registration=reg, code="EOT", on=eot.target, by=nurse)
    fu1 = registration_calendar(registration=reg, today=later).visit("FU1")
    visit_record(registration=reg, code="FU1", on=fu1.target, by=nurse)
    # a treatment visit done before the end of treatment can still be recorded late
    visit_record(registration=reg, code="C1D8", on=dt.date(2026, 11, 20), by=nurse)
    cal = registration_calendar(registration=reg, today=later)
    assert {v.code: v.status.value for v in cal.visits}["EOT"] == "done"
    assert cal.visit("FU1").status.value == "done"
    assert cal.visit("C1D8").status.value == "done"
    assert "EOT" not in _due(journey, later)


def test_an_imaging_visit_is_done_by_a_tumour_assessment_in_its_window(journey, reg, monkeypatch):
    from oncotrials.apps.crfs.selectors import casebook
    from oncotrials.apps.tumours.services import assessment_save, baseline_save

    nurse = journey.unit.users["nurse"]
    _clock(monkeypatch, dt.date(2027, 1, 10))
    lesions = [{"lesion_id": "T1", "organ": "liver", "role": "target", "diameter_mm": "30"}]
    baseline_save(
        registration=reg, date=dt.date(2026, 11, 5), method="CT", lesions=lesions, by=nurse
    )
    today = dt.date(2027, 1, 10)
    assert "IMG1" in _due(journey, today)  # IMG1: 12-25, window 12-18..12-28, overdue
    assessment_save(
        registration=reg,
        date=dt.date(2026, 12, 20),
        measurements=[{"lesion_id": "T1", "diameter_mm": "25"}],
        by=nurse,
    )
    img = registration_calendar(registration=reg, today=today).visit("IMG1")
    assert (img.status.value, img.done_on, img.source) == ("done", dt.date(2026, 12, 20), "recist")
    assert "IMG1" not in _due(journey, today)
    book = {v.code: v for v in casebook(registration=reg, today=today)}
    assert book["IMG1"].visit_status == "done"
    assert {f.name: f.status for f in book["IMG1"].forms}["recist"] == "recorded"


def test_an_adverse_event_of_the_cycle_keeps_its_ae_log(journey, reg):
    from oncotrials.apps.crfs.selectors import casebook
    from oncotrials.apps.safety.services import adverse_event_create

    book = {v.code: v for v in casebook(registration=reg)}
    assert {f.name: f.status for f in book["C1D1"].forms}["adverse_events"] == "missing"
    adverse_event_create(
        registration=reg,
        data={"term": "Colitis", "grade": 2, "onset_date": "2026-11-16"},
        by=journey.unit.users["nurse"],
    )
    book = {v.code: v for v in casebook(registration=reg)}
    for code in ("C1D1", "C1D8"):  # cycle 1 runs from 11-13
        assert {f.name: f.status for f in book[code].forms}["adverse_events"] == "recorded"
    # An onset on day 4 is no visit on day 8: C1D8 is still due today.
    assert book["C1D8"].visit_status == "due"


def test_a_visit_marked_not_done_leaves_the_work_list_with_its_reason_audited(journey, reg):
    nurse = journey.unit.users["nurse"]
    later = dt.date(2026, 11, 25)
    assert "C1D8" in _due(journey, later)
    with pytest.raises(ValidationError, match="reason"):
        visit_mark(registration=reg, code="C1D8", outcome="not_done", reason=" ", by=nurse)
    mark = visit_mark(
        registration=reg, code="C1D8", outcome="not_done", reason="patient hospitalised", by=nurse
    )
    assert "C1D8" not in _due(journey, later)
    cal = registration_calendar(registration=reg, today=later)
    assert cal.visit("C1D8").status.value == "not_done"
    event = AuditEvent.objects.get(object_type="subjects.visitrecord", object_id=str(mark.pk))
    assert event.reason == "patient hospitalised"
    assert event.changes["outcome"] == [None, "not_done"]
    # Marked again (not applicable), then done after all: each change is audited.
    visit_mark(
        registration=reg, code="C1D8", outcome="not_applicable", reason="amendment 3", by=nurse
    )
    visit_record(registration=reg, code="C1D8", on=dt.date(2026, 11, 20), by=nurse)
    assert VisitRecord.objects.get(pk=mark.pk).outcome == "done"
    assert (
        AuditEvent.objects.filter(
            object_type="subjects.visitrecord", object_id=str(mark.pk)
        ).count()
        == 3
    )


def test_a_done_visit_cannot_be_marked_and_a_monitor_cannot_mark(journey, reg):
    with pytest.raises(ConflictError, match="recorded as done"):
        visit_mark(
            registration=reg,
            code="C1D1",
            outcome="not_done",
            reason="x",
            by=journey.unit.users["nurse"],
        )
    with pytest.raises(ValidationError, match="not in the schedule"):
        visit_mark(
            registration=reg,
            code="C9D9",
            outcome="not_done",
            reason="x",
            by=journey.unit.users["nurse"],
        )
    with pytest.raises(PermissionDeniedError):
        visit_mark(
            registration=reg,
            code="C1D8",
            outcome="not_done",
            reason="x",
            by=journey.unit.users["monitor"],
        )


def test_the_patient_page_marks_a_visit(journey, reg, client_for):
    c = client_for("nurse")
    page = c.get(f"/patients/{journey.patient.pk}/").content.decode()
    assert f'data-testid="mark-{reg.pk}-C1D8"' in page
    assert f'data-testid="mark-{reg.pk}-C1D1"' not in page  # done: nothing to mark
    r = c.post(
        f"/patients/{journey.patient.pk}/journey/visit-mark/",
        {
            "registration": reg.pk,
            "code": "C1D8",
            "outcome": "not_applicable",
            "reason": "cohort B only",
        },
    )
    assert r.status_code == 302
    page = c.get(f"/patients/{journey.patient.pk}/").content.decode()
    assert '<span class="status v-not_applicable">Not applicable</span>' in page  # words, not code
    assert "cohort B only" in page
    assert "Visit C1D8 marked “Not applicable”." in page
    # Without a reason nothing is saved: the page comes back with the error in the visit's own
    # row, the chosen mark kept; another site's user cannot reach the patient.
    r = c.post(
        f"/patients/{journey.patient.pk}/journey/visit-mark/",
        {"registration": reg.pk, "code": "C1D15", "outcome": "not_applicable", "reason": ""},
    )
    assert r.status_code == 422
    row = _form(r.content.decode(), f"mark-{reg.pk}-C1D15")
    _refused(row, "visit-mark-reason")
    assert 'aria-label="Reason (C1D15)"' in row
    assert '<option value="not_applicable" selected>' in row
    assert r.content.decode().count('aria-invalid="true"') == 1  # no other row is marked
    assert not VisitRecord.objects.filter(code="C1D15").exists()
    other = client_for("partner_investigator").post(
        f"/patients/{journey.patient.pk}/journey/visit-mark/",
        {"registration": reg.pk, "code": "C1D15", "outcome": "not_done", "reason": "x"},
    )
    assert other.status_code == 404


def test_the_patient_page_says_in_words_what_made_a_visit_done(journey, reg, client_for):
    """The calendar of the patient page says what made a visit done in the reader's language
    (the screening here), never the calendar's code."""
    c = client_for("nurse")
    url = f"/patients/{journey.patient.pk}/"
    english = c.get(url).content.decode()
    row = english.split('data-visit="SCR"', 1)[1].split("</tr>", 1)[0]
    assert '<small data-testid="visit-source">(at screening)</small>' in row
    c.cookies["django_language"] = "fr"
    french = c.get(url).content.decode()
    row = french.split('data-visit="SCR"', 1)[1].split("</tr>", 1)[0]
    assert '<small data-testid="visit-source">(au screening)</small>' in row
    assert "(screening)" not in row


def test_every_source_of_a_done_visit_has_its_words():
    """The codes the calendar and the higher apps' evidence give (``ExpectedVisit.source``) are
    worded in both languages; a form of the schedule is named as such."""
    from django.utils import translation

    from oncotrials.apps.subjects.templatetags.visits import SOURCE_LABELS, visit_source

    assert set(SOURCE_LABELS) == {"visit", "screening", "forms", "recist", "adverse_events"}
    with translation.override("en"):
        english = {code: visit_source(code) for code in SOURCE_LABELS}
        assert english["recist"] == "tumour assessment"
        assert visit_source("vitals") == "form vitals"
        assert visit_source("") == ""
    with translation.override("fr"):
        french = {code: visit_source(code) for code in SOURCE_LABELS}
        assert french["recist"] == "évaluation tumorale"
        assert french["adverse_events"] == "événement indésirable"
        assert visit_source("vitals") == "formulaire vitals"
    assert all(french[code] != english[code] != code for code in SOURCE_LABELS)
