"""The escalation plan form: the design, its shared settings and its own parameters."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.trials.models import DoseLevel
from oncotrials.core.designs.base import Param
from oncotrials.core.designs.registry import live_designs
from oncotrials.core.errors import OncotrialsError

from .design_messages import param_help


def design_parameters() -> dict[str, tuple[Param, tuple[str, ...]]]:
    """Every design-specific parameter of the live designs: its declaration and the designs
    that accept it (a parameter shared by several designs is read the same way by each)."""
    out: dict[str, tuple[Param, tuple[str, ...]]] = {}
    for name, cls in live_designs().items():
        for key, spec in cls.escalation_params.items():
            first, designs = out.get(key, (spec, ()))
            out[key] = (first, (*designs, name))
    return out


_BOOLEAN = [("", _("design default")), ("true", _("yes")), ("false", _("no"))]


def _param_field(key: str, spec: Param, designs: Iterable[str]) -> forms.Field:
    labels = ", ".join(str(live_designs()[d].label) for d in designs)
    help_text = f"{param_help(spec.help)} — {labels}"
    attrs = {"data-designs": " ".join(designs)}
    field: forms.Field
    if spec.kind == "boolean":
        field = forms.TypedChoiceField(
            choices=_BOOLEAN, coerce=lambda v: v == "true", empty_value=None, required=False
        )
    elif spec.kind == "integer":
        field = forms.IntegerField(required=False)
    elif spec.kind == "number":
        field = forms.FloatField(required=False, widget=forms.NumberInput({"step": "any"}))
    elif spec.kind == "per-dose numbers":
        field = PerDoseField(required=False)
    else:
        field = forms.CharField(required=False, max_length=100)
    field.label = key
    field.help_text = help_text
    field.widget.attrs.update(attrs)
    return field


class PerDoseField(forms.CharField):
    """One number per dose level, lowest first, separated by commas: ``0.05, 0.12, 0.25``."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(f"{v:g}" for v in value)
        return value

    def to_python(self, value: Any) -> list[float] | None:  # type: ignore[override]
        text = str(super().to_python(value) or "").strip()
        if not text:
            return None
        try:
            return [float(v) for v in re.split(r"[,;\s]+", text) if v]
        except ValueError:
            raise forms.ValidationError(
                _("Give one number per dose level, lowest first, separated by commas."),
                code="numbers",
            ) from None


