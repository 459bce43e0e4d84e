"""Eight scripted tamperings of the audit trail: each one is detected by verify, or refused.

Tamperings by direct SQL run as a database superuser bypassing the triggers (what the seals and
the signed checkpoints exist to catch); the last ones run as the application's restricted role
and are refused by the database itself (PostgreSQL only, like the triggers).
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.db import DatabaseError, connection, transaction

from oncotrials.apps.audit import sealing
from oncotrials.apps.audit.dbroles import app_role_grant
from oncotrials.apps.audit.models import AuditChainHead, AuditEvent
from oncotrials.apps.audit.services import audit_checkpoint, audit_record, audit_verify

PG = connection.vendor == "postgresql"
APP_ROLE = "oncotrials_test_app_role"


def _sql(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cur:
        if PG:
            cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(sql, params or [])
        if PG:
            cur.execute("SET LOCAL session_replication_role = origin")


@pytest.fixture
def trail(unit, settings, tmp_path):
    """The unit's trail with a signed checkpoint, then a few events more in a trial's chain."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    written = audit_checkpoint()
    assert written.report.ok, written
    assert written.path
    for i in range(4):
        audit_record(
            action="update", instance=unit.trial_main, changes={"i": [i, i + 1]}, reason="r"
        )
    report = audit_verify()
    assert report.ok, report
    assert report.checkpoints == 1
    return unit


def _partition_of(trial) -> str:
    return f"trial-{trial.pk}"


def _chain(trial) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(partition=_partition_of(trial)).order_by("seq"))


def _broken(**kwargs) -> object:
    report = audit_verify(**kwargs)
    assert not report.ok, report
    assert report.exit_code in (1, 2)
    return report


