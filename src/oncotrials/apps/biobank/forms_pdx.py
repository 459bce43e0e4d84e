"""The technician's forms of the PDX pages. They parse and shape input only; the rules (rights,
consent, code lists, counts, dates) are the services', which the API calls too. The pasted
measurement table is turned into the rows the measurement service takes, each line's error
named by its number."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from .models import Specimen
from .models_pdx import (
    Accessibility,
    EngraftmentType,
    PdxModel,
    PdxPassage,
    PdxTreatmentArm,
    QcResult,
    SampleState,
)

_DATE = {"type": "date"}


class _SpecimenChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.label} · {obj.patient.research_id}"


class _PassageChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"P{obj.number}"


class _ArmChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class PdxModelForm(forms.Form):
    specimen = _SpecimenChoice(
        queryset=Specimen.objects.none(),
        label=gettext_lazy("Specimen"),
        help_text=gettext_lazy(
            "An available specimen of viable tissue or cells whose patient consented to xenografts."
        ),
    )
    model_id = forms.CharField(label=gettext_lazy("Model identifier"), max_length=40)
    host_strain_name = forms.CharField(label=gettext_lazy("Host strain"), max_length=60)
    host_strain_nomenclature = forms.CharField(
        label=gettext_lazy("Host strain nomenclature"), max_length=120
    )
    engraftment_site = forms.CharField(label=gettext_lazy("Engraftment site"), max_length=80)
    engraftment_type = forms.ChoiceField(
        label=gettext_lazy("Engraftment type"), choices=EngraftmentType.choices
    )
    sample_type = forms.CharField(
        label=gettext_lazy("Sample type"), max_length=60, initial="tissue fragment"
    )
    sample_state = forms.ChoiceField(
        label=gettext_lazy("Sample state"), choices=SampleState.choices
    )
    diagnosis = forms.CharField(label=gettext_lazy("Diagnosis"), max_length=200)
    primary_site = forms.CharField(label=gettext_lazy("Primary site"), max_length=80)
    tumour_type = forms.CharField(
        label=gettext_lazy("Tumour type"), max_length=16, initial="primary"
    )
    accessibility = forms.ChoiceField(
        label=gettext_lazy("Accessibility"), choices=Accessibility.choices
    )
    contact_name = forms.CharField(label=gettext_lazy("Contact name"), max_length=120)
    contact_email = forms.EmailField(label=gettext_lazy("Contact e-mail"), max_length=254)
    publications = forms.CharField(
        label=gettext_lazy("Publications (PubMed ids)"), max_length=200, required=False
    )
    implanted_on = forms.DateField(
        label=gettext_lazy("Implanted on (P0)"), widget=forms.DateInput(attrs=_DATE)
    )
    mice_implanted = forms.IntegerField(
        label=gettext_lazy("Mice implanted"), min_value=1, max_value=1000
    )

    def __init__(self, *args: Any, specimens: QuerySet[Specimen], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["specimen"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = specimens


class _OfModel(forms.Form):
    """A form of one model's page: its choices are that model's passages or arms."""

    def __init__(self, *args: Any, pdx: PdxModel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        passages = PdxPassage.objects.filter(pdx_model=pdx).order_by("number")
        for name in ("passage", "parent"):
            f = self.fields.get(name)
            if isinstance(f, forms.ModelChoiceField):
                f.queryset = passages
        f = self.fields.get("arm")
        if isinstance(f, forms.ModelChoiceField):
            f.queryset = PdxTreatmentArm.objects.filter(pdx_model=pdx).order_by("name")


class EngraftmentForm(_OfModel):
    passage = _PassageChoice(
        queryset=PdxPassage.objects.none(), label=pgettext_lazy("PDX", "Passage")
    )
    mice_engrafted = forms.IntegerField(
        label=gettext_lazy("Mice engrafted"), min_value=0, max_value=1000
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for change (when correcting)"), max_length=500, required=False
    )


class PassageForm(_OfModel):
    parent = _PassageChoice(queryset=PdxPassage.objects.none(), label=gettext_lazy("From passage"))
    implanted_on = forms.DateField(
        label=gettext_lazy("Implanted on"), widget=forms.DateInput(attrs=_DATE)
    )
    mice_implanted = forms.IntegerField(
        label=gettext_lazy("Mice implanted"), min_value=1, max_value=1000
    )
    host_strain_nomenclature = forms.CharField(
        label=gettext_lazy("Host strain nomenclature (if it changes)"),
        max_length=120,
        required=False,
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)


class ArmForm(_OfModel):
    passage = _PassageChoice(
        queryset=PdxPassage.objects.none(), label=pgettext_lazy("PDX", "Passage")
    )
    name = forms.CharField(label=gettext_lazy("Arm name"), max_length=80)
    is_control = forms.BooleanField(label=gettext_lazy("Control arm"), required=False)
    treatment_name = forms.CharField(
        label=pgettext_lazy("PDX", "Treatment"),
        max_length=120,
        required=False,
        help_text=gettext_lazy("Leave empty for an untreated control arm."),
    )
    dose = forms.CharField(label=gettext_lazy("Dose"), max_length=40, required=False)
    route = forms.CharField(label=gettext_lazy("Route"), max_length=60, required=False)
    schedule = forms.CharField(label=gettext_lazy("Schedule"), max_length=80, required=False)
    started_on = forms.DateField(
        label=gettext_lazy("Treatment started on (day 0)"), widget=forms.DateInput(attrs=_DATE)
    )
    mice = forms.CharField(
        label=gettext_lazy("Mice"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Mouse labels, separated by commas, spaces or new lines."),
    )

    def clean_mice(self) -> list[str]:
        return [m for m in re.split(r"[,;\s]+", self.cleaned_data["mice"]) if m]


class ValidationForm(_OfModel):
    """A QC of the model against the patient tumour (PDX-MI model_validation)."""

    technique = forms.CharField(
        label=pgettext_lazy("PDX", "Technique"),
        max_length=80,
        help_text=gettext_lazy(
            "e.g. STR profiling, SNP array, histology, IHC, mouse DNA content, "
            "human-specific markers, WES concordance."
        ),
    )
    passages_tested = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Passages tested"),
        coerce=int,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
    )
    result = forms.ChoiceField(label=pgettext_lazy("PDX", "Result"), choices=QcResult.choices)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "What was compared and the result, so that it is clear whether the model is "
            "validated (e.g. high concordance between xenograft and patient tumour)."
        ),
    )
    performed_on = forms.DateField(
        label=gettext_lazy("Performed on"), widget=forms.DateInput(attrs=_DATE)
    )
    host_strain_nomenclature = forms.CharField(
        label=gettext_lazy("Host strain nomenclature (if not the model's)"),
        max_length=120,
        required=False,
    )

    def __init__(self, *args: Any, pdx: PdxModel, **kwargs: Any) -> None:
        super().__init__(*args, pdx=pdx, **kwargs)
        field = self.fields["passages_tested"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        numbers = PdxPassage.objects.filter(pdx_model=pdx).order_by("number")
        field.choices = [(n, f"P{n}") for n in numbers.values_list("number", flat=True)]


class MeasurementsForm(_OfModel):
    arm = _ArmChoice(queryset=PdxTreatmentArm.objects.none(), label=pgettext_lazy("PDX", "Arm"))
    table = forms.CharField(
        label=gettext_lazy("Measurements"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "One line per measurement, pasted from a spreadsheet (tabs, semicolons, commas or "
            "spaces): mouse, day, volume in mm³ — or mouse, day, length and width in mm (the "
            "volume is then L × W² / 2). The day counts from the start of treatment, or is a "
            "date (YYYY-MM-DD). A header line is skipped."
        ),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        arm = data.get("arm")
        text = data.get("table")
        if arm is None or not text:
            return data
        data["rows"], data["lines"] = parse_measurements(text, started_on=arm.started_on)
        return data


def _number(raw: str, line: int, what: str) -> Decimal:
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        raise forms.ValidationError(
            _("Line %(n)d: %(what)s %(raw)s is not a number.")
            % {"n": line, "what": what, "raw": repr(raw)},
            code="line",
        ) from None
    if not value.is_finite():
        raise forms.ValidationError(
            _("Line %(n)d: %(what)s is not a number.") % {"n": line, "what": what}, code="line"
        )
    return value


def parse_measurements(text: str, *, started_on: dt.date) -> tuple[list[dict[str, Any]], list[int]]:
    """Rows for ``pdx_measurements_record`` from a pasted table (see ``MeasurementsForm``),
    and the line each row came from."""
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if "\t" in line or ";" in line:
            cells = [c.strip() for c in re.split(r"[\t;]", line)]
        elif line.count(",") >= 2:
            cells = [c.strip() for c in line.split(",")]
        else:
            cells = line.split()
        cells = [c for c in cells if c]
        if not rows and cells and cells[0].lower() in ("mouse", "souris", "id"):
            continue  # a header line
        if len(cells) not in (3, 4):
            raise forms.ValidationError(
                _(
                    "Line %(n)d: expected mouse, day, volume (3 columns) or mouse, day, length, "
                    "width (4 columns); got %(k)d."
                )
                % {"n": n, "k": len(cells)},
                code="line",
            )
        mouse, day_text = cells[0], cells[1]
        try:
            if re.fullmatch(r"-?\d{1,5}", day_text):
                day = started_on + dt.timedelta(days=int(day_text))
            else:
                day = dt.date.fromisoformat(day_text)
        except (ValueError, OverflowError):  # not a date, or a day count off the calendar
            raise forms.ValidationError(
                _("Line %(n)d: the day %(d)s is neither a number of days nor a date.")
                % {"n": n, "d": repr(day_text)},
                code="line",
            ) from None
        row: dict[str, Any] = {"mouse": mouse, "measured_on": day}
        if len(cells) == 3:
            row["volume_mm3"] = _number(cells[2], n, _("the volume"))
        else:
            row["length_mm"] = _number(cells[2], n, _("the length"))
            row["width_mm"] = _number(cells[3], n, _("the width"))
        rows.append(row)
        lines.append(n)
    if not rows:
        raise forms.ValidationError(_("Paste at least one measurement."), code="empty")
    return rows, lines
