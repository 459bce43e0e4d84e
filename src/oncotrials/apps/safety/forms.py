"""The adverse-event form: checks what it can in plain words, every error at once, before the
service (which stays the judge: its refusals are shown next to the field they name)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.view_helpers import form_refused
from oncotrials.apps.accounts.widgets import IsoDateInput
from oncotrials.core.errors import NotFoundError, OncotrialsError
from oncotrials.core.grading import load_catalogue

from .models import ActionTaken, AeOutcome, Attribution, Seriousness

BLANK = [("", "—")]
FLAGS = ("immune_related", "expected", "supportive_care", "due_to_progression")


class AdverseEventForm(forms.Form):
    term = forms.CharField(
        label=_("CTCAE v5.0 term"),
        max_length=200,
        error_messages={"required": _("Give the CTCAE term; a draft needs at least the term.")},
        widget=forms.TextInput({"list": "ctcae-terms", "autocomplete": "off"}),
    )
    verbatim = forms.CharField(label=_("Verbatim"), max_length=500, required=False)
    grade = forms.TypedChoiceField(
        label=_("Grade"),
        choices=BLANK + [(str(g), str(g)) for g in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    onset_date = forms.DateField(label=_("Onset"), widget=IsoDateInput, required=False)
    resolution_date = forms.DateField(label=_("Resolution"), widget=IsoDateInput, required=False)
    seriousness = forms.MultipleChoiceField(
        label=_("Seriousness"),
        choices=Seriousness.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    awareness_at = forms.CharField(
        label=_("Site aware of seriousness at"),
        required=False,
        widget=forms.DateTimeInput({"type": "datetime-local"}),
    )
    action_taken = forms.ChoiceField(
        label=_("Action taken"), choices=BLANK + list(ActionTaken.choices), required=False
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=BLANK + list(AeOutcome.choices), required=False
    )
    immune_related = forms.BooleanField(label=_("Immune-related"), required=False)
    expected = forms.BooleanField(
        label=_("Expected (listed in the reference safety information)"), required=False
    )
    supportive_care = forms.BooleanField(label=_("Supportive care given"), required=False)
    due_to_progression = forms.BooleanField(label=_("Due to disease progression"), required=False)
    reason = forms.CharField(label=_("Reason for change"), max_length=1000)

    def __init__(
        self, *args: Any, agents: Sequence[str], needs_reason: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["awareness_at"].unit = "UTC"  # type: ignore[attr-defined]
        self.agents = list(agents)
        for agent in self.agents:
            self.fields[f"attribution__{agent}"] = forms.ChoiceField(
                label=agent, choices=BLANK + list(Attribution.choices), required=False
            )
        if not needs_reason:
            del self.fields["reason"]

    @property
    def attribution_fields(self) -> list[forms.BoundField]:
        return [self[f"attribution__{a}"] for a in self.agents]

    @property
    def flag_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in FLAGS]

    def clean_term(self) -> str:
        name = self.cleaned_data["term"].strip()
        try:
            self.ctcae_term = load_catalogue().term(name)
        except NotFoundError:
            raise forms.ValidationError(
                _("“%(term)s” is not a CTCAE v5.0 term; choose one from the list as you type."),
                params={"term": name},
                code="unknown_term",
            ) from None
        return str(self.ctcae_term.term)

    def clean_awareness_at(self) -> str | None:
        text = (self.cleaned_data.get("awareness_at") or "").strip()
        if not text:
            return None
        try:
            dt.datetime.fromisoformat(text)
        except ValueError:
            raise forms.ValidationError(
                _("Enter a date and time, e.g. 2026-11-14 09:30."), code="invalid"
            ) from None
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        grade, term = data.get("grade"), getattr(self, "ctcae_term", None)
        if grade is not None and term is not None and not term.grade_exists(grade):
            self.add_error(
                "grade",
                forms.ValidationError(
                    _("Grade %(grade)s does not exist for %(term)s; its grades are %(grades)s."),
                    params={
                        "grade": grade,
                        "term": term.term,
                        "grades": ", ".join(str(g) for g in term.defined_grades),
                    },
                ),
            )
        for name in ("onset_date", "resolution_date"):
            day = data.get(name)
            if day is not None and day > today:
                self.add_error(
                    name,
                    forms.ValidationError(
                        _("This date is in the future; today is %(today)s."),
                        params={"today": today.isoformat()},
                    ),
                )
        onset, resolution = data.get("onset_date"), data.get("resolution_date")
        if onset and resolution and resolution < onset:
            self.add_error(
                "resolution_date",
                forms.ValidationError(
                    _("The event cannot resolve before its onset (%(onset)s)."),
                    params={"onset": onset.isoformat()},
                ),
            )
        return data

    def service_data(self) -> dict[str, Any]:
        """The values in the shape the AE services take."""
        d = self.cleaned_data
        return {
            "term": d["term"],
            "meddra_code": None,
            "verbatim": d.get("verbatim", ""),
            "grade": d.get("grade"),
            "onset_date": d.get("onset_date"),
            "resolution_date": d.get("resolution_date"),
            "seriousness": list(d.get("seriousness") or []),
            "attribution": {
                a: d[f"attribution__{a}"] for a in self.agents if d.get(f"attribution__{a}")
            },
            "action_taken": d.get("action_taken", ""),
            "outcome": d.get("outcome", ""),
            "awareness_at": d.get("awareness_at"),
            **{flag: bool(d.get(flag)) for flag in FLAGS},
        }

    def refused(self, exc: OncotrialsError) -> None:
        """Show a service's refusal next to the fields it names (all of its problems)."""
        form_refused(self, exc)
