"""Several events of one change are linked under one lock of the chain head, losing nothing."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from oncotrials.apps.audit.models import AuditChainHead, AuditEvent
from oncotrials.apps.audit.services import audit_batch, audit_record, audit_verify


def _record(n: int, tag: str) -> None:
    for i in range(n):
        audit_record(
            action="update",
            object_type="tests.thing",
            object_id=f"{tag}-{i}",
            changes={"i": [None, i]},
            reason=tag,
        )


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    skip = ("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT")
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(skip)]


@pytest.mark.django_db
def test_a_batch_appends_its_events_in_order_under_one_head_lock():
    audit_record(action="create", object_type="tests.thing", object_id="before")
    with CaptureQueriesContext(connection) as ctx, transaction.atomic(), audit_batch():
        _record(4, "batch")
        assert not AuditEvent.objects.filter(reason="batch").exists()  # queued until the end
    statements = _statements(ctx)[1:]  # after the probe above
    # The head read (locked), one insert of the four events, the head update: in one statement
    # with the insert on PostgreSQL.
    assert statements[0].startswith("SELECT"), statements
    assert "audit_auditchainhead" in statements[0]
    assert sum('INSERT INTO "audit_auditevent"' in s for s in statements) == 1
    assert sum('UPDATE "audit_auditchainhead"' in s for s in statements) == 1
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in statements[0]
        assert len(statements) == 2, statements
    else:
        assert len(statements) == 3, statements
    events = list(AuditEvent.objects.filter(reason="batch").order_by("seq"))
    assert [e.object_id for e in events] == [f"batch-{i}" for i in range(4)]
    assert [e.seq for e in events] == [2, 3, 4, 5]
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(events))
    head = AuditChainHead.objects.get(partition="global")
    assert (head.seq, head.last_hash) == (5, events[-1].hash)
    assert audit_verify().ok


@pytest.mark.django_db
def test_a_single_append_takes_no_savepoint():
    audit_record(action="create", object_type="tests.thing", object_id="0")  # the head exists
    # the service's own transaction (no savepoint of its own either: the test holds one open)
    with CaptureQueriesContext(connection) as ctx, transaction.atomic(savepoint=False):
        audit_record(action="create", object_type="tests.thing", object_id="1")
    assert not any("SAVEPOINT" in q["sql"] for q in ctx.captured_queries), ctx.captured_queries
    assert audit_verify().ok


@pytest.mark.django_db
def test_a_batch_that_fails_appends_nothing_and_rolls_its_change_back():
    audit_record(action="create", object_type="tests.thing", object_id="kept")

    def failing_service() -> None:
        with transaction.atomic(), audit_batch():
            AuditChainHead.objects.filter(partition="global").update(
                seq=99
            )  # a change of the transaction
            _record(3, "lost")
            raise RuntimeError("the service failed after recording")

    with pytest.raises(RuntimeError, match="failed after recording"):
        failing_service()
    assert not AuditEvent.objects.filter(reason="lost").exists()
    assert AuditChainHead.objects.get(partition="global").seq == 1
    assert audit_verify().ok
    _record(1, "after")  # the chain goes on from where it was
    assert audit_verify() == audit_verify().__class__(True, 2)


@pytest.mark.django_db
def test_a_nested_batch_joins_the_outer_one():
    with transaction.atomic(), audit_batch():
        _record(1, "outer")
        with audit_batch():
            _record(2, "inner")
        assert AuditEvent.objects.count() == 0
        _record(1, "outer-again")
    assert list(AuditEvent.objects.order_by("seq").values_list("object_id", flat=True)) == [
        "outer-0",
        "inner-0",
        "inner-1",
        "outer-again-0",
    ]
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_and_single_appends_keep_one_linear_chain():
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def writer(tag: str, batched: bool) -> None:
        try:
            barrier.wait()
            for round_ in range(5):
                if batched:
                    with transaction.atomic(), audit_batch():
                        _record(3, f"{tag}{round_}")
                else:
                    _record(3, f"{tag}{round_}")
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [
        threading.Thread(target=writer, args=(tag, tag in "ab")) for tag in ("a", "b", "c", "d")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    report = audit_verify()
    assert report.ok, report
    assert report.events == AuditEvent.objects.count() == 4 * 5 * 3
    for tag in "ab":  # a batch is contiguous in the chain: nobody's event lands inside it
        for round_ in range(5):
            seqs = sorted(
                AuditEvent.objects.filter(reason=f"{tag}{round_}").values_list("seq", flat=True)
            )
            assert seqs == list(range(seqs[0], seqs[0] + 3))


@pytest.mark.django_db
def test_a_large_batch_is_inserted_in_chunks_and_still_verifies(monkeypatch):
    from oncotrials.apps.audit import services

    monkeypatch.setattr(services, "APPEND_CHUNK", 3)
    with transaction.atomic(), audit_batch():
        _record(8, "large")
    assert list(
        AuditEvent.objects.filter(reason="large").order_by("seq").values_list("seq", flat=True)
    ) == list(range(1, 9))
    assert AuditChainHead.objects.get(partition="global").seq == 8
    assert audit_verify() == audit_verify().__class__(True, 8)
