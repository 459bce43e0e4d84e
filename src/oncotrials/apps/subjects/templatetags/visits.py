"""A visit's status in words (``{{ v.status|visit_status }}``), never its code."""

from __future__ import annotations

from typing import Any

from django import template
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
