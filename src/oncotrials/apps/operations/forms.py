"""The accrual plan form: the plan a trial's (or a cohort's) accrual forecast weighs against
the data, with the other centres recruiting into it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.widgets import IsoDateInput
from oncotrials.core.errors import OncotrialsError


class AccrualPlanForm(forms.Form):
    target = forms.IntegerField(label=_("Target (patients)"), min_value=1, max_value=100000)
    starts_on = forms.DateField(label=_("Accrual starts on"), widget=IsoDateInput())
    duration_months = forms.FloatField(
        label=_("Planned duration (months)"),
        min_value=0.1,
        max_value=1200,
        widget=forms.NumberInput(attrs={"step": "0.1"}),
    )
    certainty = forms.FloatField(
        label=_("Prior certainty P (0–1]"),
        min_value=0.05,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.05"}),
    )
    external_centres = forms.CharField(
        label=_("Other centres, one a line: name; opening date; patients recruited"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "plan-%s")
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["reason"] = forms.CharField(label=_("Reason for change"), max_length=500)

    def clean_external_centres(self) -> list[dict[str, Any]]:
        """ "name; opens_on; recruited" per line."""
        out = []
        text = self.cleaned_data.get("external_centres") or ""
        for i, line in enumerate(text.strip().splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(";")]
            if len(parts) < 2:
                raise forms.ValidationError(
                    _("Line %(i)d of the centres: write 'name; YYYY-MM-DD; patients recruited'."),
                    params={"i": i},
                    code="centre",
                )
            try:
                dt.date.fromisoformat(parts[1])
            except ValueError:
                raise forms.ValidationError(
                    _("Line %(i)d of the centres: give the opening date as YYYY-MM-DD."),
                    params={"i": i},
                    code="centre_date",
                ) from None
            out.append(
                {
                    "name": parts[0],
                    "opens_on": parts[1],
                    "recruited": parts[2] if len(parts) > 2 else 0,
                }
            )
        return out

    def apply_error(self, exc: OncotrialsError) -> None:
        """A refusal of the service beside the field it names, else above the form."""
        field = str(exc.extra.get("field") or "")
        self.add_error(field if field in self.fields else None, exc.message)


def nothing_saved(exc: OncotrialsError) -> str:
    """The message of a refused action of a page with several small forms (resources, planner):
    the field concerned when the service names one, never an empty ``()``."""
    field = str(exc.extra.get("field") or "")
    if field:
        return gettext("Nothing was saved (%(f)s): %(m)s") % {"f": field, "m": exc.message}
    return gettext("Nothing was saved: %(m)s") % {"m": exc.message}
