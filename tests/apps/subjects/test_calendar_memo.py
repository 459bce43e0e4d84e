"""The work list recomputes only the calendars whose inputs changed: an unchanged registration's
calendar is the one computed before, and a visit recorded, a form saved or a status change shows
at once."""

from __future__ import annotations

import datetime as dt

from oncotrials.apps.subjects.selectors import registrations_visible_to, visits_due

TODAY = dt.date(2026, 11, 20)


def _due(user):
    return {(r["registration"].pk, r["visit"].code): r["visit"] for r in visits_due(user=user)}


def test_unchanged_calendars_are_reused_and_changes_show_at_once(journey, enrol):
    from oncotrials.apps.crfs.services import administration_record
    from oncotrials.apps.subjects.services import registration_change_status, visit_record

    nurse = journey.unit.users["nurse"]
    first, second = enrol(2)
    before = _due(nurse)
    assert (first.pk, "C1D8") in before
    assert (second.pk, "C1D8") in before
    again = _due(nurse)
    assert again == before
    assert again[(second.pk, "C1D8")] is before[(second.pk, "C1D8")]  # not recomputed

    visit_record(registration=first, code="C1D8", on=TODAY, by=nurse)
    after = _due(nurse)
    assert (first.pk, "C1D8") not in after
    assert after[(second.pk, "C1D8")] is before[(second.pk, "C1D8")]

    # A dose recorded for the visit attests it (the evidence changed, not the visit records).
    administration_record(
        registration=second,
        agent="Drug B",
        dose="50",
        unit="mg",
        administered_on=TODAY,
        visit_code="C1D8",
        by=nurse,
    )
    assert (second.pk, "C1D8") not in _due(nurse)

    # Treatment ended the day before: its C1D8 is no longer expected, although the registration's
    # visits did not change (its status history did).
    third = enrol(1)[0]
    assert (third.pk, "C1D8") in _due(nurse)
    registration_change_status(
        registration=third,
        to_status="end_of_treatment",
        on=TODAY - dt.timedelta(days=1),
        by=nurse,
        reason="Progression",
    )
    assert registrations_visible_to(nurse).filter(pk=third.pk).exists()
    assert (third.pk, "C1D8") not in _due(nurse)


def test_a_target_range_reads_the_evidence_of_the_registrations_it_may_list_only(
    journey, enrol, monkeypatch
):
    from oncotrials.apps.crfs.services import administration_record
    from oncotrials.apps.subjects import visit_evidence
    from oncotrials.apps.subjects.selectors import VisitFilters
    from oncotrials.apps.subjects.services import visit_record

    nurse = journey.unit.users["nurse"]
    recorded, attested, due = enrol(3)  # each with C1D8 due today
    visit_record(registration=recorded, code="C1D8", on=TODAY, by=nurse)
    administration_record(
        registration=attested,
        agent="Drug B",
        dose="50",
        unit="mg",
        administered_on=TODAY,
        visit_code="C1D8",
        by=nurse,
    )
    everything = visits_due(user=nurse, today=TODAY)
    asked: list[list[int]] = []

    def recording(provider):
        def read(ids):
            asked.append(sorted(ids))
            return provider(ids)

        return read

    monkeypatch.setattr(
        visit_evidence, "PROVIDERS", [recording(p) for p in visit_evidence.PROVIDERS]
    )
    today_only = visits_due(
        user=nurse, today=TODAY, filters=VisitFilters(target_from=TODAY, target_to=TODAY)
    )
    # The rows of the whole list due today, the dose attesting C1D8 of the second...
    assert today_only == [r for r in everything if r["visit"].target == TODAY]
    assert [(r["registration"].pk, r["visit"].code) for r in today_only] == [(due.pk, "C1D8")]
    # ... but the evidence of the first, whose visits of today were all recorded, was not read.
    assert asked
    assert all(ids == sorted([attested.pk, due.pk]) for ids in asked)
