"""The audit trail records who, what, when, why and how; it is append-only and hash-chained."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.audit.services import audit_verify
from oncotrials.apps.trials.services import trial_update


def test_every_write_of_the_fixture_is_chained_and_verifies(unit):
    report = audit_verify()
    assert report.ok, report
    assert report.events == AuditEvent.objects.count() > 10


def test_update_records_old_and_new_values_reason_actor_and_channel(unit, client_for):
    trial = unit.trial_main
    response = client_for("investigator").patch(
        f"/api/v1/trials/{trial.pk}",
        json.dumps(
            {"expected_version": 1, "reason": "Sponsor renamed the study", "title": "Renamed"}
        ),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.filter(
        object_type="trials.trial", object_id=str(trial.pk), action="update"
    ).get()
    assert event.changes == {"title": ["Trial T-MAIN", "Renamed"]}
    assert event.reason == "Sponsor renamed the study"
    assert event.actor_username == "investigator"
    assert event.channel == "api"
    assert event.occurred_at.utcoffset().total_seconds() == 0
    assert trial.history.count() == 2  # row history beside the event


def test_change_without_reason_is_refused_and_changes_nothing(unit):
    from oncotrials.core.errors import ValidationError

    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="reason"):
        trial_update(
            trial=unit.trial_main,
            changes={"title": "x"},
            by=unit.users["admin"],
            reason=" ",
            expected_version=1,
        )
    unit.trial_main.refresh_from_db()
    assert unit.trial_main.title == "Trial T-MAIN"
    assert AuditEvent.objects.count() == before


def test_stale_edit_is_a_conflict_never_a_lost_update(unit):
    from oncotrials.core.errors import ConflictError

    admin = unit.users["admin"]
    trial_update(
        trial=unit.trial_main, changes={"title": "First"}, by=admin, reason="r1", expected_version=1
    )
    with pytest.raises(ConflictError, match="changed by someone else"):
        trial_update(
            trial=unit.trial_main,
            changes={"title": "Second"},
            by=admin,
            reason="r2",
            expected_version=1,
        )
    unit.trial_main.refresh_from_db()
    assert unit.trial_main.title == "First"


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # A superuser bypassing triggers: what the hash chain exists to catch.
            cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(sql, params)
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL session_replication_role = origin")


def test_tampering_with_an_event_is_detected_at_that_event(unit):
    victim = AuditEvent.objects.order_by("seq")[4]
    _tamper("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["forged", victim.pk])
    report = audit_verify()
    assert not report.ok
    assert report.first_broken_seq == victim.seq
    assert "no longer matches" in report.problem


def test_deleting_an_event_is_detected(unit):
    victim = AuditEvent.objects.order_by("seq")[3]
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk])
    report = audit_verify()
    assert not report.ok
    assert report.first_broken_seq == victim.seq


def test_truncating_the_tail_is_detected(unit):
    last = AuditEvent.objects.order_by("-seq").first()
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [last.pk])
    report = audit_verify()
    assert not report.ok
    assert report.first_broken_seq == last.seq


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)
def test_postgresql_refuses_update_and_delete_of_audit_events(unit):
    event = AuditEvent.objects.first()
    for statement in (
        "UPDATE audit_auditevent SET reason = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(statement, [event.pk])
    assert audit_verify().ok


def test_admin_edit_requires_a_reason_and_is_audited(unit, client_for):
    from django.contrib.auth import get_user_model

    admin = unit.users["admin"]
    get_user_model().objects.filter(pk=admin.pk).update(is_staff=True, is_superuser=True)
    c = client_for("admin")
    url = f"/admin/trials/cohort/{unit.trial_main.cohorts.get().pk}/change/"
    form = {
        "trial": unit.trial_main.pk,
        "code": "ESC",
        "name": "Escalation part",
        "kind": "escalation",
        "description": "",
        "target_accrual": "",
        "is_open": "on",
    }
    r = c.post(url, form)
    assert r.status_code == 200
    assert b"Reason for change" in r.content
    r = c.post(url, {**form, "change_reason": "Protocol amendment 3"})
    assert r.status_code == 302
    event = AuditEvent.objects.filter(object_type="trials.cohort", action="update").get()
    assert event.channel == "admin"
    assert event.reason == "Protocol amendment 3"
    assert event.changes["name"] == ["Escalation", "Escalation part"]
    assert audit_verify().ok
