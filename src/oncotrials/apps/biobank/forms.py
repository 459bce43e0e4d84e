"""The technician's pre-analytics form of a specimen page. It shapes input only: the settings are
parsed with their units, checked against their plausible ranges and against each other by the
service (``specimen_pre_analytics_record``), which the API calls too; its refusals are shown
beside the field they name."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy, pgettext_lazy

from oncotrials.core.biobank.sprec import FLUID_TYPES, SOLID_TYPES

from .models import BRAKING_CHOICES, Specimen, StorageTemperature

_BLANK = [("", "—")]


def _setting(label: Any, unit: str, help_text: Any = "") -> forms.CharField:
    field = forms.CharField(label=label, max_length=20, required=False, help_text=help_text)
    field.unit = unit  # type: ignore[attr-defined]
    return field


def _whole(label: Any, unit: str = "", hi: int = 100_000) -> forms.IntegerField:
    field = forms.IntegerField(label=label, min_value=0, max_value=hi, required=False)
    field.unit = unit  # type: ignore[attr-defined]
    return field


_G_HELP = gettext_lazy("Relative centrifugal force in × g, not rpm.")

#: The form's fields that only a fluid, or only a solid tissue, has.
FLUID_FIELDS = (
    "container_type",
    "precentrifugation_delay_min",
    "precentrifugation_temp",
    "centrifugations",
    "centrifuge_temp_c",
    "centrifuge_g",
    "centrifuge_min",
    "centrifuge_braking",
    "second_centrifuge_temp_c",
    "second_centrifuge_g",
    "second_centrifuge_min",
    "second_centrifuge_braking",
    "postcentrifugation_delay_min",
)
SOLID_FIELDS = (
    "warm_ischaemia_min",
    "cold_ischaemia_min",
    "fixative",
    "fixation_hours",
    "tumour_cellularity_pct",
    "necrosis_pct",
)


class PreAnalyticsForm(forms.Form):
    container_type = forms.CharField(
        label=gettext_lazy("Primary tube"),
        max_length=12,
        required=False,
        help_text=gettext_lazy("e.g. EDTA, STRECK, SST, CPT."),
    )
    precentrifugation_delay_min = _whole(gettext_lazy("Delay to centrifugation"), "min")
    precentrifugation_temp = forms.ChoiceField(
        label=gettext_lazy("Temperature before centrifugation"),
        choices=[*_BLANK, ("RT", gettext_lazy("Room temperature")), ("2-10", "2 °C – 10 °C")],
        required=False,
    )
    centrifugations = _whole(gettext_lazy("Number of centrifugations"), hi=3)
    centrifuge_temp_c = _setting(gettext_lazy("First centrifugation: temperature"), "°C")
    centrifuge_g = _setting(gettext_lazy("First centrifugation: force"), "× g", _G_HELP)
    centrifuge_min = _setting(gettext_lazy("First centrifugation: duration"), "min")
    centrifuge_braking = forms.ChoiceField(
        label=gettext_lazy("First centrifugation: braking"),
        choices=[*_BLANK, *BRAKING_CHOICES],
        required=False,
    )
    second_centrifuge_temp_c = _setting(gettext_lazy("Second centrifugation: temperature"), "°C")
    second_centrifuge_g = _setting(gettext_lazy("Second centrifugation: force"), "× g", _G_HELP)
    second_centrifuge_min = _setting(gettext_lazy("Second centrifugation: duration"), "min")
    second_centrifuge_braking = forms.ChoiceField(
        label=gettext_lazy("Second centrifugation: braking"),
        choices=[*_BLANK, *BRAKING_CHOICES],
        required=False,
    )
    postcentrifugation_delay_min = _whole(gettext_lazy("Delay after centrifugation"), "min")
    warm_ischaemia_min = _whole(gettext_lazy("Warm ischaemia"), "min")
    cold_ischaemia_min = _whole(gettext_lazy("Cold ischaemia"), "min")
    fixative = forms.CharField(
        label=gettext_lazy("Fixative"),
        max_length=12,
        required=False,
        help_text=gettext_lazy("e.g. NBF, SNP (snap frozen), OCT."),
    )
    fixation_hours = _setting(gettext_lazy("Fixation time"), "h")
    storage_temperature = forms.ChoiceField(
        label=gettext_lazy("Long-term storage temperature"),
        choices=[*_BLANK, *StorageTemperature.choices],
        required=False,
    )
    tumour_cellularity_pct = _whole(gettext_lazy("Tumour cellularity"), "%", hi=100)
    necrosis_pct = _whole(gettext_lazy("Necrosis"), "%", hi=100)
    reason = forms.CharField(
        label=pgettext_lazy("pre-analytics", "Reason for change (when correcting)"),
        max_length=500,
        required=False,
    )

    def __init__(self, *args: Any, specimen: Specimen, **kwargs: Any) -> None:
        initial: dict[str, Any] = {}
        for name in self.base_fields:
            value = getattr(specimen, name, None)
            if isinstance(value, Decimal):
                value = f"{value.normalize():f}"
            if value not in (None, ""):
                initial[name] = value
        initial.update(kwargs.pop("initial", None) or {})
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        kind = specimen.specimen_type
        drop = SOLID_FIELDS if kind in FLUID_TYPES else FLUID_FIELDS if kind in SOLID_TYPES else ()
        for name in drop:
            del self.fields[name]

    def values(self) -> dict[str, Any]:
        """The pre-analytical values to record (every field but the reason)."""
        return {k: v for k, v in self.cleaned_data.items() if k != "reason"}
