"""Forms of the tumour-board pages (parsing only; the rules live in the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.models import Site, User
from oncotrials.apps.accounts.widgets import IsoDateInput
from oncotrials.apps.trials.models import Cohort, Trial

from .models import RecommendationKind


class MeetingForm(forms.Form):
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), to_field_name="code", label=_("Site")
    )
    held_on = forms.DateField(widget=IsoDateInput(), label=_("Date of the meeting"))
    title = forms.CharField(max_length=200, required=False, label=_("Title"))
    chair = forms.ModelChoiceField(
        queryset=User.objects.none(), to_field_name="username", required=False, label=_("Chair")
    )
    attendees = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        to_field_name="username",
        required=False,
        label=_("Attendees"),
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site_field: Any = self.fields["site"]
        site_field.queryset = sites
        staff = User.objects.filter(
            memberships__site__in=sites, memberships__trial__isnull=True
        ).distinct()
        chair_field: Any = self.fields["chair"]
        chair_field.queryset = staff
        attendees_field: Any = self.fields["attendees"]
        attendees_field.queryset = staff


class CaseAddForm(forms.Form):
    """A patient put on the agenda by hand."""

    research_id = forms.CharField(max_length=20, label=_("Research id"))
    reason = forms.CharField(max_length=500, label=_("Reason"))


class RecommendationForm(forms.Form):
    # No kind is pre-selected: what the board recommends is its decision, never a default.
    kind = forms.ChoiceField(choices=[("", "—"), *RecommendationKind.choices], label=_("Kind"))
    trial = forms.ModelChoiceField(queryset=Trial.objects.none(), required=False, label=_("Trial"))
    cohort = forms.ModelChoiceField(
        queryset=Cohort.objects.none(), required=False, label=_("Cohort")
    )
    therapy = forms.CharField(max_length=200, required=False, label=_("Therapy"))
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, label=_("Rationale")
    )

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        trials = Trial.objects.filter(trial_sites__site=site).order_by("protocol_code")
        trial_field: Any = self.fields["trial"]
        trial_field.queryset = trials
        cohort_field: Any = self.fields["cohort"]
        cohort_field.queryset = Cohort.objects.filter(trial__in=trials).select_related("trial")
        cohort_field.label_from_instance = lambda c: f"{c.trial.protocol_code} / {c.code}"

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "kind": d["kind"],
            "trial": d.get("trial"),
            "cohort": d.get("cohort"),
            "therapy": d.get("therapy") or "",
            "rationale": d["rationale"],
        }


class FunnelFilterForm(forms.Form):
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), to_field_name="code", required=False, label=_("Site")
    )
    date_from = forms.DateField(required=False, widget=IsoDateInput(), label=_("From"))
    date_to = forms.DateField(required=False, widget=IsoDateInput(), label=_("To"))

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site_field: Any = self.fields["site"]
        site_field.queryset = sites

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError(_("The end of the period is before its start."))
        return data
