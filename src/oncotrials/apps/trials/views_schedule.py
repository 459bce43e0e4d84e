"""The trial's visit schedule, shown and replaced from the trial page (htmx panel).

The schedule is pasted or uploaded as YAML or JSON (docs/formats/visit-schedule.md); every
problem the core finds is listed with its JSON path, and a schedule with errors is refused whole.
"""

from __future__ import annotations

from typing import Any

import yaml
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from oncotrials.apps.accounts.access import Action, acting_user, may
from oncotrials.apps.accounts.view_helpers import form_panel, form_refused
from oncotrials.core.errors import ConflictError, NotFoundError, OncotrialsError

from .models import Trial, VisitScheduleDefinition
from .selectors import trial_get_for_user
from .services import schedule_problems, schedule_set

MAX_UPLOAD = 512 * 1024


class VisitScheduleForm(forms.Form):
    document = forms.CharField(
        label=_("Visit schedule (YAML or JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "class": "code", "spellcheck": "false"}),
    )
    upload = forms.FileField(label=_("or upload a file"), required=False)
    reason = forms.CharField(
        label=_("Reason for the change (e.g. the protocol amendment)"),
        max_length=500,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("upload")
        text = data.get("document") or ""
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                self.add_error("upload", _("The file is larger than 512 KB."))
                return data
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("upload", _("The file is not UTF-8 text."))
                return data
            data["document"] = text
        if not text.strip():
            self.add_error("document", _("Paste the visit schedule or upload its file."))
            return data
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            self.add_error("document", _("Not valid YAML or JSON: %(error)s") % {"error": exc})
            return data
        data["parsed"] = parsed
        return data


def _text(definition: VisitScheduleDefinition | None) -> str:
    if definition is None:
        return ""
    return yaml.safe_dump(definition.document, sort_keys=False, allow_unicode=True)


@login_required
@require_http_methods(["GET", "POST"])
def trial_visit_schedule(request: HttpRequest, trial_id: int) -> HttpResponse:
    try:
        trial: Trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    except NotFoundError:
        raise Http404("No such trial.") from None
    editable = may(request.user, Action.EDIT_PORTFOLIO, on=trial)
    definition = VisitScheduleDefinition.objects.filter(trial=trial).first()
    form = None
    problems: list[Any] = []
    saved = False
    conflict = False
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("Your role does not allow you to edit the portfolio.")
        form = VisitScheduleForm(request.POST, request.FILES, prefix="schedule")
        if form.is_valid():
            parsed = form.cleaned_data["parsed"]
            problems = schedule_problems(parsed)
            if any(p.is_error for p in problems):
                form.add_error(
                    "document",
                    _("The visit schedule has %(n)d error(s); nothing was saved.")
                    % {"n": sum(p.is_error for p in problems)},
                )
            else:
                try:
                    definition = schedule_set(
                        trial=trial,
                        document=parsed,
                        reason=form.cleaned_data.get("reason") or "",
                        by=acting_user(request.user),
                    )
                except OncotrialsError as exc:
                    form_refused(form, exc)
                    conflict = isinstance(exc, ConflictError)
                else:
                    if not getattr(request, "htmx", False):
                        return redirect("trial-detail", trial_id=trial.pk)
                    form, saved = None, True
    if editable and form is None:
        form = VisitScheduleForm(prefix="schedule", initial={"document": _text(definition)})
    context = {
        "trial": trial,
        "definition": definition,
        "visits": _visits(definition),
        "form": form,
        "problems": problems,
        "saved": saved,
    }
    return form_panel(
        request,
        "trials/visit_schedule.html",
        "trials/_partials/visit_schedule.html",
        context,
        refused=form is not None and form.is_bound,
        conflict=conflict,
    )


def _visits(definition: VisitScheduleDefinition | None) -> list[dict[str, Any]]:
    if definition is None:
        return []
    return [
        {"code": v.get("code"), "name": v.get("name", ""), "offset": v.get("offset_days")}
        for v in definition.document.get("visits", [])
        if isinstance(v, dict)
    ]
