"""The seal of an audit event: a keyed MAC over its canonical JSON and its predecessor's seal.

The keys come from settings (the environment or a key file), never from the database:
``settings.AUDIT_KEYS`` maps a key id to its secret, ``settings.AUDIT_KEY_ID`` names the key that
seals new events; older keys stay in the keyring so that the events they sealed still verify.
``legacy_digest`` is the unkeyed digest of the first version, used only to check the old chain
before migration 0004 re-seals it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.expressions import Combinable
from django.utils.functional import LazyObject, empty

from .models import AuditEvent


class UnknownKeyError(LookupError):
    """An event was sealed with a key that is not in the keyring: it cannot be verified."""


# Values that are their own JSON form (exact types: an enum member, a ``str`` subclass, is not).
PLAIN = frozenset({str, int, bool, float})
SELF_JSON = PLAIN | {type(None)}  # and None


def jsonable(value: Any) -> Any:
    kind = type(value)
    if kind in SELF_JSON:
        return value
    # Dicts and lists first, their plain items taken as they are: the same result as below.
    if kind is dict:
        return {
            k if type(k) is str else str(k): v if type(v) in SELF_JSON else jsonable(v)
            for k, v in value.items()
        }
    if kind is list or kind is tuple:
        return [v if type(v) in SELF_JSON else jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


# What ``json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` uses,
# built once instead of on every call.
_canonical_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(data: Any) -> bytes:
    return _canonical_encoder.encode(data).encode()


def current_key() -> tuple[str, bytes]:
    key_id: str = settings.AUDIT_KEY_ID
    return key_id, settings.AUDIT_KEYS[key_id]


def payload(ev: AuditEvent) -> dict[str, Any]:
    """What the seal covers: every column but the database id and the seals themselves."""
    return {
        "partition": ev.partition,
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
        "row_digest": ev.row_digest,
        "key_id": ev.key_id,
    }


def seal(ev: AuditEvent, key: bytes | None = None) -> str:
    """HMAC-SHA256 of ``prev_hash || canonical payload`` with the key named by ``ev.key_id``."""
    if key is None:
        try:
            key = settings.AUDIT_KEYS[ev.key_id]
        except KeyError:
            raise UnknownKeyError(ev.key_id) from None
    message = ev.prev_hash.encode() + canonical(payload(ev))
    return hmac.digest(key, message, "sha256").hex()


def legacy_digest(prev_hash: str, ev: Any) -> str:
    """The unkeyed digest of the first version (global sequence, no partition, no key)."""
    data = {
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
    return hashlib.sha256(prev_hash.encode() + canonical(data)).hexdigest()


# --- Row digests: the audited row's fields after the change -----------------------------------


# Fields left out of a model's row digest: those another audited service changes as part of an
# event about a different object (the escalation plan's current level moves with each decision,
# audited on the decision). Filled by the owning app's wiring.
_row_exclusions: dict[str, frozenset[str]] = {}


def audit_row_fields_exclude(model: str, fields: Iterable[str]) -> None:
    """Leave ``fields`` (attribute names) of ``model`` (``app_label.model``) out of row digests."""
    _row_exclusions[model] = _row_exclusions.get(model, frozenset()) | frozenset(fields)
    _row_plans.clear()


@functools.cache
def _passes_through(field: models.Field[Any, Any]) -> type | None:
    """The exact type whose values the field's ``to_python`` gives back unchanged and which are
    their own JSON form (None: none is known)."""
    to_python = type(field).to_python
    if isinstance(field, models.ForeignKey):
        if to_python is not models.ForeignKey.to_python:
            return None
        return _passes_through(field.target_field)
    known: dict[Any, type] = {
        models.CharField.to_python: str,
        models.TextField.to_python: str,
        models.IntegerField.to_python: int,
        models.BooleanField.to_python: bool,
    }
    return known.get(to_python)


def _field_value(field: models.Field[Any, Any], value: Any) -> Any:
    if value is None:
        return None
    if type(value) is _passes_through(field):
        return value
    return _converted(field, value)


def _converted(field: models.Field[Any, Any], value: Any) -> Any:
    value = field.to_python(value)
    if isinstance(field, models.DecimalField) and isinstance(value, decimal.Decimal):
        if field.decimal_places is not None:
            value = value.quantize(decimal.Decimal(1).scaleb(-field.decimal_places))
        return str(value)
    if isinstance(field, models.FloatField):
        return float(value)
    return jsonable(value)


# Shortcuts of ``_converted`` for a value of the exact type the field's own ``to_python`` gives
# back unchanged: the same result without the general checks; any other value takes the
# general way.
Converter = Callable[["models.Field[Any, Any]", Any], Any]


def _text_value(field: models.Field[Any, Any], value: Any) -> Any:
    return value if isinstance(value, str) else _converted(field, value)  # e.g. an enum member


def _date_value(field: models.Field[Any, Any], value: Any) -> Any:
    return value.isoformat() if type(value) is dt.date else _converted(field, value)


def _datetime_value(field: models.Field[Any, Any], value: Any) -> Any:
    if type(value) is not dt.datetime:
        return _converted(field, value)
    return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()


def _decimal_value(field: models.Field[Any, Any], value: Any) -> Any:
    if type(value) is not decimal.Decimal or not value.is_finite():
        return _converted(field, value)
    places = field.decimal_places  # type: ignore[attr-defined]
    return str(value.quantize(decimal.Decimal(1).scaleb(-places)) if places is not None else value)


def _float_value(field: models.Field[Any, Any], value: Any) -> Any:
    return value if type(value) is float else _converted(field, value)


def _json_value(field: models.Field[Any, Any], value: Any) -> Any:
    return jsonable(value)  # JSONField.to_python gives any value back


_CONVERTERS: dict[Any, Converter] = {
    models.CharField.to_python: _text_value,
    models.TextField.to_python: _text_value,
    models.DateField.to_python: _date_value,
    models.DateTimeField.to_python: _datetime_value,
    models.DecimalField.to_python: _decimal_value,
    models.FloatField.to_python: _float_value,
}


def _converter(field: models.Field[Any, Any]) -> Converter:
    to_python = type(field).to_python
    if type(field) is models.JSONField and to_python is models.Field.to_python:
        return _json_value
    return _CONVERTERS.get(to_python, _converted)


@dataclass(frozen=True)
class _RowPlan:
    """What a model's row digest reads, worked out once per model class."""

    attnames: frozenset[str]  # every concrete field: all must be loaded
    # (attname, field, the type its values keep as they are, the conversion of other values)
    fields: tuple[tuple[str, models.Field[Any, Any], type | None, Converter], ...]