def test_1_an_edited_event_is_detected_at_that_event(trail):
    victim = _chain(trail.trial_main)[2]
    _sql("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["forged", victim.pk])
    report = _broken()
    assert (report.partition, report.first_broken_seq) == (victim.partition, victim.seq)
    assert "no longer matches its seal" in report.problem
    assert report.status == "tampered"


def test_2_a_deleted_event_is_detected(trail):
    victim = _chain(trail.trial_main)[1]
    _sql("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk])
    report = _broken()
    assert report.first_broken_seq == victim.seq
    assert "missing" in report.problem


def test_3_reordered_events_are_detected(trail):
    a, b = _chain(trail.trial_main)[1:3]
    _sql("UPDATE audit_auditevent SET seq = 1000000 WHERE id = %s", [a.pk])
    _sql("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [a.seq, b.pk])
    _sql("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [b.seq, a.pk])
    report = _broken()
    assert report.first_broken_seq == a.seq
    assert report.partition == a.partition


@pytest.mark.parametrize("seal_with", ["unkeyed sha256", "a guessed key"])
def test_4_a_forged_event_with_a_recomputed_hash_is_detected(trail, seal_with):
    chain = _chain(trail.trial_main)
    last = chain[-1]
    forged = AuditEvent(
        partition=last.partition,
        seq=last.seq + 1,
        occurred_at=last.occurred_at,
        actor_username="mallory",
        action="update",
        object_type=last.object_type,
        object_id=last.object_id,
        changes={"title": ["x", "y"]},
        reason="forged",
        channel="web",
        prev_hash=last.hash,
    )
    if seal_with == "unkeyed sha256":
        forged.key_id = "legacy-sha256"
        forged.hash = sealing.legacy_digest(last.hash, forged)
    else:  # the forger knows the algorithm and the key id, not the key
        forged.key_id = last.key_id
        message = forged.prev_hash.encode() + sealing.canonical(sealing.payload(forged))
        forged.hash = hmac.new(b"guess" * 8, message, hashlib.sha256).hexdigest()
    with transaction.atomic():
        if PG:
            with connection.cursor() as cur:
                cur.execute("SET LOCAL session_replication_role = replica")
        AuditEvent.objects.bulk_create([forged])
        AuditChainHead.objects.filter(partition=last.partition).update(
            seq=forged.seq, last_hash=forged.hash
        )
    report = _broken()
    assert (report.partition, report.first_broken_seq) == (last.partition, forged.seq)
    assert report.status == "tampered"


def test_5_a_deleted_tail_with_its_head_moved_back_is_detected_by_the_checkpoint(trail, settings):
    chain = _chain(trail.trial_main)
    # The checkpoint was written before the last four events: remove up to it and two before.
    keep = chain[-7]
    for ev in chain[-6:]:
        _sql("DELETE FROM audit_auditevent WHERE id = %s", [ev.pk])
    _sql(
        "UPDATE audit_auditchainhead SET seq = %s, last_hash = %s WHERE partition = %s",
        [keep.seq, keep.hash, keep.partition],
    )
    settings.AUDIT_CHECKPOINT_DIR = settings.AUDIT_CHECKPOINT_DIR.parent / "none"
    assert audit_verify().ok  # without the checkpoint, a consistent shorter chain...
    settings.AUDIT_CHECKPOINT_DIR = settings.AUDIT_CHECKPOINT_DIR.parent / "checkpoints"
    report = _broken()  # ...that the signed checkpoint outside the database refutes
    assert "signed in checkpoint" in report.problem
    assert report.partition == keep.partition


def test_6_a_history_rewritten_even_with_the_key_is_detected_by_the_checkpoint(trail):
    """An insider holding the MAC key (not the checkpoints) rewrites the chain from event 2."""
    chain = _chain(trail.trial_main)
    _key_id, key = sealing.current_key()
    prev = chain[0].hash
    for ev in chain[1:]:
        ev.reason = "rewritten"
        ev.prev_hash = prev
        ev.hash = prev = sealing.seal(ev, key)
        _sql(
            "UPDATE audit_auditevent SET reason = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [ev.reason, ev.prev_hash, ev.hash, ev.pk],
        )
    _sql(
        "UPDATE audit_auditchainhead SET last_hash = %s WHERE partition = %s",
        [prev, chain[0].partition],
    )
    report = _broken()
    assert "checkpoint" in report.problem
    # Without the key, the first rewritten event already fails its seal.
    assert report.partition == chain[0].partition


def test_a_tampered_checkpoint_file_is_detected(trail, settings):
    (path,) = settings.AUDIT_CHECKPOINT_DIR.glob("checkpoint-*.json")
    path.chmod(0o644)
    path.write_text(path.read_text().replace('"seq": ', '"seq": 1', 1))
    report = _broken()
    assert "signature" in report.problem
    assert report.exit_code == 1


def test_incremental_verification_starts_at_the_latest_checkpoint(trail):
    full = audit_verify()
    since = audit_verify(since_checkpoint=True)
    assert full.ok
    assert since.ok
    assert since.events == 4 < full.events
    assert since.since_checkpoint.startswith("checkpoint-")


def _as_app_role(statement: str) -> None:
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SET LOCAL ROLE {APP_ROLE}")
        cur.execute(statement)


@pytest.fixture
def app_role(trail):
    if not PG:
        pytest.skip("database roles and triggers exist on PostgreSQL only")
    app_role_grant(APP_ROLE)  # rolled back with the test's transaction
    return trail


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE audit_auditevent",  # 7: TRUNCATE attempt
        "TRUNCATE audit_auditchainhead",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",  # 8: trigger-disable attempts
        "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only",
        "SET session_replication_role = replica",
        "UPDATE audit_auditevent SET reason = 'x'",
        "DELETE FROM audit_auditevent",
        "UPDATE audit_auditchainhead SET seq = seq - 1",
        "DELETE FROM audit_auditchainhead",
        "DROP TABLE audit_auditevent",
    ],
)
def test_7_8_the_application_role_cannot_truncate_alter_or_bypass_the_trail(app_role, statement):
    with pytest.raises(DatabaseError):
        _as_app_role(statement)
    assert audit_verify().ok


def test_the_application_role_still_appends_and_moves_heads_forward(app_role):
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SET LOCAL ROLE {APP_ROLE}")
        audit_record(action="update", instance=app_role.trial_main, reason="as the app")
        cur.execute("SELECT current_user")
        assert cur.fetchone()[0] == APP_ROLE
    assert audit_verify().ok


def test_the_trigger_refuses_truncation_even_with_the_privilege(app_role):
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"GRANT TRUNCATE ON audit_auditevent TO {APP_ROLE}")
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending check from the fixture
        cur.execute(f"SET LOCAL ROLE {APP_ROLE}")
        with pytest.raises(DatabaseError, match="cannot be truncated"), transaction.atomic():
            cur.execute("TRUNCATE audit_auditevent")


def test_a_deleted_chain_head_is_detected(trail, settings):
    partition = _partition_of(trail.trial_main)
    _sql("DELETE FROM audit_auditchainhead WHERE partition = %s", [partition])
    report = _broken()  # the checkpoint names the partition
    assert report.partition == partition
    settings.AUDIT_CHECKPOINT_DIR = settings.AUDIT_CHECKPOINT_DIR.parent / "none"
    report = _broken()  # without checkpoints, a full run finds events without a head
    assert report.partition == partition
    assert "no chain head" in report.problem
