"""Start-up checks of the form declarations (stable ids, see oncotrials.core.crf.declarations).

- oncotrials.E101: a field has an unknown type;
- oncotrials.E102: a trial's visit schedule lists a form that is not declared for the trial;
- oncotrials.E103: a declaration is malformed.

The standard library (Python declarations) is checked always; trial declarations and visit
schedules are stored in the database and checked with the ``database`` tag.
"""

from __future__ import annotations

from typing import Any

from django.core import checks

from oncotrials.apps.trials.models import VisitScheduleDefinition
from oncotrials.core.crf.declarations import (
    STANDARD_FORMS,
    declaration_problems,
    standard_problems,
)


@checks.register()
def crfs_standard_forms_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(f"Standard forms: {p.message}", id=f"oncotrials.{p.code}")
        for p in standard_problems()
    ]


@checks.register(checks.Tags.database)
def crfs_trial_forms_check(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    if not databases:
        return []
    from django.db.utils import DatabaseError

    from oncotrials.core.errors import OncotrialsError
    from oncotrials.core.schedule import load_schedule

    from .models import TrialFormDeclaration

    messages: list[checks.CheckMessage] = []
    try:
        declarations = list(TrialFormDeclaration.objects.select_related("trial"))
        schedules = list(VisitScheduleDefinition.objects.select_related("trial"))
    except DatabaseError:
        return []  # not migrated yet
    declared: dict[int, set[str]] = {}
    for decl in declarations:
        problems = declaration_problems(decl.document)
        for p in problems:
            messages.append(
                checks.Error(
                    f"{decl.trial.protocol_code}: {p.message}", id=f"oncotrials.{p.code}", obj=decl
                )
            )
        if not problems:
            declared.setdefault(decl.trial_id, set()).add(decl.name)
    for definition in schedules:
        known = set(STANDARD_FORMS) | declared.get(definition.trial_id, set())
        try:
            schedule = load_schedule(definition.document)
        except OncotrialsError:  # a broken schedule is reported by the trials check
            continue
        for label, forms in _visit_forms(schedule):
            for form in forms:
                if form not in known:
                    messages.append(
                        checks.Error(
                            f"{definition.trial.protocol_code}: visit {label} lists form "
                            f"{form!r}, which is not declared for the trial.",
                            hint="Declare it (crfs.services.form_declaration_set) or correct "
                            "the visit schedule.",
                            id="oncotrials.E102",
                            obj=definition,
                        )
                    )
    return messages


def _visit_forms(schedule: Any) -> list[tuple[str, tuple[str, ...]]]:
    out: list[tuple[str, tuple[str, ...]]] = [(v.code, v.forms) for v in schedule.visits]
    if schedule.cycles is not None:
        out += [(f"cycle day {d.day}", d.forms) for d in schedule.cycles.days]
    for part in ("imaging", "end_of_treatment", "follow_up"):
        item = getattr(schedule, part, None)
        if item is not None:
            out.append((getattr(item, "code", part), item.forms))
    return out
