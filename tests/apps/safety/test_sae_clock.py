"""A serious AE starts the 24-hour sponsor-reporting clock; new information starts a follow-up clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from oncotrials.apps.safety.models import SaeReport
from oncotrials.apps.safety.selectors import sae_worklist
from oncotrials.apps.safety.services import (
    adverse_event_create,
    adverse_event_update,
    sae_report_record,
)
from oncotrials.core.errors import ConflictError, ValidationError


class Clock:
    """A frozen ``timezone.now`` that the test moves by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self.t = start

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, **delta: float) -> None:
        self.t += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    # Start after the personas' memberships began (they are valid from their creation).
    start = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)
    c = Clock(start)
    monkeypatch.setattr(timezone, "now", c)
    return c


def _serious(safety, complete_ae, **extra):
    return adverse_event_create(
        registration=safety.registration,
        data=complete_ae(seriousness=["hospitalisation"], **extra),
        by=safety.users["nurse"],
        complete=True,
    )


def test_a_serious_ae_is_due_24_hours_after_awareness_and_then_overdue(
    safety, complete_ae, clock, client_for
):
    t0 = clock.t
    ae = _serious(safety, complete_ae)
    assert ae.sae_aware_at == t0
    clock.advance(hours=23)
    (row,) = sae_worklist(user=safety.users["investigator"])
    assert row.kind == "initial"
    assert row.due_at == t0 + dt.timedelta(hours=24)
    assert row.overdue is False
    assert row.hours_left == 1.0
    clock.advance(hours=2)
    got = client_for("investigator").get("/api/v1/safety/sae-worklist").json()
    assert [(r["adverse_event_id"], r["kind"], r["overdue"]) for r in got] == [
        (ae.pk, "initial", True)
    ]
    assert got[0]["hours_left"] == -1.0
    page = client_for("investigator").get("/safety/").content.decode()
    assert "overdue" in page
    assert "Colitis" in page


def test_the_awareness_time_can_be_given_and_the_clock_runs_from_it(safety, complete_ae, clock):
    aware = clock.t - dt.timedelta(hours=30)
    _serious(safety, complete_ae, awareness_at=aware.isoformat())
    (row,) = sae_worklist(user=safety.users["nurse"])
    assert row.due_at == aware + dt.timedelta(hours=24)
    assert row.overdue is True


def test_non_serious_aes_are_not_on_the_clock(safety, complete_ae, clock):
    ae = adverse_event_create(
        registration=safety.registration,
        data=complete_ae(),
        by=safety.users["nurse"],
        complete=True,
    )
    assert ae.sae_aware_at is None
    assert sae_worklist(user=safety.users["nurse"]) == []
    with pytest.raises(ValidationError, match="not serious"):
        sae_report_record(ae=ae, kind="initial", sent_at=clock.t, by=safety.users["nurse"])


def test_the_initial_report_stops_the_clock_and_records_whether_it_was_late(
    safety, complete_ae, clock, client_for, send
):
    t0 = clock.t
    ae = _serious(safety, complete_ae)
    clock.advance(hours=30)
    r = send(
        client_for("nurse"),
        f"/api/v1/safety/adverse-events/{ae.pk}/sae-reports",
        {"kind": "initial", "sent_at": (t0 + dt.timedelta(hours=26)).isoformat()},
    )
    assert r.status_code == 201
    assert r.json()["late"] is True
    assert r.json()["due_at"].startswith((t0 + dt.timedelta(hours=24)).date().isoformat())
    assert sae_worklist(user=safety.users["nurse"]) == []
    with pytest.raises(ConflictError, match="already been recorded"):
        sae_report_record(ae=ae, kind="initial", sent_at=clock.t, by=safety.users["nurse"])


def test_new_information_on_a_reported_sae_starts_a_follow_up_clock(safety, complete_ae, clock):
    nurse = safety.users["nurse"]
    ae = _serious(safety, complete_ae)
    clock.advance(hours=3)
    sae_report_record(ae=ae, kind="initial", sent_at=clock.t, by=nurse)
    clock.advance(days=2)
    changed_at = clock.t
    adverse_event_update(
        ae=ae,
        data=complete_ae(
            seriousness=["hospitalisation"],
            outcome="recovered",
            resolution_date="2026-11-19",
        ),
        version=1,
        by=nurse,
        complete=True,
        reason="discharged",
    )
    (row,) = sae_worklist(user=nurse)
    assert row.kind == "follow_up"
    assert row.due_at == changed_at + dt.timedelta(hours=24)
    clock.advance(hours=5)
    report = sae_report_record(ae=ae, kind="follow_up", sent_at=clock.t, by=nurse)
    assert (report.sequence, report.late) == (2, False)
    assert sae_worklist(user=nurse) == []
    assert SaeReport.objects.filter(adverse_event=ae).count() == 2


def test_a_report_cannot_be_sent_before_awareness_or_in_the_future(safety, complete_ae, clock):
    nurse = safety.users["nurse"]
    ae = _serious(safety, complete_ae)
    with pytest.raises(ValidationError, match="before the site became aware"):
        sae_report_record(ae=ae, kind="initial", sent_at=clock.t - dt.timedelta(hours=1), by=nurse)
    with pytest.raises(ValidationError, match="future"):
        sae_report_record(ae=ae, kind="initial", sent_at=clock.t + dt.timedelta(hours=1), by=nurse)
    assert not SaeReport.objects.exists()
