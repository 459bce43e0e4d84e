"""The accrual plan form: the plan a trial's (or a cohort's) accrual forecast weighs against
the data, with the other centres recruiting into it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
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


# --- the small forms of the resources page and of the week planner ----------------------------


class PageForm(forms.Form):
    """One of several small forms on one page: its inputs keep their plain names (the page tells
    them apart by its ``action``) but their ids carry the form's name, so that no two forms of the
    page share an id."""

    form_name = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.form_name}-%s")
        super().__init__(*args, **kwargs)

    def field_of(self, exc: OncotrialsError) -> str:
        """The field of this form a service's refusal names, or "" (said above the form)."""
        field = str(exc.extra.get("field") or "")
        if field in self.fields and not self.fields[field].widget.is_hidden:
            return field
        return ""

    def apply_error(self, exc: OncotrialsError) -> None:
        """A refusal of the service beside the field it names, else above the form."""
        self.add_error(self.field_of(exc) or None, exc.message)


def _after(form: forms.Form, pairs: tuple[tuple[str, str], ...]) -> None:
    """Each closing time after its opening, said beside the closing time in plain words."""
    data = form.cleaned_data
    for start, end in pairs:
        s, e = data.get(start), data.get(end)
        if s is not None and e is not None and e <= s:
            form.add_error(
                end,
                forms.ValidationError(
                    _("Must come after “%(start)s” (%(time)s)."),
                    params={"start": form.fields[start].label, "time": s.strftime("%H:%M")},
                    code="order",
                ),
            )


class ResourceForm(PageForm):
    form_name = "resource"
    kind = forms.ChoiceField(label=_("Kind"), choices=())
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .models import ResourceKind

        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = ResourceKind.choices


_TIME = {"type": "time"}


