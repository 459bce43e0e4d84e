"""Writing and verifying the audit trail."""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from oncotrials.apps.accounts.models import User
from oncotrials.core.errors import ValidationError

from .context import current
from .models import AuditChainHead, AuditEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _canonical(event: Mapping[str, Any]) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _payload(ev: AuditEvent) -> dict[str, Any]:
    return {
        "seq": ev.seq,
        "occurred_at": ev.occurred_at.astimezone(dt.UTC).isoformat(),
        "actor": ev.actor_id,
        "actor_username": ev.actor_username,
        "action": ev.action,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
        "object_repr": ev.object_repr,
        "changes": ev.changes,
        "reason": ev.reason,
        "channel": ev.channel,
    }


def _digest(prev_hash: str, payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + _canonical(payload)).hexdigest()


def model_snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Field values of ``instance`` as JSON-ready data (foreign keys as ids)."""
    names = (
        list(fields) if fields is not None else [f.attname for f in instance._meta.concrete_fields]
    )
    return {n: _jsonable(getattr(instance, n)) for n in names}


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {
        k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
    }


# Events recorded inside an ``audit_batch`` block, appended together when it ends.
_batch: contextvars.ContextVar[list[AuditEvent] | None] = contextvars.ContextVar(
    "oncotrials_audit_batch", default=None
)


APPEND_CHUNK = 1000  # events per INSERT statement


def _lock_head() -> tuple[int, str]:
    """Lock the chain head and return its sequence number and hash (creating it the first time)."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(AuditChainHead._meta.db_table)
        with connection.cursor() as cur:
            cur.execute(f"SELECT seq, last_hash FROM {table} WHERE id = 1 FOR UPDATE")  # noqa: S608
            row = cur.fetchone()
        if row is not None:
            return int(row[0]), str(row[1])
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    return head.seq, head.last_hash


def _insert_and_move_head(events: list[AuditEvent]) -> None:
    """Insert the linked events and move the head to the last one.

    On PostgreSQL one statement does both (the head update in a WITH clause): one round trip
    fewer while the head is locked. Elsewhere, the ORM in two.
    """
    last = events[-1]
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create(events)
        AuditChainHead.objects.filter(pk=1).update(seq=last.seq, last_hash=last.hash)
        return
    if len(events) > APPEND_CHUNK:  # stay far below PostgreSQL's 65535 parameters
        for start in range(0, len(events), APPEND_CHUNK):
            _insert_and_move_head(events[start : start + APPEND_CHUNK])
        return
    qn = connection.ops.quote_name
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params: list[Any] = [last.seq, last.hash]
    for event in events:
        params.extend(f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields)
    # Table and column names come from the models' metadata; every value is a parameter.
    head = qn(AuditChainHead._meta.db_table)
    table = qn(AuditEvent._meta.db_table)
    columns = ", ".join(qn(f.column) for f in fields)
    values = ", ".join([row] * len(events))
    sql = (
        f"WITH moved AS (UPDATE {head} SET seq = %s, last_hash = %s WHERE id = 1) "  # noqa: S608
        f"INSERT INTO {table} ({columns}) VALUES {values} RETURNING {qn(AuditEvent._meta.pk.column)}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        ids = [r[0] for r in cur.fetchall()]
    for event, pk in zip(events, ids, strict=True):  # VALUES order, as bulk_create relies on
        event.pk = pk
        event._state.adding, event._state.db = False, connection.alias


def _append(events: list[AuditEvent]) -> None:
    """Link ``events`` to the chain in order, under one lock of its head (call in a transaction).

    The head row is locked, every event gets the next sequence number, the time of the append and
    the hash of its predecessor, then the events are inserted at once and the head moves to the
    last one: two statements on PostgreSQL (three elsewhere) whatever the number of events.
    """
    seq, prev_hash = _lock_head()
    now = timezone.now()  # under the lock: sequence and time of the chain never disagree
    for event in events:
        seq += 1
        event.seq, event.occurred_at, event.prev_hash = seq, now, prev_hash
        event.hash = prev_hash = _digest(prev_hash, _payload(event))
    _insert_and_move_head(events)


@contextmanager
def audit_batch() -> Iterator[None]:
    """Append the events recorded inside the block to the chain together, when the block ends.

    For a service that records several events in one transaction (an AE and the DLT cases it
    proposes): one lock of the chain head instead of one per event, taken last so that the head
    stays locked for the shortest time. The block runs in a transaction; if it raises, nothing
    is appended and its changes roll back with it. A nested block joins the outer one. Do not
    catch, inside the block, an error whose changes were rolled back after recording an event.
    """
    if _batch.get() is not None:
        yield
        return
    events: list[AuditEvent] = []
    with transaction.atomic(savepoint=False):
        token = _batch.set(events)
        try:
            yield
        finally:
            _batch.reset(token)
        if events:
            _append(events)


def audit_record(
    *,
    action: str,
    instance: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
    by: User | None = None,
    channel: str | None = None,
) -> AuditEvent:
    """Append one event to the chain. Call inside the transaction of the change it records.

    Inside an ``audit_batch`` block the event is queued and linked when the block ends (its
    sequence number, time and hashes are set then).
    """
    ctx = current()
    actor = by if by is not None else ctx.user
    user = actor if isinstance(actor, User) else None  # an anonymous request records nobody
    if instance is not None:
        object_type = object_type or instance._meta.label_lower
        object_id = object_id or str(instance.pk)
        object_repr = object_repr or str(instance)[:200]
    if not object_type or not object_id:
        raise ValidationError("An audit event needs the object it is about.")
    event = AuditEvent(
        actor=user,
        actor_username=getattr(user, "username", "") if user else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        changes=_jsonable(dict(changes or {})),
        reason=reason,
        channel=channel or ctx.channel,
    )
    pending = _batch.get()
    if pending is not None:
        pending.append(event)
        return event
    # No savepoint: a failed append must fail the change it records, never leave it unaudited.
    with transaction.atomic(savepoint=False):
        _append([event])
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_broken_seq: int | None = None
    problem: str = ""


def audit_verify(*, batch_size: int = 2000) -> ChainReport:
    """Recompute every link; report the first event whose hash or link does not hold."""
    prev_hash = "0" * 64
    expected_seq = 1
    count = 0
    for ev in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if ev.seq != expected_seq:
            return ChainReport(False, count, expected_seq, f"event #{expected_seq} is missing")
        if ev.prev_hash != prev_hash:
            return ChainReport(False, count, ev.seq, "its link to the previous event is broken")
        if _digest(prev_hash, _payload(ev)) != ev.hash:
            return ChainReport(False, count, ev.seq, "its content no longer matches its hash")
        prev_hash = ev.hash
        expected_seq += 1
        count += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != count or head.last_hash != prev_hash):
        return ChainReport(False, count, count + 1, "events after it were removed")
    return ChainReport(True, count)
