"""What the generic services need to know about a clinical record, whatever app owns it.

A *record* is any model instance with a ``version`` field (bumped on every change) that belongs
to a patient through one of: being a ``Patient``, a ``registration`` foreign key, or a
``patient`` foreign key. Other apps make their models usable by the queries / SDV / signature
services (and the generic API endpoints) by registering them once from ``AppConfig.ready``
(each app's ``wiring.py``): ``record_type_register(AdverseEvent)`` makes the type
"safety.adverseevent" known, ``casebook_provider_register(fn)`` adds its records to a casebook.

A record with open queries or signatures is never deleted: it is voided (a ``voided_at``
field; ``record_voided``), and its owner closes its queries with ``queries_close_for_void``.

A model may name the fields a query may point at with ``record_type_register(model,
field_names=fn)`` (``fn(record) -> set[str]``; default: its concrete model fields).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.db import models
from django.utils.translation import gettext

from oncotrials.apps.audit.services import model_snapshot
from oncotrials.apps.subjects.models import Patient, Registration
from oncotrials.core.errors import ValidationError

RECORD_TYPES: dict[str, type[models.Model]] = {}
CASEBOOK_PROVIDERS: list[Callable[[Any], Iterable[models.Model]]] = []
FIELD_NAMES: dict[str, Callable[[Any], set[str]]] = {}


def record_type_register(
    model: type[models.Model], *, field_names: Callable[[Any], set[str]] | None = None
) -> str:
    """Make ``model`` addressable by the generic services and endpoints; returns its label.

    ``field_names(record)``: the fields a query may point at (default: the concrete fields)."""
    if not any(f.name == "version" for f in model._meta.concrete_fields):
        raise TypeError(f"{model._meta.label} has no 'version' field; it cannot be signed.")
    label = model._meta.label_lower
    RECORD_TYPES[label] = model
    if field_names is not None:
        FIELD_NAMES[label] = field_names
    return label


def casebook_provider_register(provider: Callable[[Any], Iterable[models.Model]]) -> None:
    """``provider(registration)`` yields the records that belong to the patient casebook; a
    casebook signature is invalidated when any of them changes."""
    if provider not in CASEBOOK_PROVIDERS:
        CASEBOOK_PROVIDERS.append(provider)


def record_label(record: models.Model) -> str:
    return record._meta.label_lower


def record_owner(record: models.Model) -> tuple[Any, Any]:
    """(patient, registration or None) of a record."""
    if isinstance(record, Patient):
        return record, None
    if isinstance(record, Registration):
        return record.patient, record
    registration = getattr(record, "registration", None)
    if isinstance(registration, Registration):
        return registration.patient, registration
    patient = getattr(record, "patient", None)
    if isinstance(patient, Patient):
        return patient, None
    raise ValidationError(
        gettext(
            "A %(record)s does not belong to a patient; queries, verification and signatures "
            "need records with a registration or patient."
        )
        % {"record": record._meta.verbose_name}
    )


def record_version(record: models.Model) -> int:
    version = getattr(record, "version", None)
    if not isinstance(version, int):
        raise ValidationError(
            gettext("A %(record)s has no version number.") % {"record": record._meta.verbose_name}
        )
    return version


def record_voided(record: models.Model) -> bool:
    """Whether the record was voided (entered in error): a record that can be voided keeps the
    time in ``voided_at``; it is never deleted, and takes no new query."""
    return getattr(record, "voided_at", None) is not None


def record_field_names(record: models.Model) -> set[str]:
    names = FIELD_NAMES.get(record_label(record))
    if names is not None:
        return set(names(record))
    return {f.name for f in record._meta.concrete_fields}


def _snapshot(record: models.Model) -> list[Any]:
    fresh = type(record)._default_manager.get(pk=record.pk)
    return [record_label(fresh), fresh.pk, model_snapshot(fresh)]


def record_fingerprint(record: models.Model) -> str:
    """SHA-256 of the record's stored content (and, for a casebook, of every record in it)."""
    parts: list[Any] = [_snapshot(record)]
    if isinstance(record, Registration):
        members: list[models.Model] = []
        for provider in CASEBOOK_PROVIDERS:
            members.extend(provider(record))
        members.sort(key=lambda m: (record_label(m), m.pk))
        parts.extend([record_label(m), m.pk, model_snapshot(m)] for m in members)
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
