"""A visit's status and what made it done in words (``{{ v.status|visit_status }}``,
``{{ v.source|visit_source }}``), never their codes."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

register = template.Library()

_LABELS = {
    "done": _("Done"),
    "done_out_of_window": _("Done out of window"),
    "due": _("Due"),
    "overdue": _("Overdue"),
    "upcoming": _("Upcoming"),
    "not_done": _("Not done"),
    "not_applicable": _("Not applicable"),
}


@register.filter
def visit_status(value: Any) -> str:
    """The words of a visit status (an enum member or its value)."""
    code = str(getattr(value, "value", value))
    return str(_LABELS.get(code, code))


#: What made a visit of the calendar done (``ExpectedVisit.source``): the visit recorded, the
#: screening, the visit's forms, or a kind of evidence the higher apps register in
#: ``subjects.visit_evidence`` (tumour assessments, adverse events), by its code.
SOURCE_LABELS = {
    "visit": _("visit recorded"),
    "screening": _("at screening"),
    "forms": _("forms recorded"),
    "recist": _("tumour assessment"),
    "adverse_events": _("adverse event"),
}


@register.filter
def visit_source(value: Any) -> str:
    """The words of what made a visit done; another kind of evidence is named after the form
    of the schedule it records."""
    code = str(value or "")
    if not code:
        return ""
    label = SOURCE_LABELS.get(code)
    return str(label) if label is not None else gettext("form %(form)s") % {"form": code}
