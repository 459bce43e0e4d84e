"""Forms of the tumour-board pages (parsing only; the rules live in the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.models import Site, User
from oncotrials.apps.accounts.widgets import IsoDateInput
from oncotrials.apps.trials.models import Cohort, Trial

from .models import MeetingStatus, MtbCase, MtbMeeting, MtbRecommendation, RecommendationKind


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


class MeetingStatusForm(forms.Form):
    """One step of a meeting (planned → held → closed): the button pressed and the version of
    the meeting the organiser saw. A refusal is about the meeting, not a field: it is shown in the
    form's error summary, beside the buttons."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    status = forms.ChoiceField(choices=MeetingStatus.choices, widget=forms.HiddenInput)


class MeetingPeopleForm(forms.Form):
    """The chair and attendees of a meeting: the site's staff (the service checks it again)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    chair = forms.ModelChoiceField(
        queryset=User.objects.none(), to_field_name="username", required=False, label=_("Chair")
    )
    attendees = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        to_field_name="username",
        required=False,
        label=_("Attendees"),
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )

    def __init__(
        self, *args: Any, meeting: MtbMeeting, attendees: list[User] | None = None, **kwargs: Any
    ) -> None:
        if attendees is None:
            attendees = list(meeting.attendees.all())
        kwargs.setdefault(
            "initial",
            {
                "version": meeting.version,
                "chair": getattr(meeting.chair, "username", None),
                "attendees": [u.username for u in attendees],
            },
        )
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(
            memberships__site_id=meeting.site_id, memberships__trial__isnull=True
        ).distinct()
        chair_field: Any = self.fields["chair"]
        chair_field.queryset = staff
        chair_field.empty_label = "—"
        chair_field.label_from_instance = _person
        attendees_field: Any = self.fields["attendees"]
        attendees_field.queryset = staff
        attendees_field.label_from_instance = _person


def _person(user: User) -> str:
    return user.get_full_name() or user.username


class CaseJudgementForm(forms.Form):
    """The board's judgement of actionability (empty: follow the ESCAT tiers) and its notes."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    actionable = forms.ChoiceField(
        choices=[
            ("", _("follow the tiers")),
            ("yes", _("actionable")),
            ("no", _("not actionable")),
        ],
        required=False,
        label=_("Board's judgement"),
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        required=False,
        label=_("Board notes"),
    )
    reason = forms.CharField(max_length=1000, required=False, label=_("Why"))

    def __init__(self, *args: Any, case: MtbCase, **kwargs: Any) -> None:
        judgement = "" if case.actionable is None else "yes" if case.actionable else "no"
        kwargs.setdefault(
            "initial", {"version": case.version, "actionable": judgement, "notes": case.notes}
        )
        kwargs.setdefault("auto_id", "id_judgement_%s")
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "version": d["version"],
            "actionable": {"yes": True, "no": False}.get(d["actionable"]),
            "notes": d["notes"],
            "reason": d["reason"],
        }


class RecommendationEditForm(forms.Form):
    """A change to a recommendation, with its reason; the therapy only where it names one and
    the cohort only within its trial."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, label=_("Rationale")
    )
    therapy = forms.CharField(max_length=200, required=False, label=_("Therapy"))
    cohort = forms.ModelChoiceField(
        queryset=Cohort.objects.none(), required=False, label=_("Cohort")
    )
    reason = forms.CharField(max_length=1000, label=_("Reason for change"))

    def __init__(self, *args: Any, recommendation: MtbRecommendation, **kwargs: Any) -> None:
        rec = recommendation
        kwargs.setdefault(
            "initial",
            {
                "version": rec.version,
                "rationale": rec.rationale,
                "therapy": rec.therapy,
                "cohort": rec.cohort_id,
            },
        )
        # Each recommendation of the page has its own form: ids unique, names as the view reads.
        kwargs.setdefault("auto_id", f"id_rec{rec.pk}_%s")
        super().__init__(*args, **kwargs)
        if not rec.therapy:
            del self.fields["therapy"]
        if rec.trial_id is None:
            del self.fields["cohort"]
        else:
            cohort_field: Any = self.fields["cohort"]
            cohort_field.queryset = Cohort.objects.filter(trial_id=rec.trial_id)
            cohort_field.label_from_instance = lambda c: c.code

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        kwargs = {"version": d["version"], "rationale": d["rationale"], "reason": d["reason"]}
        # A field the submit leaves out keeps its value (the page shows the therapy only where
        # there is one); a field sent empty clears it.
        for name in ("therapy", "cohort"):
            if name in self.fields and name in self.data:
                kwargs[name] = d.get(name) or ("" if name == "therapy" else None)
        return kwargs


class RecommendationSignForm(forms.Form):
    """The board's signature: its meaning and the signer's password (never shown back)."""

    meaning = forms.CharField(
        max_length=200,
        label=_("Meaning of the signature"),
        initial=_("I approve this recommendation on behalf of the board"),
    )
    password = forms.CharField(
        max_length=200,
        strip=False,
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, recommendation: MtbRecommendation, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_sign{recommendation.pk}_%s")
        super().__init__(*args, **kwargs)
