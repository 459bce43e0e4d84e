"""A trial's declared visit schedule gives each registered patient a calendar; bad schedules are refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from oncotrials.apps.subjects.selectors import registration_calendar, visits_due
from oncotrials.apps.subjects.services import (
    registration_change_status,
    registration_create,
    visit_record,
)
from oncotrials.apps.trials.checks import visit_schedules_check
from oncotrials.apps.trials.services import schedule_set
from oncotrials.core.errors import ValidationError

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "formats" / "visit-schedule.example.yaml"


@pytest.fixture
def scheduled(journey, screen):
    doc = yaml.safe_load(EXAMPLE.read_text())
    schedule_set(trial=journey.cohort.trial, document=doc, by=journey.unit.users["admin"])
    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    reg = registration_change_status(
        registration=reg, to_status="on_treatment", on=dt.date(2026, 11, 13), by=nurse
    )
    return journey, reg, doc


def test_calendar_from_c1d1_with_a_recorded_visit(scheduled):
    journey, reg, _ = scheduled
    visit_record(
        registration=reg, code="C1D1", on=dt.date(2026, 11, 13), by=journey.unit.users["nurse"]
    )
    cal = registration_calendar(registration=reg, today=dt.date(2026, 11, 20))
    c1d1, c1d8 = cal.visit("C1D1"), cal.visit("C1D8")
    assert c1d1.status.value == "done"
    assert c1d8.target == dt.date(2026, 11, 20)  # C1D1 + 7 days
    assert c1d8.status.value == "due"
    rows = visits_due(user=journey.unit.users["nurse"], today=dt.date(2026, 11, 20))
    assert [
        (r["registration"].patient, r["visit"].code) for r in rows if r["visit"].code == "C1D8"
    ] == [(journey.patient, "C1D8")]
    assert (
        visits_due(user=journey.unit.users["partner_investigator"], today=dt.date(2026, 11, 20))
        == []
    )


def test_unknown_visit_codes_and_future_visits_are_refused(scheduled):
    journey, reg, _ = scheduled
    with pytest.raises(ValidationError, match="not in the schedule"):
        visit_record(
            registration=reg, code="C1D9", on=dt.date(2026, 11, 14), by=journey.unit.users["nurse"]
        )
    with pytest.raises(ValidationError, match="future"):
        visit_record(
            registration=reg, code="C1D8", on=dt.date(2026, 12, 14), by=journey.unit.users["nurse"]
        )


def test_a_schedule_with_errors_is_refused_whole(scheduled):
    journey, _, doc = scheduled
    bad = {**doc, "visits": doc["visits"] + [dict(doc["visits"][0])]}  # duplicate SCR
    with pytest.raises(ValidationError, match="error"):
        schedule_set(
            trial=journey.cohort.trial,
            document=bad,
            by=journey.unit.users["admin"],
            reason="amendment 3",
        )
    assert journey.cohort.trial.visit_schedule.version == 1


def test_start_up_check_reports_a_stored_schedule_gone_bad(scheduled):
    journey, _, doc = scheduled
    from oncotrials.apps.trials.models import VisitScheduleDefinition

    assert [m for m in visit_schedules_check(databases=["default"]) if m.level >= 40] == []
    bad = {**doc, "visits": doc["visits"] + [dict(doc["visits"][0])]}
    VisitScheduleDefinition.objects.filter(trial=journey.cohort.trial).update(document=bad)
    errors = [m for m in visit_schedules_check(databases=["default"]) if m.level >= 40]
    assert errors
    assert errors[0].id.startswith("oncotrials.E")
    assert journey.cohort.trial.protocol_code in errors[0].msg


def test_calendar_and_work_list_pages(scheduled, client_for):
    journey, _reg, _ = scheduled
    c = client_for("nurse")
    page = c.get(f"/patients/{journey.patient.pk}/").content.decode()
    assert "C1D8" in page
    assert "calendar" in page
    assert "C1D1" in c.get("/worklists/").content.decode()


def test_visit_codes_follow_an_amended_schedule(scheduled):
    """The codes a course lays out are computed once per parsed schedule and dates: an amended
    schedule is parsed anew, so a visit it drops is refused from then on."""
    from oncotrials.apps.subjects.models import Registration

    journey, reg, doc = scheduled
    nurse, admin = journey.unit.users["nurse"], journey.unit.users["admin"]
    on = dt.date(2026, 11, 13)
    visit_record(registration=reg, code="C1D1", on=on, by=nurse)
    days = doc["cycles"]["days"]
    amended = {**doc, "cycles": {**doc["cycles"], "days": [d for d in days if d["day"] != 15]}}
    schedule_set(trial=journey.cohort.trial, document=amended, by=admin, reason="amendment 3")
    reg = Registration.objects.get(pk=reg.pk)
    with pytest.raises(ValidationError, match="not in the schedule"):
        visit_record(registration=reg, code="C1D15", on=on, by=nurse)
    assert visit_record(registration=reg, code="C1D8", on=on, by=nurse).code == "C1D8"
    schedule_set(trial=journey.cohort.trial, document=doc, by=admin, reason="amendment 4")
    reg = Registration.objects.get(pk=reg.pk)
    assert visit_record(registration=reg, code="C1D15", on=on, by=nurse).code == "C1D15"