class CalendarForm(PageForm):
    """The day unit's opening hours and the ward's sampling capacity (Monday to Friday)."""

    form_name = "calendar"
    chair_open = forms.TimeField(label=_("Day unit opens"), widget=forms.TimeInput(_TIME, "%H:%M"))
    chair_close = forms.TimeField(
        label=_("Day unit closes"), widget=forms.TimeInput(_TIME, "%H:%M")
    )
    pharmacy_open = forms.TimeField(
        label=_("Pharmacy opens"), widget=forms.TimeInput(_TIME, "%H:%M")
    )
    pharmacy_close = forms.TimeField(
        label=_("Pharmacy closes"), widget=forms.TimeInput(_TIME, "%H:%M")
    )
    bed_admit_from = forms.TimeField(
        label=_("Ward admissions from"), widget=forms.TimeInput(_TIME, "%H:%M")
    )
    bed_admit_to = forms.TimeField(
        label=_("Ward admissions until"), widget=forms.TimeInput(_TIME, "%H:%M")
    )
    ward_day_sampling = forms.IntegerField(
        label=_("Ward sampling capacity by day"), min_value=0, max_value=1000
    )
    ward_night_sampling = forms.IntegerField(
        label=_("Ward sampling capacity by night"), min_value=0, max_value=1000
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["reason"] = forms.CharField(label=_("Reason for change"), max_length=500)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _after(
            self,
            (
                ("chair_open", "chair_close"),
                ("pharmacy_open", "pharmacy_close"),
                ("bed_admit_from", "bed_admit_to"),
            ),
        )
        return data


class ShiftForm(PageForm):
    """A staffing band of the day unit."""

    form_name = "shift"
    starts = forms.TimeField(label=_("From"), widget=forms.TimeInput(_TIME, "%H:%M"))
    ends = forms.TimeField(label=_("To"), widget=forms.TimeInput(_TIME, "%H:%M"))
    nurses = forms.IntegerField(label=_("Nurses"), min_value=0, max_value=1000)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _after(self, (("starts", "ends"),))
        return data


class ClosureForm(PageForm):
    form_name = "closure"
    on = forms.DateField(label=_("Date"), widget=IsoDateInput())
    reason = forms.CharField(label=_("Reason"), max_length=200)


class GenerateForm(PageForm):
    form_name = "generate"
    week = forms.DateField(label=_("Week of"), widget=IsoDateInput())


class OffsetsField(forms.CharField):
    """PK sampling times in minutes after the start, separated by spaces or commas."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return " ".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[int]:  # type: ignore[override]
        raw = str(super().to_python(value) or "").replace(",", " ").split()
        bad = [x for x in raw if not x.isdigit()]
        if bad:
            raise forms.ValidationError(
                _(
                    "Write whole minutes separated by spaces or commas (e.g. 0 60 120); got “%(v)s”."
                ),
                params={"v": bad[0]},
                code="offsets",
            )
        return sorted(int(x) for x in raw)


class CareRequestForm(PageForm):
    """A care request entered by hand (a consultation, an extra PK day, a transfusion)."""

    form_name = "request"
    label = forms.CharField(label=_("Patient and visit"), max_length=60)
    unit = forms.ChoiceField(label=_("Unit"), choices=())
    earliest = forms.DateField(label=_("Earliest"), widget=IsoDateInput())
    target = forms.DateField(label=_("Target"), widget=IsoDateInput())
    latest = forms.DateField(label=_("Latest"), widget=IsoDateInput())
    duration_min = forms.IntegerField(label=_("Duration (minutes)"), min_value=1, max_value=1440)
    pre_min = forms.IntegerField(
        label=_("Assessment before the go (minutes)"),
        min_value=0,
        max_value=1440,
        initial=0,
        required=False,
    )
    prep_min = forms.IntegerField(
        label=_("Pharmacy preparation (minutes)"),
        min_value=0,
        max_value=1440,
        initial=0,
        required=False,
    )
    sample_offsets = OffsetsField(
        label=_("PK samples (minutes after the start)"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "0 60 120"}),
    )
    weight = forms.IntegerField(
        label=_("Priority weight"), min_value=1, max_value=10, initial=1, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .models import Unit

        super().__init__(*args, **kwargs)
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ChoiceField)
        unit.choices = Unit.choices

    def clean(self) -> dict[str, Any]:
        from .models import Unit

        data = super().clean() or {}
        earliest, target, latest = (data.get(k) for k in ("earliest", "target", "latest"))
        if earliest and target and latest and not earliest <= target <= latest:
            self.add_error(
                "target",
                forms.ValidationError(
                    _("The target day must lie between the earliest and the latest day."),
                    code="window",
                ),
            )
        duration, offsets = data.get("duration_min"), data.get("sample_offsets") or []
        if data.get("unit") == Unit.CHAIR and duration and any(o >= duration for o in offsets):
            self.add_error(
                "sample_offsets",
                forms.ValidationError(
                    _(
                        "A chair visit's samples are taken while the patient is in the chair: "
                        "each before %(d)d minutes, the visit's duration."
                    ),
                    params={"d": duration},
                    code="offsets_chair",
                ),
            )
        return data


class PlanForm(PageForm):
    form_name = "plan"
    time_limit = forms.IntegerField(
        label=_("Time limit (seconds)"), min_value=1, max_value=600, initial=60
    )


class CancelForm(PageForm):
    """The reason for cancelling one booking, in its row of the week's bookings."""

    reason = forms.CharField(
        label=_("Reason for cancelling"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("Reason")}),
    )

    def __init__(self, *args: Any, booking: int, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"cancel-{booking}-%s")
        super().__init__(*args, **kwargs)
        self.booking = booking


class ReplanForm(PageForm):
    """A reason for each locked booking the re-plan may move (empty: it stays)."""

    form_name = "replan"

    def __init__(self, *args: Any, locked: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for ref, label in locked:
            self.fields[f"reason_{ref}"] = forms.CharField(
                label=_("Reason to move the PK day of %(l)s (leave empty to keep it)")
                % {"l": label},
                max_length=500,
                required=False,
            )

    def reasons(self) -> dict[str, str]:
        return {
            k.removeprefix("reason_"): v
            for k, v in self.cleaned_data.items()
            if k.startswith("reason_") and v.strip()
        }

    def field_of(self, exc: OncotrialsError) -> str:
        field = str(exc.extra.get("field") or "")
        if field.startswith("reasons."):
            name = f"reason_{field.removeprefix('reasons.')}"
            return name if name in self.fields else ""
        return super().field_of(exc)
