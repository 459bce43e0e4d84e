"""Start-up checks: every stored visit schedule is valid (database-tagged system checks)."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register(checks.Tags.database)
def visit_schedules_check(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    if not databases:
        return []
    from django.db.utils import DatabaseError

    from .models import VisitScheduleDefinition
    from .services import schedule_problems

    messages: list[checks.CheckMessage] = []
    try:
        definitions = list(VisitScheduleDefinition.objects.select_related("trial"))
    except DatabaseError:
        return []  # not migrated yet
    for definition in definitions:
        for p in schedule_problems(definition.document):
            cls = checks.Error if p.is_error else checks.Warning
            messages.append(
                cls(
                    f"{definition.trial.protocol_code}: {p.message}",
                    id=f"oncotrials.{p.code}",
                    obj=definition,
                )
            )
    return messages
