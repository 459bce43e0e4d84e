"""The form renderer: Django's template renderer, with its commonest widgets (an input and a
select of options) written out in Python.

Django renders a select through one template per option and one more for each option's
attributes: a page of journey forms with a hundred options rendered some three hundred templates,
the largest share of its CPU. The markup is Django's, byte for byte
(``tests/web/test_form_renderer.py`` compares it with the templates'); any other widget, or a
select whose options use another template, is rendered by the templates as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in the stubs

_WIDGETS = "django/forms/widgets/"
_OPTION = _WIDGETS + "select_option.html"


def _var(value: Any) -> str:
    """What ``{{ value }}`` prints (as ``render_value_in_context`` does, autoescaping)."""
    value = localize(template_localtime(value))
    return conditional_escape(value if isinstance(value, str) else str(value))


def _s(value: Any) -> str:
    """What ``{{ value|stringformat:'s' }}`` prints."""
    try:
        text = "%s" % (str(value) if isinstance(value, tuple) else value)
    except (ValueError, TypeError):
        text = ""
    # The filter keeps a safe value safe: printed as it is, never escaped.
    return text if isinstance(value, SafeData) else _var(text)


def _attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``."""
    return "".join(
        f" {_var(name)}" if value is True else f' {_var(name)}="{_s(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict[str, Any]) -> str:
    """``django/forms/widgets/input.html`` (and the inputs that include it), stripped."""
    value = f' value="{_s(widget["value"])}"' if widget["value"] != None else ""  # noqa: E711
    return f'<input type="{_var(widget["type"])}" name="{_var(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _option(option: dict[str, Any]) -> str:
    """``django/forms/widgets/select_option.html``, as included (its newline kept)."""
    return f'<option value="{_s(option["value"])}"{_attrs(option["attrs"])}>{_var(option["label"])}</option>\n'


def _select(widget: dict[str, Any]) -> str | None:
    """``django/forms/widgets/select.html``, stripped; None if an option has its own template."""
    out = [f'<select name="{_var(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_var(group_name)}">')
        for option in group_choices:
            if option["template_name"] != _OPTION:
                return None
            out.append("\n  " + _option(option))
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


_FAST: dict[str, Callable[[dict[str, Any]], str | None]] = {
    _WIDGETS + "select.html": _select,
    **{
        f"{_WIDGETS}{name}.html": _input
        for name in [
            *("input", "checkbox", "color", "date", "datetime", "email", "file", "hidden"),
            *("number", "password", "search", "tel", "text", "time", "url"),
        ]
    },
}


class FormRenderer(DjangoTemplates):
    """Django's ``DjangoTemplates`` renderer, inputs and selects rendered in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        fast = _FAST.get(template_name)
        widget = context.get("widget")
        if fast is not None and isinstance(widget, dict):
            html = fast(widget)
            if html is not None:
                return SafeString(html)
        return super().render(template_name, context, request=request)