_row_plans: dict[type[models.Model], _RowPlan] = {}


def _row_plan(model: type[models.Model]) -> _RowPlan:
    plan = _row_plans.get(model)
    if plan is None:
        excluded = _row_exclusions.get(model._meta.label_lower, frozenset())
        concrete = model._meta.concrete_fields
        plan = _RowPlan(
            frozenset(f.attname for f in concrete),
            tuple(
                (f.attname, f, _passes_through(f), _converter(f))
                for f in concrete
                if f.attname not in excluded
            ),
        )
        _row_plans[model] = plan
    return plan


def row_digest(instance: models.Model) -> str:
    """SHA-256 of the row's concrete fields as stored; "" when unknown (unsaved, expressions,
    deferred fields)."""
    if isinstance(instance, LazyObject):  # e.g. a request's user: digest the row it stands for
        lazy: Any = instance
        if lazy._wrapped is empty:
            lazy._setup()
        instance = lazy._wrapped
    if instance.pk is None or instance._state.adding:
        return ""
    plan = _row_plan(type(instance))
    if not plan.attnames <= instance.__dict__.keys():
        return ""  # loaded in part: reading the rest would cost a query per field
    values: dict[str, Any] = {}
    for attname, field, plain, convert in plan.fields:
        value = getattr(instance, attname)
        if value is None or type(value) is plain:  # what _field_value gives back
            values[attname] = value
            continue
        if isinstance(value, Combinable):  # e.g. F("version") + 1: the stored value is unknown
            return ""
        values[attname] = convert(field, value)
    return hashlib.sha256(canonical(values)).hexdigest()


def keyring_ids() -> Mapping[str, bytes]:
    keys: Mapping[str, bytes] = settings.AUDIT_KEYS
    return keys
