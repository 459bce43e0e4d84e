"""Which chain an audit event goes to: one per trial where the object belongs to a trial.

Derived cheaply at ``audit_record`` time, with no query in the common case: a resolver registered
for the model (``audit_partition_register("trials.trial", ...)``), else the object's ``trial_id``,
else a resolver registered for one of its attributes (``registration_id`` -> its trial), else the
``trial_id`` of a related object already loaded with it, else its ``site_id``, else ``global``.
Higher apps fill the registry from their wiring; the audit app imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from .models import GLOBAL_PARTITION

Resolver = Callable[[Any], "str | None"]

_by_model: dict[str, Resolver] = {}  # model label -> resolver(instance)
_by_attribute: dict[str, Resolver] = {}  # attribute name -> resolver(attribute value)


def audit_partition_register(
    *, model: str | None = None, attribute: str | None = None, resolve: Resolver
) -> None:
    """Register how to find the partition of a model's instances, or from one attribute's value.

    ``resolve`` returns a partition name (``trial_partition(id)``) or None when it cannot tell.
    """
    if (model is None) == (attribute is None):
        raise ValueError("Give a model label or an attribute name.")
    if model is not None:
        _by_model[model] = resolve
    if attribute is not None:
        _by_attribute[attribute] = resolve


def trial_partition(trial_id: Any) -> str:
    return f"trial-{trial_id}"


def site_partition(site_id: Any) -> str:
    return f"site-{site_id}"


def partition_of(instance: models.Model) -> str:
    resolver = _by_model.get(instance._meta.label_lower)
    if resolver is not None and (name := resolver(instance)):
        return name
    trial_id = getattr(instance, "trial_id", None)
    if trial_id is not None:
        return trial_partition(trial_id)
    for attribute, resolve in _by_attribute.items():
        value = getattr(instance, attribute, None)
        if value is not None and (name := resolve(value)):
            return name
    for related in instance._state.fields_cache.values():  # loaded with it: no query
        trial_id = getattr(related, "trial_id", None)
        if trial_id is not None:
            return trial_partition(trial_id)
    site_id = getattr(instance, "site_id", None)
    if site_id is not None:
        return site_partition(site_id)
    return GLOBAL_PARTITION
