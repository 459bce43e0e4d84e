"""The bytes the trail seals and stores are pinned: a change of serialisation breaks every chain.

A row digest, an event's canonical payload and seal, and the columns an append stores are
compared with values computed once; any difference would make the events already written fail
verification (or the new ones differ from the old for the same input).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any

import pytest
from django.db import connection, models
from django.db.models import F
from django.test.utils import isolate_apps
from django.utils import timezone

from oncotrials.apps.audit import sealing
from oncotrials.apps.audit.models import GENESIS_HASH, AuditEvent
from oncotrials.apps.audit.services import _jsonable, audit_batch, audit_record, audit_verify

KEY_ID, KEY = "pinned", b"pinned-audit-key-" + b"k" * 24
PARIS = dt.timezone(dt.timedelta(hours=1))
ROW_DIGEST = "178fd5a1b66cf615ce8877eccba6f7cb53b4b96e2a14ed16e2eecff97c0d37a5"
FIRST_SEAL = "51ac1afb8c2651fd9ec717c5403d43876e13c5a140d38504ab16284b85e162ba"


class Colour(models.TextChoices):
    RED = "red", "Red"


class Rank(enum.IntEnum):
    FIRST = 1


@pytest.fixture
def row_model() -> Any:
    """A model of every kind of field a row digest serialises (not in the database)."""
    with isolate_apps("oncotrials.apps.audit"):

        class Owner(models.Model):
            class Meta:
                app_label = "audit"

            def __str__(self) -> str:
                return f"Owner {self.pk}"

        class PinnedRow(models.Model):
            trial_id = models.IntegerField(null=True)
            name = models.CharField(max_length=50)
            colour = models.CharField(max_length=10, choices=Colour.choices)
            notes = models.TextField(blank=True)
            count = models.IntegerField(null=True)
            big = models.PositiveBigIntegerField(default=0)
            flag = models.BooleanField(default=False)
            amount = models.DecimalField(max_digits=14, decimal_places=6, null=True)
            rate = models.FloatField(null=True)
            day = models.DateField(null=True)
            at = models.DateTimeField(null=True)
            time = models.TimeField(null=True)
            token = models.UUIDField(null=True)
            data = models.JSONField(default=dict)
            owner = models.ForeignKey(Owner, null=True, on_delete=models.PROTECT)
            level = models.IntegerField(default=0)  # left out of its digest below

            class Meta:
                app_label = "audit"

            def __str__(self) -> str:
                return f"Row «{self.name}»"

        sealing.audit_row_fields_exclude("audit.pinnedrow", ["level"])
        try:
            yield PinnedRow
        finally:
            sealing._row_exclusions.pop("audit.pinnedrow", None)


def _row(model: Any, **values: Any) -> Any:
    row = model(
        pk=7,
        trial_id=42,
        name="Tumour é",
        colour=Colour.RED,
        notes='line\nbreak "quoted" \u2028',
        count=Rank.FIRST,
        big=2**40,
        flag=True,
        amount="1.5",
        rate=3,
        day=dt.date(2026, 1, 2),
        at=dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=PARIS),
        time=dt.time(8, 30),
        token=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        data={"b": [1, 2.5, None], "a": {"z": "é"}},
        owner_id=3,
        level=5,
    )
    for name, value in values.items():
        setattr(row, name, value)
    row._state.adding = False
    return row


def test_row_digest_is_pinned(row_model):
    row = _row(row_model)
    assert sealing.row_digest(row) == ROW_DIGEST
    row.level = 6  # left out of the digest
    assert sealing.row_digest(row) == ROW_DIGEST
    nulls = _row(
        row_model,
        **dict.fromkeys(["count", "amount", "rate", "day", "at", "time", "token", "owner_id"]),
    )
    assert (
        sealing.row_digest(nulls)
        == "1ca0327d2fcaf70a94d95b001e0ce3ccdc210155d72d2a3d7f4dc1671ead61b9"
    )
    stored = _row(row_model, amount=decimal.Decimal("2.25"), rate=0.1, count=12, flag=False)
    assert (
        sealing.row_digest(stored)
        == "cde6e5458c02d7175ff35a10c2e397a987582c4e0e019e0eabb29f053d0d17b3"
    )
    assert sealing.row_digest(_row(row_model, count=F("count") + 1)) == ""
    unsaved = _row(row_model)
    unsaved._state.adding = True
    assert sealing.row_digest(unsaved) == ""


def test_changes_are_serialised_as_pinned():
    changes = {
        "at": [None, dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=PARIS)],
        "day": [dt.date(2026, 1, 2), dt.time(8, 30)],
        "amount": [decimal.Decimal("1.50"), 2],
        "tags": {2, 1},
        "pair": ("x", 1.5),
        3: {4: True, "s": frozenset()},
        "colour": Colour.RED,
        "nested": [[1, [2, {"k": decimal.Decimal("0.1")}]]],
    }
    assert _jsonable(changes) == {
        "at": [None, "2026-01-02T03:04:05+01:00"],
        "day": ["2026-01-02", "08:30:00"],
        "amount": ["1.50", 2],
        "tags": [1, 2],
        "pair": ["x", 1.5],
        "3": {"4": True, "s": []},
        "colour": Colour.RED,
        "nested": [[1, [2, {"k": "0.1"}]]],
    }


def _event(**values: Any) -> AuditEvent:
    fields = {
        "partition": "trial-42",
        "seq": 3,
        "occurred_at": dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=PARIS),
        "actor_id": 9,
        "actor_username": "investigator",
        "action": "update",
        "object_type": "trials.trial",
        "object_id": "42",
        "object_repr": "Essai « Ω »",
        "changes": {"title": ["Old", "New é"], "dose": ["1.5", None], "n": [1, 2]},
        "reason": "Sponsor's request",
        "channel": "api",
        "row_digest": "ab" * 32,
        "key_id": KEY_ID,
        "prev_hash": "cd" * 32,
    }
    fields.update(values)
    return AuditEvent(**fields)


def test_an_events_canonical_payload_and_seal_are_pinned():
    event = _event()
    assert (
        sealing.canonical(sealing.payload(event))
        == (
            '{"action":"update","actor":9,"actor_username":"investigator",'
            '"changes":{"dose":["1.5",null],"n":[1,2],"title":["Old","New é"]},"channel":"api",'
            '"key_id":"pinned","object_id":"42","object_repr":"Essai « Ω »",'
            '"object_type":"trials.trial","occurred_at":"2026-01-02T02:04:05.123456+00:00",'
            '"partition":"trial-42","reason":"Sponsor\'s request","row_digest":"' + "ab" * 32 + '",'
            '"seq":3}'
        ).encode()
    )
    assert (
        sealing.seal(event, KEY)
        == "07a566984232144dc035530e6ec7f9246a3774a43f1afdba6638e6d8a6f2235d"
    )
    assert (
        sealing.seal(_event(actor_id=None, changes={}, row_digest=""), KEY)
        != "07a566984232144dc035530e6ec7f9246a3774a43f1afdba6638e6d8a6f2235d"
    )


def _columns(event: AuditEvent) -> tuple[Any, ...]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT partition, seq, occurred_at, actor_id, actor_username, action, object_type,"
            " object_id, object_repr, changes, reason, channel, row_digest, key_id, prev_hash,"
            " hash FROM audit_auditevent WHERE id = %s",
            [event.pk],
        )
        return tuple(cur.fetchone())


@pytest.mark.django_db
def test_an_append_stores_pinned_columns(row_model, settings, monkeypatch):
    settings.AUDIT_KEYS = {**settings.AUDIT_KEYS, KEY_ID: KEY}
    settings.AUDIT_KEY_ID = KEY_ID
    now = dt.datetime(2026, 1, 2, 2, 4, 5, 123456, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)
    row = _row(row_model)
    with audit_batch():
        first = audit_record(
            action="update",
            instance=row,
            changes={"amount": [decimal.Decimal("1.25"), "1.5"], "day": [None, row.day]},
            reason="Corrected é",
            channel="import",
        )
        second = audit_record(
            action="note",
            object_type="tests.thing",
            object_id="x-1",
            object_repr="A thing",
            partition="trial-42",
            channel="cli",
        )
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert (first.hash, first.row_digest) == (FIRST_SEAL, ROW_DIGEST)
    assert second.hash == "d18282f8763b4f56ddd6ccb785c3ecf8184349cbf417f8d7c749496500a28a40"
    stored = _columns(first)
    assert stored[:2] == ("trial-42", 1)
    assert stored[3:9] == (None, "", "update", "audit.pinnedrow", "7", "Row «Tumour é»")
    assert stored[10:] == (
        "Corrected é",
        "import",
        ROW_DIGEST,
        KEY_ID,
        GENESIS_HASH,
        FIRST_SEAL,
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:  # the text stored, not its conversion on reading
            cur.execute("SELECT occurred_at || '' FROM audit_auditevent WHERE id = %s", [first.pk])
            assert cur.fetchone()[0] == "2026-01-02 02:04:05.123456"
        assert stored[9] == '{"amount": ["1.25", "1.5"], "day": [null, "2026-01-02"]}'
    else:
        assert stored[2] == now
    assert _columns(second)[9] in ("{}", {})
    assert audit_verify().ok


@pytest.mark.django_db
def test_a_lazy_object_is_digested_as_the_row_it_stands_for():
    """A request's user is a lazy object: its row's digest is the user's own, not "" (nor an
    error: its class has no model metadata)."""
    from django.utils.functional import SimpleLazyObject

    from oncotrials.apps.accounts.services import user_create

    user = user_create(username="lazy", password="a-long-enough-password-1")
    digest = sealing.row_digest(user)
    assert len(digest) == 64
    assert sealing.row_digest(SimpleLazyObject(lambda: user)) == digest
