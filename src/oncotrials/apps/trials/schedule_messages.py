"""The visit-schedule core's refusals and problems in the user's language.

``oncotrials.core.schedule`` (no Django there) refuses a document or a calendar request with a
stable code and the values it names, and reports each broken rule of a schedule as a
``Problem`` with its code (``E001``...) and ``params``. This is the one place that words them;
a code it does not know keeps the core's English.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.core_messages import Catalogue

#: the refusals (``ValidationError``) of ``core.schedule``, by code
SCHEDULE_MESSAGES: Catalogue = {
    "schedule_json_syntax": _(
        "%(file)s: not valid JSON at line %(line)s, column %(column)s: %(problem)s."
    ),
    "schedule_yaml_syntax": _("%(file)s: not valid YAML: %(problem)s."),
    "schedule_yaml_syntax_at": _(
        "%(file)s: not valid YAML at line %(line)s, column %(column)s: %(problem)s."
    ),
    "schedule_format": _("%(source)s: %(path)s: %(problem)s. See %(doc)s for the format."),
    "schedule_done_not_date": _("done.%(visit)s: expected a date; got %(value)s."),
    "schedule_done_future": _(
        "done.%(visit)s: %(date)s is after today (%(today)s); a visit cannot be done in the future."
    ),
    "schedule_end_of_treatment_future": _(
        "end_of_treatment: %(date)s is after today (%(today)s); record it once treatment has ended."
    ),
    "schedule_horizon_negative": _("horizon_days: must be >= 0; got %(value)s."),
    "schedule_mark_unknown": _(
        "marked.%(visit)s: a visit is marked not_done or not_applicable; got %(value)s."
    ),
}

#: the problems (``Problem``) of ``core.schedule.checks``, by code (or by ``params["reason"]``)
SCHEDULE_PROBLEM_MESSAGES: Catalogue = {
    "E001": _("Visit %(visit)s lists an unknown form %(form)s."),
    "E002": _(
        "Visit code %(visit)s is used twice (%(first)s and %(second)s); every visit needs its "
        "own code."
    ),
    "E003_before": _(
        "Visit %(visit)s has a negative window: %(field)s.before is %(value)s; give the number "
        "of days allowed before the target (>= 0)."
    ),
    "E003_after": _(
        "Visit %(visit)s has a negative window: %(field)s.after is %(value)s; give the number "
        "of days allowed after the target (>= 0)."
    ),
    "E004": _(
        "Visits %(first)s and %(second)s have overlapping windows (day %(last_day)s is the last "
        "day for %(first)s, day %(first_day)s the first for %(second)s); narrow a window so "
        "every date belongs to one visit."
    ),
    "E005": _(
        "Visit %(visit)s is on day %(day)s of a %(length)s-day cycle; cycle days run from 1 to "
        "%(length)s."
    ),
    "E006": _("%(path)s: %(problem)s. See %(doc)s."),
    "E007": _(
        "Visit %(visit)s is restricted to cycle %(cycle)s, but cycles run from 1 to %(last)s."
    ),
    "E008": _(
        "Follow-up is declared but there is no end_of_treatment visit; follow-up counts from "
        "the end-of-treatment date, so declare end_of_treatment."
    ),
    "E009": _(
        "Cycle day %(day)s is declared twice (days[%(first)s] and days[%(second)s]); merge their "
        "forms and procedures."
    ),
    "E010": _(
        "The reference is C1D1 but cycles.start_offset_days is %(offset)s; use 0, or make "
        "registration the reference."
    ),
    "W001": _("Visit %(visit)s has neither forms nor procedures."),
    "W002": _(
        "Imaging every %(weeks)s weeks is not a whole number of %(length)s-day cycles, so scans "
        "will not fall on cycle visits."
    ),
}


def problem_translated(problem: Any) -> Any:
    """``problem`` with its message in the active language (the core's English when its code
    has no wording here, or the wording names a value the problem does not carry)."""
    params = dict(problem.params)
    template = SCHEDULE_PROBLEM_MESSAGES.get(params.get("reason", "")) or (
        SCHEDULE_PROBLEM_MESSAGES.get(problem.code)
    )
    if template is None:
        return problem
    try:
        message = str(template) % params
    except (KeyError, TypeError, ValueError):
        return problem
    return dataclasses.replace(problem, message=message)
