"""Web forms of the portfolio set-up; each one feeds exactly one service."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.models import Membership, Site, User
from oncotrials.core.errors import OncotrialsError
from oncotrials.core.genomics.oncotree import load_oncotree

from .models import (
    STATUS_TRANSITIONS,
    CohortKind,
    Modality,
    Phase,
    SponsorType,
    TrialStatus,
)


def apply_error(form: forms.Form, exc: OncotrialsError) -> None:
    """Show a service's refusal next to the field it names (or above the form)."""
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


class ListField(forms.CharField):
    """Several values in one text input, separated by commas (``NSCLC, COAD``)."""

    def __init__(self, *, datalist: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        if datalist:
            self.widget.attrs["list"] = datalist
        self.widget.attrs.setdefault("autocomplete", "off")

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        items = [v.strip() for v in str(text or "").replace(";", ",").split(",")]
        return list(dict.fromkeys(v for v in items if v))


class TumourTypesField(ListField):
    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return [v.upper() for v in super().to_python(value)]

    def validate(self, value: Any) -> None:
        super().validate(value)
        tree = load_oncotree()
        unknown = [code for code in value if code not in tree.nodes and tree.resolve(code) is None]
        if unknown:
            raise forms.ValidationError(
                _("%(code)s is not an OncoTree code; pick one from the list (e.g. NSCLC)."),
                params={"code": unknown[0]},
                code="oncotree",
            )


def oncotree_options() -> list[tuple[str, str]]:
    """(code, name) of every OncoTree node, for the tumour-type picker."""
    tree = load_oncotree()
    return sorted((code, node.name) for code, node in tree.nodes.items() if node.level > 0)


class TrialForm(forms.Form):
    protocol_code = forms.CharField(label=_("Protocol code"), max_length=50)
    title = forms.CharField(label=_("Title"), max_length=500)
    short_title = forms.CharField(label=_("Short title"), max_length=120, required=False)
    eu_ct_number = forms.CharField(
        label=_("EU CT number"), max_length=20, required=False, help_text="2023-501234-12-00"
    )
    nct_number = forms.CharField(
        label=_("NCT number"), max_length=11, required=False, help_text="NCT01234567"
    )
    sponsor = forms.CharField(label=_("Sponsor"), max_length=200)
    sponsor_type = forms.ChoiceField(label=_("Sponsor type"), choices=SponsorType.choices)
    phase = forms.ChoiceField(label=_("Phase"), choices=Phase.choices)
    modality = forms.ChoiceField(label=_("Modality"), choices=Modality.choices)
    tumour_types = TumourTypesField(
        label=_("Tumour types (OncoTree)"),
        datalist="oncotree-codes",
        help_text=_("OncoTree codes separated by commas, e.g. NSCLC, COAD"),
    )
    targets = ListField(
        label=_("Molecular targets"),
        datalist="known-targets",
        help_text=_("Separated by commas, e.g. KRAS G12C, EGFR"),
    )


class InvestigatorField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name else str(obj.username)


def members_of(site_ids: Iterable[int], trial: Any = None) -> Any:
    """Users with an active membership at one of the sites (site-wide, or for ``trial``)."""
    limited = Q(trial__isnull=True)
    if trial is not None:
        limited |= Q(trial=trial)
    members = (
        Membership.objects.active().filter(limited, site_id__in=list(site_ids)).values("user_id")
    )
    return User.objects.filter(pk__in=members).order_by("last_name", "username")


class TrialSitesForm(forms.Form):
    """The participating sites, the lead site and the investigators (trial and per site)."""

    sites = forms.ModelMultipleChoiceField(
        label=_("Participating sites"),
        queryset=Site.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    lead_site = forms.ModelChoiceField(
        label=_("Lead site"),
        queryset=Site.objects.none(),
        required=False,
        help_text=_("Default: the first participating site"),
    )
    principal_investigator = InvestigatorField(
        label=_("Principal investigator"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("A member of one of the participating sites"),
    )

    def __init__(self, *args: Any, sites: Iterable[Site], trial: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site_choices = sorted(sites, key=lambda s: s.code)
        ids = [s.pk for s in self.site_choices]
        for name in ("sites", "lead_site"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = Site.objects.filter(pk__in=ids).order_by("code")
        pi = self.fields["principal_investigator"]
        assert isinstance(pi, forms.ModelChoiceField)
        pi.queryset = members_of(ids, trial)
        for site in self.site_choices:
            self.fields[f"site_pi_{site.pk}"] = InvestigatorField(
                label=_("Principal investigator at %(site)s") % {"site": site.code},
                queryset=members_of([site.pk], trial),
                required=False,
            )

    def site_investigators(self) -> dict[int, Any]:
        """site id -> the chosen investigator (or None), for the chosen sites."""
        chosen = {s.pk for s in self.cleaned_data.get("sites") or []}
        return {
            site.pk: self.cleaned_data.get(f"site_pi_{site.pk}")
            for site in self.site_choices
            if site.pk in chosen
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lead, sites = data.get("lead_site"), data.get("sites")
        if lead is not None and sites is not None and lead not in sites:
            self.add_error("lead_site", _("The lead site must be one of the participating sites."))
        if sites is not None:
            chosen = {s.pk for s in sites}
            for site in self.site_choices:
                if data.get(f"site_pi_{site.pk}") is not None and site.pk not in chosen:
                    self.add_error(
                        f"site_pi_{site.pk}",
                        _(
                            "This site does not take part in the trial; tick it or leave its investigator empty."
                        ),
                    )
        return data


class TrialCreateForm(TrialForm, TrialSitesForm):
    field_order = [*TrialForm.base_fields, *TrialSitesForm.base_fields]


class ChangeForm(forms.Form):
    """What every edit carries: the version edited and the reason for the change."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(label=_("Reason for change"), max_length=2000)


class TrialEditForm(TrialForm, TrialSitesForm, ChangeForm):
    field_order = [*TrialForm.base_fields, *TrialSitesForm.base_fields, "reason"]


class StatusForm(forms.Form):
    to_status = forms.ChoiceField(choices=TrialStatus.choices, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=2000)

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (v, label) for v, label in TrialStatus.choices if v in STATUS_TRANSITIONS[current]
        ]


class CohortForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=CohortKind.choices)
    description = forms.CharField(
        label=_("Description"), max_length=5000, required=False, widget=forms.Textarea({"rows": 2})
    )
    target_accrual = forms.IntegerField(
        label=_("Target accrual"), min_value=0, max_value=100000, required=False
    )
    is_open = forms.BooleanField(label=_("Open to accrual"), required=False, initial=True)


class CohortEditForm(CohortForm, ChangeForm):
    pass


class DoseLevelForm(forms.Form):
    level = forms.IntegerField(
        label=_("Level"), min_value=-10, max_value=100, help_text=_("-1 for a de-escalation level")
    )
    agent = forms.CharField(label=_("Agent"), max_length=200)
    dose = forms.DecimalField(
        label=_("Dose"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=4,
        widget=forms.TextInput({"inputmode": "decimal"}),
    )
    unit = forms.CharField(label=_("Unit"), max_length=32, help_text="mg, mg/m², µg/kg")
    schedule = forms.CharField(
        label=_("Schedule"), max_length=200, required=False, help_text=_("e.g. QD d1-21 q28d")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dose = self.initial.get("dose")
        if isinstance(dose, Decimal):  # as written: 50, never 50.0000 or 5E+1
            self.initial["dose"] = f"{dose.normalize():f}"


class DoseLevelEditForm(DoseLevelForm, ChangeForm):
    pass
