"""Verify on a live system, keys and settings, partitions, and the row digests of --rows."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection, transaction

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.audit.services import audit_record, audit_verify

PG = connection.vendor == "postgresql"


@pytest.mark.django_db(transaction=True)
def test_verify_while_writers_append_raises_no_false_alarm():
    if not PG:
        pytest.skip("one repeatable-read snapshot: PostgreSQL (SQLite serialises its writers)")
    stop = threading.Event()
    written: list[int] = []
    failures: list[BaseException] = []

    def writer(partition: str) -> None:
        try:
            n = 0
            while not stop.is_set():
                with transaction.atomic():
                    for _ in range(3):
                        audit_record(
                            action="update",
                            object_type="tests.thing",
                            object_id=str(n),
                            partition=partition,
                        )
                        n += 1
            written.append(n)
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(p,)) for p in ("global", "trial-1")]
    for t in threads:
        t.start()
    reports = []
    try:
        while AuditEvent.objects.count() < 30:  # the writers are under way
            time.sleep(0.01)
        while len(reports) < 8:
            reports.append(audit_verify())
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert [r for r in reports if not r.ok] == []
    assert reports[-1].events > reports[0].events > 0  # writes went on meanwhile
    final = audit_verify()
    assert final.ok
    assert final.events == sum(written) == AuditEvent.objects.count()


def test_progress_is_reported_up_to_the_total(unit):
    seen: list[tuple[int, int]] = []
    report = audit_verify(progress=lambda done, total: seen.append((done, total)), batch_size=5)
    assert report.ok
    assert seen[0] == (0, report.events)
    assert seen[-1] == (report.events, report.events)
    assert len(seen) > 3


def test_events_go_to_their_trial_chain_and_each_chain_counts_from_one(unit, journey):
    trial = unit.trial_main
    chain = AuditEvent.objects.filter(partition=f"trial-{trial.pk}").order_by("seq")
    assert chain.exists()
    assert list(chain.values_list("seq", flat=True)) == list(range(1, chain.count() + 1))
    assert {e.object_type for e in chain} >= {"trials.trial", "trials.cohort", "trials.doselevel"}
    assert AuditEvent.objects.filter(partition="global", object_type="accounts.user").exists()
    patient_events = AuditEvent.objects.filter(
        object_type="subjects.patient", object_id=str(journey.patient.pk)
    )
    assert {e.partition for e in patient_events} == {f"site-{journey.patient.site_id}"}
    report = audit_verify()
    assert report.ok
    assert report.partitions >= 5


def test_an_event_is_sealed_with_the_current_key_and_an_unknown_key_cannot_be_verified(
    unit, settings
):
    assert set(AuditEvent.objects.values_list("key_id", flat=True)) == {settings.AUDIT_KEY_ID}
    # Rotation: a new current key; the old one stays in the keyring and still verifies.
    settings.AUDIT_KEYS = {**settings.AUDIT_KEYS, "k2": b"another-key-of-32-characters-or-more"}
    old = settings.AUDIT_KEY_ID
    settings.AUDIT_KEY_ID = "k2"
    event = audit_record(action="update", instance=unit.trial_main, reason="after rotation")
    assert event.key_id == "k2"
    assert audit_verify().ok
    settings.AUDIT_KEYS = {"k2": settings.AUDIT_KEYS["k2"]}  # the old key lost
    report = audit_verify()
    assert not report.ok
    assert report.status == "unverifiable"
    assert report.exit_code == 2
    assert repr(old) in report.problem


def _settings_import(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ONCOTRIALS_", "DATABASE"))}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import oncotrials.web.settings as s; print(s.AUDIT_KEY_ID, sorted(s.AUDIT_KEYS))",
        ],
        env={**clean, "ONCOTRIALS_SECRET_KEY": "s" * 50, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_an_audit_key(tmp_path):
    refused = _settings_import({})
    assert refused.returncode != 0
    assert "ONCOTRIALS_AUDIT_KEY (or ONCOTRIALS_AUDIT_KEY_FILE) is required" in refused.stderr
    short = _settings_import({"ONCOTRIALS_AUDIT_KEY": "k1:short"})
    assert "needs 32 characters" in short.stderr
    keyfile = tmp_path / "audit-keys"
    keyfile.write_text(f"# rotated yearly\nk2025:{'a' * 40}\nk2026:{'b' * 40}\n")
    ring = _settings_import({"ONCOTRIALS_AUDIT_KEY_FILE": str(keyfile)})
    assert ring.returncode == 0, ring.stderr
    assert ring.stdout.split(maxsplit=1) == ["k2026", "['k2025', 'k2026']\n"]
    debug = _settings_import({"ONCOTRIALS_DEBUG": "1"})
    assert debug.stdout.startswith("dev-derived")


def test_the_development_key_is_flagged_by_the_system_checks(settings):
    from oncotrials.apps.audit.checks import audit_key_check

    settings.TESTING = False
    assert [m.id for m in audit_key_check()] == ["audit.W001"]
    settings.AUDIT_KEY_DERIVED = False
    assert audit_key_check() == []


# --- Row integrity -------------------------------------------------------------------------------


def _sql(sql: str, params: list) -> None:
    with connection.cursor() as cur:
        cur.execute(sql, params)


def test_rows_match_their_last_event_until_edited_directly(unit, journey):
    report = audit_verify(rows=True)
    assert report.ok, report
    assert report.rows_checked > 20
    patient = journey.patient
    table = patient._meta.db_table
    _sql(f"UPDATE {table} SET year_of_birth = %s WHERE id = %s", [1971, patient.pk])  # noqa: S608
    assert audit_verify().ok  # the chain itself is intact...
    report = audit_verify(rows=True)  # ...the row is not
    assert not report.ok
    assert report.exit_code == 1
    assert f"subjects.patient {patient.pk} was changed outside the platform" in report.problem


def test_a_row_edited_or_deleted_directly_is_found(unit):
    from oncotrials.apps.accounts.models import Site
    from oncotrials.apps.trials.models import Trial

    Trial.objects.filter(pk=unit.trial_other.pk).update(title="Edited without the services")
    report = audit_verify(rows=True)
    assert not report.ok
    assert f"trials.trial {unit.trial_other.pk} was changed outside the platform" in report.problem
    Trial.objects.filter(pk=unit.trial_other.pk).update(title="Trial T-OTHER")
    assert audit_verify(rows=True).ok
    audit_record(action="create", instance=Site.objects.create(code="x", name="X"))
    Site.objects.filter(code="x").delete()
    report = audit_verify(rows=True)
    assert not report.ok
    assert "was deleted outside the platform" in report.problem
