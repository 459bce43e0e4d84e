"""The lab-result and drug-administration forms: what they can check, in plain words and all at
once, before the service (which stays the judge; its refusals land next to their field)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.widgets import IsoDateInput
from oncotrials.core.grading import ANALYTES
from oncotrials.core.numbers import plain

from .models import Modification

BLANK = [("", "—")]


class NumberField(forms.CharField):
    """A number typed as written (``1.5`` or ``1,5``); kept as text for the service."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)
        self.widget.attrs["inputmode"] = "decimal"

    def clean(self, value: Any) -> str:
        text = str(super().clean(value) or "").strip()
        if text:
            try:
                number = Decimal(text.replace(",", "."))
            except InvalidOperation:
                number = Decimal("NaN")
            if not number.is_finite():
                raise forms.ValidationError(
                    _("Enter a number, e.g. 1.5; got “%(value)s”."),
                    params={"value": text},
                    code="invalid",
                )
        return text


def _not_future(form: forms.Form, name: str) -> None:
    day = form.cleaned_data.get(name)
    today = timezone.localdate()
    if day is not None and day > today:
        form.add_error(
            name,
            forms.ValidationError(
                _("This date is in the future; today is %(today)s."),
                params={"today": today.isoformat()},
            ),
        )


def _number(text: Any) -> Decimal | None:
    return Decimal(str(text).replace(",", ".")) if text not in (None, "") else None


class LabResultForm(forms.Form):
    analyte = forms.ChoiceField(label=_("Analyte"), choices=BLANK)
    value = NumberField(label=_("Value"))
    unit = forms.CharField(label=_("Unit"), max_length=32)
    lln = NumberField(label=_("Lower limit of normal"), required=False)
    uln = NumberField(label=_("Upper limit of normal"), required=False)
    limit_unit = forms.CharField(
        label=_("Unit of the limits"),
        max_length=32,
        required=False,
        help_text=_("Only when the limits are in another unit than the value, e.g. 10^9/L"),
    )
    sampled_on = forms.DateField(label=_("Sampled on"), widget=IsoDateInput)
    visit_code = forms.CharField(label=_("Visit"), max_length=20, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        analyte = self.fields["analyte"]
        assert isinstance(analyte, forms.ChoiceField)
        analyte.choices = BLANK + [(a, a) for a in sorted(ANALYTES)]
        for name in ("lln", "uln"):
            self.fields[name].unit = _(  # type: ignore[attr-defined]
                "unit of the value, unless the unit of the limits is given"
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _not_future(self, "sampled_on")
        lo, hi = _number(data.get("lln")), _number(data.get("uln"))
        if lo is not None and hi is not None and lo >= hi:
            self.add_error(
                "uln",
                _("The upper limit of normal must be above the lower limit (%(lln)s).")
                % {"lln": plain(lo)},
            )
        return data


class AdministrationForm(forms.Form):
    agent = forms.CharField(label=_("Agent"), max_length=200)
    dose = NumberField(label=_("Dose"))
    unit = forms.CharField(label=_("Unit"), max_length=32)
    administered_on = forms.DateField(label=_("Date"), widget=IsoDateInput)
    modification = forms.ChoiceField(
        label=_("Modification"), choices=Modification.choices, initial=Modification.NONE
    )
    modification_reason = forms.CharField(
        label=_("Reason for the modification"), max_length=300, required=False
    )
    visit_code = forms.CharField(label=_("Visit"), max_length=20, required=False)

    def __init__(self, *args: Any, regimen: Sequence[Any] = (), **kwargs: Any) -> None:
        units = sorted({d.unit for d in regimen})
        if len(units) == 1:
            kwargs.setdefault("initial", {}).setdefault("unit", units[0])
        super().__init__(*args, **kwargs)
        if regimen:
            self.fields["agent"] = forms.ChoiceField(
                label=_("Agent"),
                choices=BLANK
                + [(d.agent, f"{d.agent} ({plain(d.dose)} {d.unit})") for d in regimen],
            )
        if len(units) == 1:
            self.fields["dose"].unit = units[0]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _not_future(self, "administered_on")
        dose = _number(data.get("dose"))
        if dose is not None and dose < 0:
            self.add_error("dose", _("A dose cannot be negative."))
        modification = data.get("modification")
        if (
            modification
            and modification != Modification.NONE
            and not (data.get("modification_reason") or "").strip()
        ):
            self.add_error(
                "modification_reason",
                _("Say why (e.g. the toxicity that caused the %(modification)s).")
                % {"modification": Modification(modification).label.lower()},
            )
        return data
