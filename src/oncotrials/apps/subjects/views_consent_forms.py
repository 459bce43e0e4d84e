"""The consent form versions of a trial, listed and added from the trial page (htmx panel)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from oncotrials.apps.accounts.access import Action, acting_user, may
from oncotrials.apps.accounts.view_helpers import form_panel, form_refused
from oncotrials.apps.trials.models import Trial
from oncotrials.apps.trials.selectors import trial_get_for_user
from oncotrials.core.errors import ConflictError, NotFoundError, OncotrialsError

from .models import ConsentForm, ConsentKind
from .services import consent_form_create

DATE = forms.DateInput(attrs={"type": "date"})
OPTIONS = [
    ("future_research", _("Future research")),
    ("genetic_analysis", _("Genetic analysis")),
    ("sample_storage", _("Sample storage")),
]


class ConsentFormVersionForm(forms.Form):
    version = forms.CharField(label=_("Version"), max_length=20)
    version_date = forms.DateField(label=_("Version date"), widget=DATE)
    ethics_approval_date = forms.DateField(label=_("Ethics approval"), widget=DATE)
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    options = forms.MultipleChoiceField(
        label=_("Optional consents offered"),
        choices=OPTIONS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    supersedes = forms.ModelChoiceField(
        label=_("Supersedes"), queryset=ConsentForm.objects.none(), required=False
    )

    def __init__(self, *args: Any, trial: Trial, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["supersedes"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = ConsentForm.objects.filter(trial=trial, superseded_by__isnull=True)


@login_required
@require_http_methods(["GET", "POST"])
def trial_consent_forms(request: HttpRequest, trial_id: int) -> HttpResponse:
    try:
        trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    except NotFoundError:
        raise Http404("No such trial.") from None
    editable = may(request.user, Action.EDIT_PORTFOLIO, on=trial)
    form = None
    conflict = False
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("Your role does not allow you to edit the portfolio.")
        form = ConsentFormVersionForm(request.POST, trial=trial, prefix="icf")
        if form.is_valid():
            try:
                consent_form_create(
                    kind=ConsentKind.TRIAL,
                    trial=trial,
                    by=acting_user(request.user),
                    **form.cleaned_data,
                )
            except OncotrialsError as exc:
                form_refused(form, exc)
                conflict = isinstance(exc, ConflictError)
            else:
                if not getattr(request, "htmx", False):
                    return redirect("trial-detail", trial_id=trial.pk)
                form = None
    if editable and form is None:
        form = ConsentFormVersionForm(trial=trial, prefix="icf")
    context = {
        "trial": trial,
        "consent_forms": ConsentForm.objects.filter(trial=trial).select_related("supersedes"),
        "form": form,
    }
    return form_panel(
        request,
        "subjects/consent_forms.html",
        "subjects/_partials/consent_forms.html",
        context,
        refused=form is not None and form.is_bound,
        conflict=conflict,
    )
