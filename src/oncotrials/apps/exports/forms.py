from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .registry import formats_all


class DataCutForm(forms.Form):
    trial = forms.TypedChoiceField(label=_("Trial"), coerce=int)
    name = forms.CharField(label=_("Name of the cut"), max_length=100)
    formats = forms.MultipleChoiceField(
        label=_("Formats"), widget=forms.CheckboxSelectMultiple, initial=["sdtm"]
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args: Any, trials: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trial"].choices = [(t.pk, t.protocol_code) for t in trials]  # type: ignore[attr-defined]
        self.fields["formats"].choices = [(f.name, f.label) for f in formats_all()]  # type: ignore[attr-defined]
