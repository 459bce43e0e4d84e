"""One way to render a form field on every page: its label (with "*" when required and the unit
inside), the input with ``aria-invalid`` and ``aria-describedby``, its help and every error next
to it; and one error summary (``role="alert"``, linking each error to its field) above the form.

    {% load formfields %}
    {% form_errors form %}            the summary and the "* required" note, once per form
    {% field form.dose unit="mg" %}   one field (the unit may also be set as ``field.unit``)
    {% cell form.organ_2 row="T3" %}  one input of a grid, whose column header is its visible
                                      label: named "Organ (T3)" by ``aria-label``, its error
                                      beside it
"""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.safestring import SafeString

register = template.Library()

_GROUPS = (forms.CheckboxSelectMultiple, forms.RadioSelect)


def _target_id(bf: BoundField) -> str:
    """The id the summary links to: the input itself, or the first box of a group."""
    auto_id = bf.auto_id or f"id_{bf.html_name}"
    if isinstance(bf.field.widget, _GROUPS):
        return f"{auto_id}_0"
    return auto_id


@register.inclusion_tag("forms/field.html")
def field(bf: BoundField, unit: str = "", **attrs: Any) -> dict[str, Any]:
    """Render one bound field; ``attrs`` are added to its input (``hx-get`` and the like)."""
    widget = bf.field.widget
    auto_id = bf.auto_id or f"id_{bf.html_name}"
    errors = list(bf.errors)
    described = []
    if bf.help_text:
        described.append(f"{auto_id}-help")
    extra: dict[str, Any] = {k.replace("_", "-"): v for k, v in attrs.items()}
    if errors:
        described.append(f"{auto_id}-error")
        extra["aria-invalid"] = "true"
    if described:
        extra["aria-describedby"] = " ".join(described)
    if bf.field.required and not isinstance(widget, (*_GROUPS, forms.CheckboxInput)):
        extra["aria-required"] = "true"
    kind = "input"
    if isinstance(widget, forms.HiddenInput):
        kind = "hidden"
    elif isinstance(widget, _GROUPS):
        kind = "group"
    elif isinstance(widget, forms.CheckboxInput):
        kind = "checkbox"
    return {
        "bf": bf,
        "kind": kind,
        "widget": SafeString(bf.as_widget(attrs=extra)),
        "label": bf.label,
        "unit": unit or getattr(bf.field, "unit", ""),
        "required": bf.field.required and kind != "checkbox",
        "errors": errors,
        "error_id": f"{auto_id}-error",
        "help_id": f"{auto_id}-help",
        "group_id": f"{auto_id}-group",
    }


@register.inclusion_tag("forms/cell.html")
def cell(bf: BoundField, row: str = "") -> dict[str, Any]:
    """One input of a grid row, marked like a field (``aria-invalid``, ``aria-describedby``)
    with its error next to it, and named by its column and ``row`` for assistive technology."""
    auto_id = bf.auto_id or f"id_{bf.html_name}"
    errors = list(bf.errors)
    name = str(bf.label or bf.name)
    attrs: dict[str, Any] = {"aria-label": f"{name} ({row})" if row else name}
    if errors:
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{auto_id}-error"
    return {
        "bf": bf,
        "widget": SafeString(bf.as_widget(attrs=attrs)),
        "errors": errors,
        "error_id": f"{auto_id}-error",
    }


@register.inclusion_tag("forms/error_summary.html")
def form_errors(form: forms.BaseForm, note: bool = True) -> dict[str, Any]:
    """The error summary of a bound form (every error, each a link to its field) and the note
    explaining "*", when a field is required."""
    items: list[tuple[str, str, str]] = []
    if form.is_bound:
        for message in form.non_field_errors():
            items.append(("", "", str(message)))
        for name, bf_field in form.fields.items():
            if name not in form.errors:
                continue
            bf = form[name]
            for message in bf.errors:
                items.append((_target_id(bf), str(bf_field.label or name), str(message)))
    required = any(
        f.required and not isinstance(f.widget, forms.HiddenInput | forms.CheckboxInput)
        for f in form.fields.values()
    )
    return {"items": items, "note": note and required, "prefix": form.prefix or ""}
