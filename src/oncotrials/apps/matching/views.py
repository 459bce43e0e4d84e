"""Pages of trial matching: the panels loaded with htmx on the trial and patient pages, and the
criteria editor (a plain form: it works without JavaScript and shows errors in place)."""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from oncotrials.apps.accounts.access import Action, acting_user, may
from oncotrials.apps.matching.criteria import criteria_from_text, match_criteria_set
from oncotrials.apps.subjects.selectors import patient_get_for_user
from oncotrials.apps.trials.selectors import trial_get_for_user
from oncotrials.core.errors import NotFoundError, OncotrialsError, PermissionDeniedError

from .engine import matches_for_patient, matches_for_trial


def _trial(request: HttpRequest, trial_id: int) -> Any:
    try:
        return trial_get_for_user(user=request.user, trial_id=trial_id)
    except NotFoundError:
        raise Http404("No such trial.") from None


def _as_yaml(value: Any) -> str:
    if value is None:
        return ""
    return str(yaml.safe_dump(value, sort_keys=False, allow_unicode=True))


def _targets(trial: Any) -> list[tuple[str, str, Any]]:
    """(form value, label, current criteria) of the trial, each cohort and each dose level."""
    out: list[tuple[str, str, Any]] = [
        ("trial", f"{trial.protocol_code} (trial)", trial.match_criteria)
    ]
    for c in trial.cohorts.all():
        out.append((f"cohort:{c.pk}", f"{c.code} · {c.name}", c.match_criteria))
        for d in c.dose_levels.all():
            out.append((f"dose:{d.pk}", f"{c.code} DL{d.level} · {d.agent}", d.match_criteria))
    return out


@login_required
def trial_matching_panel(request: HttpRequest, trial_id: int) -> HttpResponse:
    """The "Matched patients" panel of a trial page (htmx partial)."""
    trial = _trial(request, trial_id)
    context: dict[str, Any] = {"trial": trial, "matches": [], "forbidden": False}
    try:
        context["matches"] = matches_for_trial(user=request.user, trial=trial)
    except PermissionDeniedError:
        context["forbidden"] = True
    context["editable"] = may(request.user, Action.EDIT_PORTFOLIO, on=trial)
    targets = _targets(trial)
    context["criteria"] = [
        (label, _as_yaml(crit)) for _v, label, crit in targets if crit is not None
    ]
    context["targets"] = [(v, label, _as_yaml(crit)) for v, label, crit in targets]
    return render(request, "matching/_trial_panel.html", context)


@login_required
def patient_matching_panel(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The "Matching cohorts" panel of a patient page (htmx partial)."""
    try:
        patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    except NotFoundError:
        raise Http404("No such patient.") from None
    every = request.GET.get("all") == "1"
    context: dict[str, Any] = {
        "patient": patient,
        "matches": [],
        "forbidden": False,
        "every": every,
    }
    try:
        context["matches"] = matches_for_patient(
            user=request.user, patient=patient, include_non_matches=every
        )
    except PermissionDeniedError:
        context["forbidden"] = True
    return render(request, "matching/_patient_panel.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def trial_criteria_edit(request: HttpRequest, trial_id: int) -> HttpResponse:
    """Edit the machine criteria of the trial, a cohort or a dose level (YAML or JSON)."""
    trial = _trial(request, trial_id)
    if not may(request.user, Action.EDIT_PORTFOLIO, on=trial):
        raise PermissionDenied(
            f"Your role on trial {trial.protocol_code} is read-only for the portfolio."
        )
    targets = _targets(trial)
    values = {v for v, _l, _c in targets}
    target = request.POST.get("target") or request.GET.get("target") or "trial"
    if target not in values:
        target = "trial"
    current = next(c for v, _l, c in targets if v == target)
    form = {
        "target": target,
        "text": _as_yaml(current),
        "reason": "",
        "expected_version": trial.version,
    }
    error = ""
    if request.method == "POST":
        form["text"] = request.POST.get("criteria", "")[:100_000]
        form["reason"] = request.POST.get("reason", "")[:500]
        try:
            expected = int(request.POST.get("expected_version", ""))
        except ValueError:
            expected = -1
        form["expected_version"] = expected
        kind, _, ident = target.partition(":")
        try:
            data = criteria_from_text(str(form["text"]), source="criteria")
            match_criteria_set(
                trial=trial,
                criteria=data,
                cohort_id=int(ident) if kind == "cohort" else None,
                dose_level_id=int(ident) if kind == "dose" else None,
                by=acting_user(request.user),
                reason=str(form["reason"]),
                expected_version=expected,
            )
        except OncotrialsError as exc:
            error = exc.message
        else:
            return redirect(reverse("trial-detail", args=[trial.pk]) + "#matching")
    return render(
        request,
        "matching/criteria_edit.html",
        {
            "trial": trial,
            "targets": [(v, label) for v, label, _c in targets],
            "form": form,
            "error": error,
            "current": {v: json.dumps(c) if c is not None else "" for v, _l, c in targets},
        },
        status=422 if error else 200,
    )