class PlanForm(forms.Form):
    design = forms.ChoiceField(label=_("Design"))
    target = forms.DecimalField(
        label=_("Target DLT rate"),
        min_value=Decimal("0.001"),
        max_value=Decimal("0.999"),
        max_digits=4,
        decimal_places=3,
        required=False,
        help_text=_("e.g. 0.3; every design but 3+3 needs it"),
        widget=forms.NumberInput({"step": "any"}),
    )
    cohort_size = forms.IntegerField(label=_("Cohort size"), min_value=1, max_value=12, initial=3)
    max_sample_size = forms.IntegerField(
        label=_("Maximum sample size"), min_value=1, max_value=1000, initial=36
    )
    start_level = forms.ModelChoiceField(
        label=_("Start dose level"), queryset=DoseLevel.objects.none()
    )

    def __init__(
        self,
        *args: Any,
        levels: Iterable[DoseLevel],
        editing: bool = False,
        start_fixed: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        design = self.fields["design"]
        assert isinstance(design, forms.ChoiceField)
        # no design pre-selected: the protocol's design is transcribed, never defaulted
        design.choices = [("", "—"), *((name, cls.label) for name, cls in live_designs().items())]
        design.widget.attrs["data-design-select"] = ""
        start = self.fields["start_level"]
        assert isinstance(start, forms.ModelChoiceField)
        start.queryset = DoseLevel.objects.filter(pk__in=[dl.pk for dl in levels]).order_by(
            "level", "pk"
        )
        if start_fixed:
            start.disabled = True
            start.help_text = _("The current level now moves with the committee's decisions.")
        for key, (spec, designs) in design_parameters().items():
            self.fields[f"param_{key}"] = _param_field(key, spec, designs)
        if editing:
            self.fields["expected_version"] = forms.IntegerField(
                widget=forms.HiddenInput, min_value=1
            )
            self.fields["reason"] = forms.CharField(
                label=_("Reason for change"),
                max_length=2000,
                help_text=_("e.g. the protocol amendment"),
            )

    @property
    def shared_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.fields if not n.startswith("param_")]

    @property
    def parameter_fields(self) -> list[tuple[forms.BoundField, str]]:
        """(field, the names of the designs that accept it) of each design parameter."""
        return [
            (self[n], self.fields[n].widget.attrs.get("data-designs", ""))
            for n in self.fields
            if n.startswith("param_")
        ]

    def parameters(self) -> dict[str, Any]:
        """The parameters given for the chosen design (those of other designs are left out)."""
        design = self.cleaned_data.get("design", "")
        declared = live_designs()[design].escalation_params if design in live_designs() else {}
        return {
            key: self.cleaned_data[f"param_{key}"]
            for key in declared
            if self.cleaned_data.get(f"param_{key}") not in (None, "")
        }

    def settings(self) -> dict[str, Any]:
        data = self.cleaned_data
        target = data.get("target")
        return {
            "design": data["design"],
            "target": float(target) if target is not None else None,
            "cohort_size": data["cohort_size"],
            "max_sample_size": data["max_sample_size"],
            "parameters": self.parameters(),
        }

    def apply_error(self, exc: OncotrialsError) -> None:
        """Show a refusal next to the field it names: ``parameters.skeleton`` is the skeleton
        field; a design's own message that names a setting (``cohort_size must be ...``) goes to
        that setting."""
        field = str(exc.extra.get("field") or "")
        if field.startswith("parameters."):
            field = f"param_{field.removeprefix('parameters.')}"
        # The setting is looked for in the engine's own (English) words: a translated refusal
        # keeps them as its cause.
        cause = exc.__cause__
        said = (
            cause.message
            if isinstance(cause, OncotrialsError) and cause.code == exc.code
            else exc.message
        )
        if field not in self.fields:
            named = [
                (m.start(), name)
                for name in self.fields
                if (m := re.search(rf"\b{re.escape(name.removeprefix('param_'))}\b", said))
            ]
            field = min(named)[1] if named else ""
        self.add_error(field or None, exc.message)


class DoseLevelField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A dose level named by its label, as the page names it (DL-1, DL0, DL1...)."""

    def label_from_instance(self, obj: Any) -> str:
        return f"DL{obj.level}"


class DecisionForm(forms.Form):
    """The committee's decision on the next cohort, signed with the signer's password (never
    shown back); the page starts it on the design's recommendation."""

    action = forms.ChoiceField(label=_("Committee decision"))
    next_dose_level = DoseLevelField(
        label=_("Next dose level"),
        queryset=DoseLevel.objects.none(),
        required=False,
        empty_label="—",
    )
    deviation_reason = forms.CharField(
        label=_("Reason if different from the design"), max_length=2000, required=False
    )
    meaning = forms.CharField(
        label=_("Signature meaning"),
        max_length=200,
        initial=_("Approved by the safety review committee"),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(
        self,
        *args: Any,
        actions: Iterable[tuple[str, Any]],
        levels: Iterable[DoseLevel],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", "decision-%s")
        super().__init__(*args, **kwargs)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)
        action.choices = list(actions)
        level = self.fields["next_dose_level"]
        assert isinstance(level, forms.ModelChoiceField)
        levels = sorted(levels, key=lambda dl: (dl.level, dl.pk))
        level.queryset = DoseLevel.objects.filter(pk__in=[dl.pk for dl in levels]).order_by(
            "level", "pk"
        )
        # The levels are at hand: the options are them, not a second read (the queryset still
        # checks a posted level).
        level.choices = [
            ("", level.empty_label),
            *((dl.pk, level.label_from_instance(dl)) for dl in levels),
        ]

    def apply_error(self, exc: OncotrialsError) -> None:
        """A refusal beside the field it names (a wrong password beside the password), else
        above the form."""
        field = str(exc.extra.get("field") or "")
        self.add_error(field if field in self.fields else None, exc.message)
