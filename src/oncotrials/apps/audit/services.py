"""Writing and verifying the audit trail.

``audit_record`` / ``audit_batch`` append events to the chain of their partition (one head row
locked per partition, one statement on PostgreSQL); ``audit_verify`` recomputes every seal in one
read-only repeatable-read snapshot and checks the chains against the signed checkpoints kept
outside the database (``checkpoints.py``), and with ``rows=True`` the audited rows against the
digest their last event recorded.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps as django_apps
from django.db import connection, connections, models, transaction
from django.db.models import Max, Q
from django.utils import timezone

from oncotrials.apps.accounts.models import User
from oncotrials.core.errors import ValidationError

from . import sealing
from .checkpoints import CheckpointError, checkpoint_write, checkpoints_load
from .context import current
from .models import GENESIS_HASH, LEGACY_KEY_ID, AuditChainHead, AuditEvent
from .partitions import partition_of

_SELF_JSON = sealing.SELF_JSON  # values that are their own JSON form (exact types, None)


def _jsonable(value: Any) -> Any:
    kind = type(value)
    if kind in _SELF_JSON:
        return value
    # The usual shapes first ({field: [old, new]}, lists of plain values), with the plain items
    # taken as they are; the same result as the general case below.
    if kind is dict:
        return {
            k if type(k) is str else str(k): v if type(v) in _SELF_JSON else _jsonable(v)
            for k, v in value.items()
        }
    if kind is list or kind is tuple:
        return [v if type(v) in _SELF_JSON else _jsonable(v) for v in value]
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


def _lock_heads(partitions: list[str]) -> dict[str, tuple[int, str]]:
    """Lock the heads of ``partitions`` (in name order) and return their seq and hash.

    A partition's head row is created the first time it is written to. On PostgreSQL and
    SQLite, written here (one statement, two more for a partition's first event); SQLite has no
    row locks: its transactions take the database's write lock when they begin (IMMEDIATE).
    """
    if connection.vendor in ("postgresql", "sqlite"):
        table = connection.ops.quote_name(AuditChainHead._meta.db_table)
        args: list[Any]
        if connection.vendor == "postgresql":
            where, lock, args = "partition = ANY(%s)", " FOR UPDATE", [partitions]
        else:
            where, lock = f"partition IN ({', '.join(['%s'] * len(partitions))})", ""
            args = list(partitions)
        select = (
            f"SELECT partition, seq, last_hash FROM {table} "  # noqa: S608
            f"WHERE {where} ORDER BY partition{lock}"
        )
        with connection.cursor() as cur:
            cur.execute(select, args)
            heads = {str(p): (int(s), str(h)) for p, s, h in cur.fetchall()}
            missing = [p for p in partitions if p not in heads]
            if missing:
                rows = ", ".join(["(%s, 0, %s)"] * len(missing))
                cur.execute(
                    f"INSERT INTO {table} (partition, seq, last_hash) VALUES {rows} "  # noqa: S608
                    "ON CONFLICT (partition) DO NOTHING",
                    [v for p in missing for v in (p, GENESIS_HASH)],
                )
                cur.execute(select, args)
                heads = {str(p): (int(s), str(h)) for p, s, h in cur.fetchall()}
        return heads
    heads = {
        h.partition: (h.seq, h.last_hash)
        for h in AuditChainHead.objects.select_for_update()
        .filter(partition__in=partitions)
        .order_by("partition")
    }
    for p in partitions:
        if p not in heads:
            head, _ = AuditChainHead.objects.select_for_update().get_or_create(partition=p)
            heads[p] = (head.seq, head.last_hash)
    return heads


def _db_column(field: models.Field[Any, Any], events: list[AuditEvent]) -> list[Any]:
    """The value of ``field`` of each event as ``field.get_db_prep_save`` gives it.

    A str of a CharField or TextField is that str; any other value is prepared once per
    distinct object (an append's events share their time and key id).
    """
    db = connections[connection.alias]  # the connection itself, not its proxy
    values = [getattr(event, field.attname) for event in events]
    if type(field) in (models.CharField, models.TextField):
        return [v if type(v) is str else field.get_db_prep_save(v, db) for v in values]
    prepared: dict[int, Any] = {}  # id() of a value kept alive by ``values``
    column = []
    for v in values:
        key = id(v)
        if key not in prepared:
            prepared[key] = field.get_db_prep_save(v, db)
        column.append(prepared[key])
    return column


def _insert_and_move_heads(events: list[AuditEvent]) -> None:
    """Insert the linked events and move each partition's head to its last one.

    On PostgreSQL one statement does both (the head updates in a WITH clause): one round trip
    fewer while the heads are locked. On SQLite, one INSERT of many rows per chunk (written
    here: the ORM's bulk insert compiles every value of every row) and one UPDATE per head.
    Elsewhere, the ORM.
    """
    last: dict[str, AuditEvent] = {}
    for event in events:
        last[event.partition] = event
    if connection.vendor not in ("postgresql", "sqlite"):
        AuditEvent.objects.bulk_create(events)
        for p, ev in last.items():
            AuditChainHead.objects.filter(partition=p).update(seq=ev.seq, last_hash=ev.hash)
        return
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    chunk, limit = APPEND_CHUNK, connection.features.max_query_params
    if connection.vendor == "sqlite" and limit:  # stay below SQLite's limit of parameters
        chunk = min(chunk, max(1, limit // len(fields)))
    if len(events) > chunk:  # stay far below PostgreSQL's 65535 parameters
        for start in range(0, len(events), chunk):
            _insert_and_move_heads(events[start : start + chunk])
        return
    qn = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params: list[Any] = []
    if connection.vendor == "postgresql":
        for p, ev in last.items():
            params.extend([p, ev.seq, ev.hash])
    columns = [_db_column(f, events) for f in fields]
    params.extend(itertools.chain.from_iterable(zip(*columns, strict=True)))
    # Table and column names come from the models' metadata; every value is a parameter.
    head = qn(AuditChainHead._meta.db_table)
    table = qn(AuditEvent._meta.db_table)
    pk = qn(AuditEvent._meta.pk.column)
    names = ", ".join(qn(f.column) for f in fields)
    values = ", ".join([row] * len(events))
    insert = f"INSERT INTO {table} ({names}) VALUES {values} RETURNING {pk}"  # noqa: S608
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            moves = ", ".join(["(%s, %s::bigint, %s)"] * len(last))
            cur.execute(
                f"WITH moved AS (UPDATE {head} AS h SET seq = v.seq, last_hash = v.last_hash "  # noqa: S608
                f"FROM (VALUES {moves}) AS v (partition, seq, last_hash) "
                f"WHERE h.partition = v.partition) {insert}",
                params,
            )
            ids = [r[0] for r in cur.fetchall()]  # VALUES order, as bulk_create relies on
        else:
            cur.execute(insert, params)
            # SQLite numbers the rows of one INSERT in VALUES order, but returns them in any.
            ids = sorted(r[0] for r in cur.fetchall())
            cur.executemany(
                f"UPDATE {head} SET seq = %s, last_hash = %s WHERE partition = %s",  # noqa: S608
                [(ev.seq, ev.hash, p) for p, ev in last.items()],
            )
    for event, pk_value in zip(events, ids, strict=True):
        event.pk = pk_value
        event._state.adding, event._state.db = False, connection.alias


def _append(events: list[AuditEvent]) -> None:
    """Link ``events`` to their partitions' chains in order, under one lock of each head.

    Call in a transaction. The heads are locked in name order (no deadlock between batches
    spanning several partitions); every event gets the next sequence number of its partition,
    the time of the append, the digest of its row and its seal; then the events are inserted at
    once and the heads move: two statements on PostgreSQL whatever the number of events.
    """
    heads = _lock_heads(sorted({e.partition for e in events}))
    now = timezone.now()  # under the lock: sequence and time of a chain never disagree
    key_id, key = sealing.current_key()
    for event in events:
        seq, prev_hash = heads[event.partition]
        instance = getattr(event, "_audit_instance", None)
        if instance is not None and not event.row_digest:
            event.row_digest = sealing.row_digest(instance) if event.action != "delete" else ""
        event.seq, event.occurred_at, event.prev_hash = seq + 1, now, prev_hash
        event.key_id = key_id
        event.hash = sealing.seal(event, key)
        heads[event.partition] = (event.seq, event.hash)
    _insert_and_move_heads(events)


@contextmanager
def audit_batch() -> Iterator[None]:
    """Append the events recorded inside the block to their chains together, when it ends.

    For a service that records several events in one transaction (an AE and the DLT cases it
    proposes): one lock of each partition head instead of one per event, taken last so that the
    heads stay locked for the shortest time. The block runs in a transaction; if it raises,
    nothing is appended and its changes roll back with it. A nested block joins the outer one.
    Do not catch, inside the block, an error whose changes were rolled back after recording an
    event.
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


_EVENT_FIELDS = tuple(AuditEvent._meta.concrete_fields)
_EVENT_ACTOR = AuditEvent.actor.field


# The defaults that are not made afresh for each event (as ``Field.get_default`` gives them).
_EVENT_DEFAULTS = {
    f.attname: f.get_default()
    for f in _EVENT_FIELDS
    if not (f.has_default() and callable(f.default))
}


def _new_event(**values: Any) -> AuditEvent:
    """``AuditEvent(**values)`` (the other fields at their defaults), built from positional
    values: the model's fast path, about three times cheaper than keywords."""
    row = [
        values[f.attname]
        if f.attname in values
        else _EVENT_DEFAULTS[f.attname]
        if f.attname in _EVENT_DEFAULTS
        else f.get_default()
        for f in _EVENT_FIELDS
    ]
    return AuditEvent(*row)  # type: ignore[misc]  # positional: the model's own field order


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
    partition: str | None = None,
) -> AuditEvent:
    """Append one event to its chain. Call inside the transaction of the change it records.

    The partition is derived from ``instance`` (its trial, else its site, else ``global``)
    unless given. With an instance, the event also records a digest of the row as it is when
    appended (after the change), which ``audit verify --rows`` compares with the stored row.
    Inside an ``audit_batch`` block the event is queued and linked when the block ends (its
    sequence number, time, row digest and seal are set then).
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
    if partition is None:
        partition = partition_of(instance) if instance is not None else "global"
    event = _new_event(
        partition=partition,
        actor_id=user.pk if user is not None else None,
        actor_username=getattr(user, "username", "") if user else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        changes=_jsonable(dict(changes or {})),
        reason=reason,
        channel=channel or ctx.channel,
    )
    _EVENT_ACTOR.set_cached_value(event, user)  # as AuditEvent(actor=user) would
    if instance is not None and str(instance.pk) == object_id:
        event._audit_instance = instance  # type: ignore[attr-defined]
    pending = _batch.get()
    if pending is not None:
        pending.append(event)
        return event
    # No savepoint: a failed append must fail the change it records, never leave it unaudited.
    with transaction.atomic(savepoint=False):
        _append([event])
    return event


# --- Verification ------------------------------------------------------------------------------

OK, TAMPERED, UNVERIFIABLE = "ok", "tampered", "unverifiable"
EXIT_CODES = {OK: 0, TAMPERED: 1, UNVERIFIABLE: 2}

Progress = Callable[[int, int], None]  # (events checked, events to check)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_broken_seq: int | None = None
    problem: str = ""
    partition: str = field(default="", compare=False)
    status: str = field(default=OK, compare=False)
    partitions: int = field(default=0, compare=False)
    checkpoints: int = field(default=0, compare=False)
    since_checkpoint: str = field(default="", compare=False)
    rows_checked: int = field(default=0, compare=False)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


class _Broken(Exception):
    def __init__(self, status: str, problem: str, partition: str = "", seq: int | None = None):
        super().__init__(problem)
        self.status, self.problem, self.partition, self.seq = status, problem, partition, seq


@contextmanager
def verification_snapshot() -> Iterator[None]:
    """One consistent, read-only view of the trail while the application keeps writing.

    On PostgreSQL a REPEATABLE READ READ ONLY transaction (unless one is already open). On
    SQLite reads see committed data; the heads are read first and the chains only up to them,
    so that events appended meanwhile are neither missed nor mistaken for tampering.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _read_heads() -> dict[str, tuple[int, str]]:
    return {
        p: (int(s), str(h))
        for p, s, h in AuditChainHead.objects.order_by("partition").values_list(
            "partition", "seq", "last_hash"
        )
    }


def audit_verify(
    *,
    since_checkpoint: bool = False,
    rows: bool = False,
    progress: Progress | None = None,
    batch_size: int = 2000,
) -> ChainReport:
    """Recompute every seal and link; report the first event that does not hold.

    Reads the heads, then each partition's chain up to its head, in one snapshot. Every signed
    checkpoint found in ``settings.AUDIT_CHECKPOINT_DIR`` must still match the database. With
    ``since_checkpoint``, chains are checked from the latest checkpoint on (its events were
    verified when it was written). With ``rows``, every audited row still present must match
    the digest its last event recorded. ``status``: ok, tampered, or unverifiable (a key or
    checkpoint signature that cannot be checked here).
    """
    with verification_snapshot():
        heads = _read_heads()
        try:
            checkpoints = checkpoints_load()
        except CheckpointError as exc:
            return ChainReport(False, 0, None, str(exc), status=exc.status, heads=heads)
        start: dict[str, tuple[int, str]] = {}
        anchor = ""
        if since_checkpoint and checkpoints:
            anchor = checkpoints[-1].name
            start = dict(checkpoints[-1].partitions)
        total = sum(max(0, seq - start.get(p, (0, ""))[0]) for p, (seq, _) in heads.items())
        done = 0
        if progress is not None:
            progress(0, total)
        try:
            for p, (head_seq, head_hash) in heads.items():
                from_seq, prev = start.get(p, (0, GENESIS_HASH))
                done = _verify_partition(
                    p, from_seq, prev, head_seq, head_hash, batch_size, progress, done, total
                )
            _check_no_orphans(heads, full=not start)
            for cp in checkpoints:
                _check_checkpoint(cp.name, cp.partitions, heads)
        except _Broken as b:
            return ChainReport(
                False,
                done,
                b.seq,
                b.problem,
                partition=b.partition,
                status=b.status,
                partitions=len(heads),
                checkpoints=len(checkpoints),
                since_checkpoint=anchor,
                heads=heads,
            )
        rows_checked = 0
        if rows:
            rows_checked, problem = _verify_rows()
            if problem:
                return ChainReport(
                    False,
                    done,
                    None,
                    problem,
                    status=TAMPERED,
                    partitions=len(heads),
                    checkpoints=len(checkpoints),
                    since_checkpoint=anchor,
                    rows_checked=rows_checked,
                    heads=heads,
                )
    return ChainReport(
        True,
        done,
        partitions=len(heads),
        checkpoints=len(checkpoints),
        since_checkpoint=anchor,
        rows_checked=rows_checked,
        heads=heads,
    )


def _verify_partition(
    p: str,
    from_seq: int,
    prev: str,
    head_seq: int,
    head_hash: str,
    batch_size: int,
    progress: Progress | None,
    done: int,
    total: int,
) -> int:
    expected = from_seq + 1
    if from_seq > head_seq:
        raise _Broken(
            TAMPERED, f"its head is behind a signed checkpoint (#{from_seq})", p, head_seq
        )
    if from_seq:
        anchor = AuditEvent.objects.filter(partition=p, seq=from_seq).values_list("hash", flat=True)
        if list(anchor) != [prev]:
            raise _Broken(TAMPERED, "it differs from the signed checkpoint", p, from_seq)
    events = AuditEvent.objects.filter(partition=p, seq__gt=from_seq, seq__lte=head_seq).order_by(
        "seq"
    )
    for ev in events.iterator(chunk_size=batch_size):
        if ev.seq != expected:
            raise _Broken(TAMPERED, f"event #{expected} is missing", p, expected)
        if ev.prev_hash != prev:
            raise _Broken(TAMPERED, "its link to the previous event is broken", p, ev.seq)
        if ev.key_id == LEGACY_KEY_ID:  # the trail was re-sealed: no event may carry it
            raise _Broken(TAMPERED, "it carries an unkeyed seal (forged)", p, ev.seq)
        try:
            sealed = sealing.seal(ev)
        except sealing.UnknownKeyError:
            raise _Broken(
                UNVERIFIABLE,
                f"it is sealed with key {ev.key_id!r}, which is not in the keyring "
                "(ONCOTRIALS_AUDIT_KEY / ONCOTRIALS_AUDIT_KEY_FILE)",
                p,
                ev.seq,
            ) from None
        if sealed != ev.hash:
            raise _Broken(TAMPERED, "its content no longer matches its seal", p, ev.seq)
        prev = ev.hash
        expected += 1
        done += 1
        if progress is not None and done % batch_size == 0:
            progress(done, total)
    if expected - 1 != head_seq or prev != head_hash:
        raise _Broken(TAMPERED, "events after it were removed", p, expected)
    # In one snapshot (PostgreSQL), an event past the head means the head was moved back.
    past_head = AuditEvent.objects.filter(partition=p, seq__gt=head_seq)
    if connection.vendor == "postgresql" and past_head.exists():
        raise _Broken(TAMPERED, "its chain head was moved back", p, head_seq + 1)
    if progress is not None:
        progress(done, total)
    return done


def _check_no_orphans(heads: Mapping[str, tuple[int, str]], *, full: bool) -> None:
    """Every partition with events has a head (a deleted head row hides a whole chain).

    A scan of every event: full runs only (incremental ones rely on the checkpoints, which name
    every partition that existed, and on the trigger refusing to delete a head).
    """
    if not full:
        return
    orphans = (
        AuditEvent.objects.exclude(partition__in=list(heads))
        .values_list("partition", flat=True)
        .distinct()[:1]
    )
    for p in orphans:
        raise _Broken(TAMPERED, "its events have no chain head", p, None)


def _check_checkpoint(
    name: str, partitions: Mapping[str, tuple[int, str]], heads: Mapping[str, tuple[int, str]]
) -> None:
    """The events a signed checkpoint names are still there with the hashes it signed."""
    for p, (seq, _) in partitions.items():
        if seq and heads.get(p, (0, ""))[0] < seq:
            raise _Broken(
                TAMPERED, f"events up to #{seq} signed in checkpoint {name} were removed", p, seq
            )
    wanted = [(p, seq, h) for p, (seq, h) in partitions.items() if seq]
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        cond = Q()
        for p, seq, _ in chunk:
            cond |= Q(partition=p, seq=seq)
        found = {
            (p, s): h
            for p, s, h in AuditEvent.objects.filter(cond).values_list("partition", "seq", "hash")
        }
        for p, seq, h in chunk:
            if found.get((p, seq)) != h:
                raise _Broken(
                    TAMPERED, f"it differs from the one signed in checkpoint {name}", p, seq
                )


def _verify_rows() -> tuple[int, str]:
    """Compare every audited row with the digest recorded by the last event about it."""
    last_ids = (
        AuditEvent.objects.values("object_type", "object_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    by_type: dict[str, dict[str, AuditEvent]] = defaultdict(dict)
    checked = 0
    ids = list(last_ids)
    for start in range(0, len(ids), 2000):
        for ev in AuditEvent.objects.filter(id__in=ids[start : start + 2000]).only(
            "id", "object_type", "object_id", "action", "row_digest"
        ):
            if ev.row_digest or ev.action == "delete":
                by_type[ev.object_type][ev.object_id] = ev
    for object_type, events in sorted(by_type.items()):
        try:
            model = django_apps.get_model(object_type)
        except (LookupError, ValueError):
            continue
        keys = list(events)
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            pk_field = model._meta.pk
            assert pk_field is not None
            pks = [pk_field.to_python(k) for k in chunk if k != "None"]
            present = {str(obj.pk): obj for obj in model._base_manager.filter(pk__in=pks)}
            for key in chunk:
                ev = events[key]
                obj = present.get(key)
                checked += 1
                if ev.action == "delete":
                    continue
                if obj is None:
                    return checked, (
                        f"{object_type} {key} was deleted outside the platform "
                        f"(last event: {ev.action})"
                    )
                if sealing.row_digest(obj) != ev.row_digest:
                    return checked, (
                        f"{object_type} {key} was changed outside the platform: it no longer "
                        "matches the row recorded by its last audit event"
                    )
    return checked, ""


@dataclass(frozen=True)
class CheckpointReport:
    report: ChainReport
    path: str = ""


def audit_checkpoint(*, progress: Progress | None = None) -> CheckpointReport:
    """Verify the trail (from the latest checkpoint on) and sign its heads into a new checkpoint.

    Nothing is written when the trail does not verify. The heads signed are those of the
    snapshot that was verified.
    """
    with verification_snapshot():
        report = audit_verify(since_checkpoint=True, progress=progress)
        if not report.ok:
            return CheckpointReport(report)
        try:
            path = checkpoint_write(report.heads, checkpoints_load())
        except (CheckpointError, OSError) as exc:
            return CheckpointReport(
                ChainReport(False, report.events, None, str(exc), status=UNVERIFIABLE)
            )
    return CheckpointReport(report, str(path))
