"""The form renderer writes inputs and selects in Python: the same markup as Django's templates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from oncotrials.web.form_renderer import FormRenderer


class _Everything(forms.Form):
    text = forms.CharField(
        max_length=20, help_text="h", widget=forms.TextInput({"placeholder": 'a "b" <c>'})
    )
    number = forms.IntegerField(min_value=0, max_value=10_000)
    decimal = forms.DecimalField(required=False)
    date = forms.DateField(widget=forms.DateInput({"type": "date"}))
    hidden = forms.CharField(widget=forms.HiddenInput)
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    email = forms.EmailField(required=False, widget=forms.EmailInput({"disabled": True}))
    box = forms.BooleanField(required=False, widget=forms.CheckboxInput({"data-x": "1 2"}))
    off = forms.BooleanField(required=False, widget=forms.CheckboxInput({"hidden": False}))
    choice = forms.ChoiceField(
        choices=[("", "—"), (1, "One & one"), ("2", gettext_lazy("Pending")), (3, 3000)]
    )
    grouped = forms.ChoiceField(
        choices=[
            ("Group <a>", [("a", "A"), ("b", mark_safe("<b>B</b>"))]),
            ("c", "C"),
            (gettext_lazy("Eligible"), [(10, "Ten")]),
        ]
    )
    multiple = forms.MultipleChoiceField(choices=[(1, "x"), (2, "y"), (3, "z")], required=False)
    typed = forms.TypedChoiceField(choices=[(Decimal("1.5"), "1.5"), (None, "none")], coerce=str)
    ticks = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple, required=False
    )
    radio = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    notes = forms.CharField(widget=forms.Textarea, required=False)


_DATA = {
    "text": "x <y> & 'z'",
    "number": "12",
    "decimal": "1.50",
    "date": "2026-12-07",
    "hidden": mark_safe("<i>safe</i>"),
    "password": "pw",
    "box": "on",
    "choice": "2",
    "grouped": "b",
    "multiple": ["1", "3"],
    "typed": "1.5",
    "ticks": ["b"],
    "radio": "a",
}


@pytest.mark.parametrize(
    "form",
    [
        _Everything(),
        _Everything(initial={"date": dt.date(2026, 12, 7), "number": 4000, "choice": 3}),
        _Everything(data=_DATA),
        _Everything(data={}),
        _Everything(prefix="p", auto_id="f-%s"),
    ],
)
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_widget_renders_as_djangos_templates_do(form, lang, settings):
    from django.utils import translation

    templates = DjangoTemplates()
    with translation.override(lang):
        for bf in form:
            extra = {"aria-required": "true", "aria-describedby": "d-1 d-2", "autofocus": True}
            ours = bf.as_widget(attrs=extra)
            form.renderer = templates
            theirs = bf.as_widget(attrs=extra)
            form.renderer = None
            assert ours == theirs, bf.name


def test_the_site_uses_the_renderer():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), FormRenderer)


def test_the_work_list_filters_are_drawn_by_the_renderer():
    """The work list's trial and site selects (hundreds of trials in a large centre) go through
    the renderer's select, not a template per option, with Django's markup."""
    from oncotrials.apps.subjects.forms import WorklistFilterForm

    form = WorklistFilterForm(trials=[(1, "T-<1>")], sites=[(2, "main")])
    ours = str(form["trial"])
    form.renderer = DjangoTemplates()
    assert ours == str(form["trial"])
    assert '<option value="1">T-&lt;1&gt;</option>' in ours
