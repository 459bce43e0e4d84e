from __future__ import annotations

from django.db.models import QuerySet

from oncotrials.apps.accounts.access import scope_for
from oncotrials.apps.accounts.models import Actor

from .models import AuditEvent


def audit_events_for_object(
    *, object_type: str, object_id: str, user: Actor
) -> QuerySet[AuditEvent]:
    """Events about one object; callers must already have authorised access to that object."""
    if not scope_for(user).site_ids and not scope_for(user).is_admin:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(object_type=object_type, object_id=object_id).select_related(
        "actor"
    )
