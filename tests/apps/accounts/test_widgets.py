"""Shared widgets draw exactly what Django's own would."""

from __future__ import annotations

import pytest
from django import forms

from oncotrials.apps.accounts.widgets import ListSelect

CHOICES = [
    [("", "All trials"), (1, "T-<&>\"'1"), (2, "B")],
    [("G1", [(1, "A"), (2, "B")]), ("", "none"), ("G2", [(3, "C & D")])],
    [],
]


@pytest.mark.parametrize("choices", CHOICES)
@pytest.mark.parametrize("value", [None, "", 2, 3])
@pytest.mark.parametrize("attrs", [{}, {"class": "x", "required": True, "disabled": False}])
def test_list_select_renders_as_djangos_select(choices, value, attrs):
    own = ListSelect(choices=choices, attrs=attrs).render("f", value, {"id": "id_f"})
    django = forms.Select(choices=choices, attrs=attrs).render("f", value, {"id": "id_f"})
    assert own == django
    assert ListSelect.template_name != forms.Select.template_name  # not Django's template


def test_work_list_filters_use_it():
    from oncotrials.apps.subjects.forms import WorklistFilterForm

    form = WorklistFilterForm(trials=[(1, "T-1")], sites=[(2, "main")])
    assert isinstance(form.fields["trial"].widget, ListSelect)
    assert isinstance(form.fields["site"].widget, ListSelect)
    assert '<option value="1">T-1</option>' in str(form["trial"])
