"""The CRF core's findings in the user's language.

``oncotrials.core.crf`` (no Django there) reports an edit-check finding (an ``Issue``) or a fault of
a form declaration (a ``Problem``) with English text, a stable code and, in ``params``, the
``reason`` (which check, or which rule of the declaration) and the values the text names: the
field's title, the value received, the bounds. This is the one place that words them: each reason
maps to a translatable template with the same placeholders. A date check worded by the trial's
own declaration keeps that wording.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TypeVar

from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.core_messages import Catalogue
from oncotrials.core.crf import Issue, Problem

CRF_CORE_MESSAGES: Catalogue = {
    # --- edit checks of a form's values (run_checks) ---------------------------------------
    "crf_type_text": _("%(title)s: expected text; got %(value)s."),
    "crf_type_too_long": _("%(title)s: at most %(max_length)s characters; got %(value)s."),
    "crf_type_boolean": _("%(title)s: expected yes or no; got %(value)s."),
    "crf_type_number": _("%(title)s: expected a number; got %(value)s."),
    "crf_type_integer": _("%(title)s: expected a whole number; got %(value)s."),
    "crf_type_date": _("%(title)s: expected a date as YYYY-MM-DD; got %(value)s."),
    "crf_type_unknown": _("%(title)s: unknown type %(type)s; got %(value)s."),
    "crf_choice": _("%(title)s: expected one of %(allowed)s; got %(value)s."),
    "crf_required": _("%(title)s is required."),
    "crf_required_if": _("%(title)s is required when %(other)s is %(expected)s."),
    "crf_required_if_yes": _("%(title)s is required when %(other)s is yes."),
    "crf_required_if_no": _("%(title)s is required when %(other)s is no."),
    "crf_range": _(
        "%(title)s must lie between %(low)s and %(high)s%(unit)s; got %(value)s%(unit)s."
    ),
    "crf_expected_range": _(
        "%(title)s %(value)s%(unit)s is outside the expected range %(low)s–%(high)s%(unit)s; "
        "please confirm it against the source."
    ),
    "crf_future_date": _("%(title)s cannot be in the future; got %(value)s (today is %(today)s)."),
    "crf_date_order": _("%(title)s (%(value)s) cannot be before %(earlier)s (%(earlier_value)s)."),
    # --- a form declaration's faults (declaration_problems) --------------------------------
    "crf_declaration_object": _("A form declaration must be an object; got %(kind)s."),
    "crf_form_name": _("Form %(form)s: the name must be lower-case letters, digits and '_'."),
    "crf_form_name_reserved": _("Form %(form)s: the name is reserved for record forms."),
    "crf_fields_list": _("Form %(form)s: 'fields' must be a non-empty list."),
    "crf_field_object": _("Form %(form)s: fields[%(index)s] must be an object."),
    "crf_field_name": _("Form %(form)s: fields[%(index)s] has an invalid name %(name)s."),
    "crf_field_twice": _("Form %(form)s: field %(name)s is declared twice."),
    "crf_field_type": _(
        "Form %(form)s: field %(name)s has an unknown type %(type)s; use one of %(allowed)s."
    ),
    "crf_field_keys": _("Form %(form)s: field %(name)s has unknown keys %(keys)s."),
    "crf_field_bound": _(
        "Form %(form)s: field %(name)s: %(key)s needs a number on an integer or decimal field; "
        "got %(value)s."
    ),
    "crf_field_bounds_order": _("Form %(form)s: field %(name)s: %(low)s is above %(high)s."),
    "crf_field_choices": _("Form %(form)s: choice field %(name)s needs a list of choices."),
    "crf_required_if_shape": _(
        'Form %(form)s: field %(name)s: required_if must be {"field": ..., "equals": ...}.'
    ),
    "crf_required_if_field": _(
        "Form %(form)s: field %(name)s: required_if names an unknown field %(other)s."
    ),
    "crf_date_checks_list": _("Form %(form)s: 'date_checks' must be a list."),
    "crf_date_check_sides": _("Form %(form)s: date_checks[%(index)s] needs 'earlier' and 'later'."),
    "crf_date_check_field": _(
        "Form %(form)s: date_checks[%(index)s].%(side)s names %(name)s, which is not a date "
        "field of the form."
    ),
    "crf_form_twice": _("Form %(form)s is declared twice."),
}

_Finding = TypeVar("_Finding", Issue, Problem)


def crf_translated(finding: _Finding) -> _Finding:
    """``finding`` with its message in the active language (the core's English when its reason
    has no wording here, or the wording names a value it does not carry)."""
    params = dict(finding.params)
    template = CRF_CORE_MESSAGES.get(str(params.get("reason", "")))
    if template is None:
        return finding
    try:
        message = str(template) % params
    except (KeyError, TypeError, ValueError):
        return finding
    return dataclasses.replace(finding, message=message)


def crf_all_translated(findings: Iterable[_Finding]) -> list[_Finding]:
    return [crf_translated(f) for f in findings]
