"""Forms of the tumour-assessment page: baseline lesions and follow-up measurements.

They check every field in plain words (each error beside its field, in the user's language) so
that a refused entry comes back with everything typed in it; the services check again and stay
the authority for what the API receives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.widgets import IsoDateInput

from .models import Criteria, ImagingMethod, Lesion, LesionRole, LesionStatus

BASELINE_ROWS = 8  # empty lesion rows offered by the baseline form
MAX_MM = Decimal("9999.99")
_TARGET_STATUSES = (LesionStatus.ABSENT, LesionStatus.TOO_SMALL, LesionStatus.NOT_EVALUATED)
_DIAMETER_WIDGET = {"inputmode": "decimal", "size": 7, "autocomplete": "off"}


def _millimetres(raw: str) -> Decimal:
    """A diameter typed by a person: ``23.5`` or ``23,5``; raises ``forms.ValidationError``."""
    try:
        number = Decimal(raw.strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise forms.ValidationError(
            gettext("%(value)s is not a number: give millimetres, e.g. 23.5.") % {"value": raw}
        ) from None
    if not number.is_finite() or number < 0 or number > MAX_MM:
        raise forms.ValidationError(
            gettext("Give millimetres between 0 and %(max)s; got %(value)s.")
            % {"max": MAX_MM, "value": raw}
        )
    if number != number.quantize(Decimal("0.01")):
        raise forms.ValidationError(
            gettext("Give at most two decimals; got %(value)s.") % {"value": raw}
        )
    return number


def _not_future(date: dt.date) -> dt.date:
    if date > timezone.localdate():
        raise forms.ValidationError(
            gettext("%(date)s is in the future: record an assessment once it has been done.")
            % {"date": date.isoformat()}
        )
    return date


def _method(form: forms.Form) -> str:
    return str(form.cleaned_data.get("method") or ImagingMethod.CT)


class BaselineForm(forms.Form):
    """The baseline: a date, an imaging method and up to ``BASELINE_ROWS`` lesion rows."""

    date = forms.DateField(label=_("Date"), widget=IsoDateInput)
    method = forms.ChoiceField(label=_("Method"), choices=ImagingMethod.choices, required=False)

    def __init__(self, *args: Any, rows: int = BASELINE_ROWS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row_count = rows
        for i in range(rows):
            self.fields[f"lesion_id_{i}"] = forms.CharField(
                label=_("Lesion id"),
                max_length=20,
                required=False,
                widget=forms.TextInput(attrs={"size": 6}),
            )
            self.fields[f"organ_{i}"] = forms.CharField(
                label=_("Organ"), max_length=60, required=False
            )
            self.fields[f"role_{i}"] = forms.ChoiceField(
                label=_("Role"), choices=LesionRole.choices, required=False
            )
            self.fields[f"nodal_{i}"] = forms.BooleanField(label=_("Nodal"), required=False)
            self.fields[f"diameter_{i}"] = forms.CharField(
                label=_("Diameter (mm)"),
                max_length=20,
                required=False,
                widget=forms.TextInput(attrs=_DIAMETER_WIDGET),
            )

    def clean_date(self) -> dt.date:
        return _not_future(self.cleaned_data["date"])

    def rows(self) -> list[dict[str, forms.BoundField]]:
        """The lesion rows' bound fields, for the template."""
        names = ("lesion_id", "organ", "role", "nodal", "diameter")
        return [{n: self[f"{n}_{i}"] for n in names} for i in range(self.row_count)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.lesions: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for i in range(self.row_count):
            lesion_id = (data.get(f"lesion_id_{i}") or "").strip()
            organ = (data.get(f"organ_{i}") or "").strip()
            raw_diameter = (data.get(f"diameter_{i}") or "").strip()
            if not (lesion_id or organ or raw_diameter or data.get(f"nodal_{i}")):
                continue  # an empty row
            if not lesion_id:
                self.add_error(
                    f"lesion_id_{i}",
                    gettext("Give this lesion an identifier (e.g. T1), or empty the row."),
                )
                continue
            if lesion_id in seen:
                self.add_error(
                    f"lesion_id_{i}",
                    gettext(
                        "%(id)s is already used on row %(row)s: every lesion needs its own "
                        "identifier."
                    )
                    % {"id": lesion_id, "row": seen[lesion_id] + 1},
                )
                continue
            seen[lesion_id] = i
            if not organ:
                self.add_error(
                    f"organ_{i}",
                    gettext("Give the organ or site of lesion %(id)s.") % {"id": lesion_id},
                )
            role = data.get(f"role_{i}") or ""
            if not role:
                self.add_error(
                    f"role_{i}",
                    gettext("Choose whether lesion %(id)s is a target or a non-target lesion.")
                    % {"id": lesion_id},
                )
            diameter = None
            if raw_diameter:
                try:
                    diameter = _millimetres(raw_diameter)
                except forms.ValidationError as exc:
                    self.add_error(f"diameter_{i}", exc)
                    continue
            elif role == LesionRole.TARGET:
                self.add_error(
                    f"diameter_{i}",
                    gettext(
                        "Target lesion %(id)s needs its diameter in millimetres (the short axis "
                        "for a lymph node)."
                    )
                    % {"id": lesion_id},
                )
            self.lesions.append(
                {
                    "lesion_id": lesion_id,
                    "organ": organ,
                    "role": role,
                    "nodal": bool(data.get(f"nodal_{i}")),
                    "method": _method(self),
                    "diameter_mm": diameter,
                }
            )
        if not seen and not self.errors:
            raise forms.ValidationError(
                gettext("Record at least one lesion: the target and non-target lesions.")
            )
        return data

    def service_kwargs(self) -> dict[str, Any]:
        return {
            "date": self.cleaned_data["date"],
            "method": _method(self),
            "lesions": self.lesions,
        }

    def field_of(self, service_field: str) -> str | None:
        """The form field a service's ``field`` (``lesions[2].organ``) points at."""
        if service_field == "date":
            return "date"
        if service_field.startswith("lesions[") and "]." in service_field:
            index, _dot, name = service_field[len("lesions[") :].partition("].")
            lesion_id = self.lesions[int(index)]["lesion_id"] if index.isdigit() else None
            row = next(
                (
                    i
                    for i in range(self.row_count)
                    if (self.cleaned_data.get(f"lesion_id_{i}") or "").strip() == lesion_id
                ),
                None,
            )
            short = {"diameter_mm": "diameter"}.get(name, name)
            if row is not None and f"{short}_{row}" in self.fields:
                return f"{short}_{row}"
        return None


class FollowUpForm(forms.Form):
    """A follow-up: one diameter and/or status per baseline lesion, and at most one new lesion."""

    date = forms.DateField(label=_("Date"), widget=IsoDateInput)
    method = forms.ChoiceField(label=_("Method"), choices=ImagingMethod.choices, required=False)
    complete = forms.BooleanField(
        label=_("Complete (enters the response evaluation)"), required=False, initial=True
    )
    new_lesion_id = forms.CharField(
        label=_("id"), max_length=20, required=False, widget=forms.TextInput(attrs={"size": 6})
    )
    new_organ = forms.CharField(label=_("organ"), max_length=60, required=False)
    new_equivocal = forms.BooleanField(label=_("equivocal"), required=False)

    def __init__(
        self,
        *args: Any,
        lesions: Sequence[Lesion],
        baseline_date: dt.date | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lesions = list(lesions)
        self.baseline_date = baseline_date
        for lesion in self.lesions:
            if self.measured(lesion):
                self.fields[f"diameter_{lesion.lesion_id}"] = forms.CharField(
                    label=_("Diameter (mm)"),
                    max_length=20,
                    required=False,
                    widget=forms.TextInput(attrs=_DIAMETER_WIDGET),
                )
            self.fields[f"status_{lesion.lesion_id}"] = forms.ChoiceField(
                label=_("Status"),
                choices=[("", "—"), *LesionStatus.choices],
                required=False,
            )

    @staticmethod
    def measured(lesion: Lesion) -> bool:
        return lesion.role == LesionRole.TARGET or lesion.nodal

    def rows(self) -> list[dict[str, Any]]:
        """Per baseline lesion: the lesion and its bound fields, for the template."""
        return [
            {
                "lesion": lesion,
                "diameter": self[f"diameter_{lesion.lesion_id}"] if self.measured(lesion) else None,
                "status": self[f"status_{lesion.lesion_id}"],
            }
            for lesion in self.lesions
        ]

    def clean_date(self) -> dt.date:
        date = _not_future(self.cleaned_data["date"])
        if self.baseline_date is not None and date <= self.baseline_date:
            raise forms.ValidationError(
                gettext("A follow-up comes after the baseline of %(baseline)s; got %(date)s.")
                % {"baseline": self.baseline_date.isoformat(), "date": date.isoformat()}
            )
        return date

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.measurements: list[dict[str, Any]] = []
        for lesion in self.lesions:
            lid = lesion.lesion_id
            raw = (data.get(f"diameter_{lid}") or "").strip() if self.measured(lesion) else ""
            status = data.get(f"status_{lid}") or ""
            diameter = None
            if raw:
                try:
                    diameter = _millimetres(raw)
                except forms.ValidationError as exc:
                    self.add_error(f"diameter_{lid}", exc)
                    continue
            if lesion.role == LesionRole.TARGET:
                if diameter is None and status not in _TARGET_STATUSES:
                    self.add_error(
                        f"diameter_{lid}",
                        gettext(
                            "Target lesion %(id)s: give its diameter in millimetres, or the "
                            "status %(statuses)s."
                        )
                        % {"id": lid, "statuses": _labels(_TARGET_STATUSES)},
                    )
            elif not status:
                self.add_error(
                    f"status_{lid}",
                    gettext(
                        "Non-target lesion %(id)s: choose its status (%(statuses)s when it was "
                        "not assessed)."
                    )
                    % {"id": lid, "statuses": _labels([LesionStatus.NOT_EVALUATED])},
                )
            self.measurements.append({"lesion_id": lid, "diameter_mm": diameter, "status": status})
        new_id = (data.get("new_lesion_id") or "").strip()
        if new_id and new_id in {lesion.lesion_id for lesion in self.lesions}:
            self.add_error(
                "new_lesion_id",
                gettext(
                    "%(id)s is already a baseline lesion of this patient: give the new lesion "
                    "its own identifier (e.g. N1)."
                )
                % {"id": new_id},
            )
        elif not new_id and (data.get("new_organ") or "").strip():
            self.add_error(
                "new_lesion_id",
                gettext("Give the new lesion an identifier (e.g. N1), or empty its organ."),
            )
        return data

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        new_id = (d.get("new_lesion_id") or "").strip()
        return {
            "date": d["date"],
            "method": _method(self),
            "measurements": self.measurements,
            "new_lesions": (
                [
                    {
                        "lesion_id": new_id,
                        "organ": (d.get("new_organ") or "").strip(),
                        "equivocal": bool(d.get("new_equivocal")),
                    }
                ]
                if new_id
                else []
            ),
            "complete": bool(d.get("complete")),
        }

    def field_of(self, service_field: str) -> str | None:
        """The form field a service's ``field`` (``measurements[1].status``) points at."""
        if service_field == "date":
            return "date"
        if service_field.startswith("new_lesions["):
            return "new_lesion_id"
        if service_field.startswith("measurements[") and "]." in service_field:
            index, _dot, name = service_field[len("measurements[") :].partition("].")
            if index.isdigit() and int(index) < len(self.measurements):
                lid = self.measurements[int(index)]["lesion_id"]
                short = {"diameter_mm": "diameter"}.get(name, name)
                if f"{short}_{lid}" in self.fields:
                    return f"{short}_{lid}"
        return None


def _labels(statuses: Iterable[LesionStatus]) -> str:
    return ", ".join(str(LesionStatus(s).label) for s in statuses)


class OverrideForm(forms.Form):
    """The investigator's reading of a time point (or of the best overall response), with the
    reason; no response is pre-selected, and the computed one is kept beside it."""

    assessment_id = forms.ChoiceField(label=_("Override"), required=False)
    response = forms.ChoiceField(
        label=_("Response"), error_messages={"required": _("Choose the response you read.")}
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 1})
    )

    def __init__(
        self,
        *args: Any,
        timepoints: Sequence[tuple[int, dt.date]],
        responses: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        assessment_field: Any = self.fields["assessment_id"]
        assessment_field.choices = [
            ("", _("Best overall response")),
            *((str(pk), day.isoformat()) for pk, day in timepoints),
        ]
        response_field: Any = self.fields["response"]
        response_field.choices = [("", _("— choose —")), *((r, r) for r in responses)]

    def field_of(self, service_field: str) -> str | None:
        return service_field if service_field in self.fields else None


class SettingsForm(forms.Form):
    """The response criteria of a trial, on its efficacy page. Until the protocol's choice is
    stored, nothing is pre-selected; a change of a stored choice needs its reason."""

    criteria = forms.ChoiceField(
        label=_("Criteria"),
        choices=Criteria.choices,
        error_messages={"required": _("Choose the response criteria of the protocol.")},
    )
    confirmation_required = forms.BooleanField(label=_("CR/PR need confirmation"), required=False)
    reason = forms.CharField(label=_("Reason for change"), max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, stored: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        criteria: Any = self.fields["criteria"]
        if not stored:
            criteria.choices = [("", _("— choose —")), *Criteria.choices]
            del self.fields["reason"]

    def field_of(self, service_field: str) -> str | None:
        return service_field if service_field in self.fields else None
