from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from oncotrials.apps.accounts.access import Action, acting_user, may, require, sites_where
from oncotrials.apps.accounts.view_helpers import csv_response, list_page, wants_csv
from oncotrials.apps.audit.selectors import audit_events_for_object
from oncotrials.core.errors import NotFoundError, OncotrialsError, PermissionDeniedError

from . import forms as f
from .models import (
    STATUS_TRANSITIONS,
    Cohort,
    DoseLevel,
    Modality,
    Phase,
    Trial,
    TrialSite,
    TrialStatus,
)
from .selectors import (
    PortfolioFilters,
    cohort_get_for_user,
    trial_get_for_user,
    trials_for_user,
    trials_visible_to,
)
from .services import (
    COHORT_FIELDS,
    DOSE_LEVEL_FIELDS,
    cohort_create,
    cohort_update,
    dose_level_create,
    dose_level_update,
    trial_change_status,
    trial_create,
    trial_update,
)

PORTFOLIO_CSV_HEADER = [
    "protocol",
    "title",
    "phase",
    "modality",
    "status",
    "tumour_types",
    "targets",
    "cohorts",
    "sites",
]


@login_required
def portfolio(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    g = request.GET
    filters = PortfolioFilters(
        phase=g.get("phase", "") if g.get("phase", "") in Phase.values else "",
        status=g.get("status", "") if g.get("status", "") in TrialStatus.values else "",
        modality=g.get("modality", "") if g.get("modality", "") in Modality.values else "",
        tumour_type=g.get("tumour_type", "")[:20],
        target=g.get("target", "")[:50],
        q=g.get("q", "")[:100],
    )
    # The cohort count's GROUP BY drops the model's ordering: the pages need one.
    trials = trials_for_user(user=request.user, filters=filters).order_by("protocol_code", "pk")
    if wants_csv(request):
        return csv_response(
            "portfolio.csv",
            PORTFOLIO_CSV_HEADER,
            (
                [
                    t.protocol_code,
                    t.short_title or t.title,
                    t.get_phase_display(),
                    t.get_modality_display(),
                    t.get_status_display(),
                    ", ".join(t.tumour_types or []),
                    ", ".join(t.targets or []),
                    getattr(t, "cohort_count", ""),  # annotated by trials_for_user
                    ", ".join(s.code for s in t.sites.all()),
                ]
                for t in trials.iterator(chunk_size=200)
            ),
        )
    page, query = list_page(request, trials)
    context = {
        "query": query,
        "trials": page.object_list,
        "page": page,
        "page_query": query,
        "pager_testid": "trial-pages",
        "filters": filters,
        "phases": Phase.choices,
        "statuses": TrialStatus.choices,
        "modalities": Modality.choices,
        "may_create": bool(sites_where(request.user, Action.EDIT_PORTFOLIO)),
    }
    template = (
        "trials/_partials/trial_table.html"
        if getattr(request, "htmx", False)
        else "trials/portfolio.html"
    )
    return render(request, template, context)


def _trial(request: HttpRequest, trial_id: int) -> Trial:
    try:
        return trial_get_for_user(user=request.user, trial_id=trial_id)
    except NotFoundError:
        raise Http404("No such trial.") from None


def _require_edit(request: HttpRequest, trial: Trial) -> None:
    """403 unless the user may edit this trial's portfolio entry (visibility already checked)."""
    try:
        require(request.user, Action.EDIT_PORTFOLIO, on=trial)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None


def _editable_trial(request: HttpRequest, trial_id: int) -> Trial:
    trial = _trial(request, trial_id)
    _require_edit(request, trial)
    return trial


def _editable_cohort(request: HttpRequest, cohort_id: int) -> Cohort:
    try:
        cohort = cohort_get_for_user(user=request.user, cohort_id=cohort_id)
    except NotFoundError:
        raise Http404("No such cohort.") from None
    _require_edit(request, cohort.trial)
    return cohort


def _editable_dose_level(request: HttpRequest, dose_level_id: int) -> DoseLevel:
    level = (
        DoseLevel.objects.filter(
            pk=dose_level_id, cohort__trial__in=trials_visible_to(request.user)
        )
        .select_related("cohort__trial")
        .first()
    )
    if level is None:
        raise Http404("No such dose level.")
    _require_edit(request, level.cohort.trial)
    return level


def _datalists(request: HttpRequest) -> dict[str, Any]:
    targets = sorted(
        {t for ts in trials_visible_to(request.user).values_list("targets", flat=True) for t in ts}
    )
    return {"oncotree_codes": f.oncotree_options(), "known_targets": targets}


def _trial_data(form: f.TrialForm) -> dict[str, Any]:
    return {k: v for k, v in form.cleaned_data.items() if k in f.TrialForm.base_fields}


@login_required
@require_http_methods(["GET", "POST"])
def trial_new(request: HttpRequest) -> HttpResponse:
    """Create a trial at sites where the user may edit the portfolio."""
    sites = sites_where(request.user, Action.EDIT_PORTFOLIO)
    if not sites:
        raise PermissionDenied("Your role does not allow you to create trials.")
    form = f.TrialCreateForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["sites"])
        try:
            trial = trial_create(
                data=_trial_data(form),
                sites=chosen,
                lead_site=form.cleaned_data.get("lead_site"),
                principal_investigator=form.cleaned_data.get("principal_investigator"),
                site_investigators=form.site_investigators(),
                by=acting_user(request.user),
            )
        except OncotrialsError as exc:
            if exc.code == "conflict":
                form.add_error("protocol_code", exc.message)
            else:
                f.apply_error(form, exc)
        else:
            messages.success(request, _("Trial %(code)s created.") % {"code": trial.protocol_code})
            return redirect("trial-detail", trial_id=trial.pk)
    return render(
        request,
        "trials/trial_form.html",
        {"form": form, **_datalists(request)},
        status=422 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def trial_edit(request: HttpRequest, trial_id: int) -> HttpResponse:
    """Edit a trial: its fields, participating sites, lead site and investigators."""
    trial = _editable_trial(request, trial_id)
    initial = {name: getattr(trial, name) for name in f.TrialForm.base_fields}
    rows = list(trial.trial_sites.select_related("site"))
    # The sites offered: the trial's own, and those where the user may edit the portfolio.
    offered = {ts.site.pk: ts.site for ts in rows}
    offered.update({s.pk: s for s in sites_where(request.user, Action.EDIT_PORTFOLIO)})
    site_initial = {
        "sites": [ts.site_id for ts in rows],
        "lead_site": next((ts.site_id for ts in rows if ts.is_lead), None),
        "principal_investigator": trial.principal_investigator_id,
        **{f"site_pi_{ts.site_id}": ts.principal_investigator_id for ts in rows},
    }
    form = f.TrialEditForm(
        request.POST or None,
        sites=offered.values(),
        trial=trial,
        initial={**initial, **site_initial, "expected_version": trial.version},
    )
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in _trial_data(form).items() if v != initial[k]}
        try:
            trial_update(
                trial=trial,
                changes=changes,
                sites=list(form.cleaned_data["sites"]),
                lead_site=form.cleaned_data.get("lead_site"),
                principal_investigator=form.cleaned_data.get("principal_investigator"),
                site_investigators=form.site_investigators(),
                by=acting_user(request.user),
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["expected_version"],
            )
        except OncotrialsError as exc:
            f.apply_error(form, exc)
        else:
            messages.success(request, _("Trial %(code)s updated.") % {"code": trial.protocol_code})
            return redirect("trial-detail", trial_id=trial.pk)
    return render(
        request,
        "trials/trial_form.html",
        {"form": form, "trial": trial, **_datalists(request)},
        status=422 if form.is_bound else 200,
    )


def _render_trial(
    request: HttpRequest,
    trial: Trial,
    *,
    cohort_form: f.CohortForm | None = None,
    dose_form: tuple[int, f.DoseLevelForm] | None = None,
    status_form: f.StatusForm | None = None,
) -> HttpResponse:
    """The trial page; a refused form of it (status, cohort, dose level) comes back bound, its
    errors beside its fields and what was typed kept, with status 422."""
    events = audit_events_for_object(
        object_type="trials.trial", object_id=str(trial.pk), user=request.user
    )
    # The sites with their investigators, and the trial's investigator, for the facts panel.
    prefetch_related_objects(
        [trial],
        Prefetch(
            "trial_sites",
            queryset=TrialSite.objects.select_related("site", "principal_investigator").order_by(
                "site__code"
            ),
        ),
        "principal_investigator",
    )
    editable = may(request.user, Action.EDIT_PORTFOLIO, on=trial)
    cohorts = []
    for c in trial.cohorts.all():
        form = None
        if editable:
            form = (
                dose_form[1]
                if dose_form and dose_form[0] == c.pk
                else f.DoseLevelForm(prefix=f"dl{c.pk}", initial={"level": _next_level(c)})
            )
        cohorts.append((c, form))
    statuses = []
    if editable:
        for value, label in TrialStatus.choices:
            if value not in STATUS_TRANSITIONS[trial.status]:
                continue
            if status_form is not None and status_form.data.get("to_status") == value:
                change = status_form
            else:
                change = f.StatusForm(current=trial.status, initial={"to_status": value})
            change.auto_id = f"status-{value}-%s"
            statuses.append((value, label, change))
    context = {
        "trial": trial,
        "events": events[:50],
        "editable": editable,
        "cohorts": cohorts,
        "cohort_form": cohort_form or (f.CohortForm(prefix="cohort") if editable else None),
        "statuses": statuses,
    }
    refused = any(x is not None for x in (cohort_form, dose_form, status_form))
    return render(request, "trials/trial_detail.html", context, status=422 if refused else 200)


def _next_level(cohort: Cohort) -> int:
    levels = [d.level for d in cohort.dose_levels.all()]
    return max(levels) + 1 if levels else 1


@login_required
def trial_detail(request: HttpRequest, trial_id: int) -> HttpResponse:
    return _render_trial(request, _trial(request, trial_id))


@login_required
@require_POST
def trial_status(request: HttpRequest, trial_id: int) -> HttpResponse:
    """Move the trial along its lifecycle, with a reason."""
    trial = _editable_trial(request, trial_id)
    form = f.StatusForm(request.POST, current=trial.status)
    if form.is_valid():
        try:
            trial_change_status(
                trial=trial,
                to_status=form.cleaned_data["to_status"],
                by=acting_user(request.user),
                reason=form.cleaned_data["reason"],
            )
        except OncotrialsError as exc:
            f.apply_error(form, exc)
        else:
            return redirect("trial-detail", trial_id=trial.pk)
    return _render_trial(request, _trial(request, trial_id), status_form=form)


@login_required
@require_POST
def cohort_add(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = _editable_trial(request, trial_id)
    form = f.CohortForm(request.POST, prefix="cohort")
    if form.is_valid():
        try:
            cohort = cohort_create(trial=trial, by=acting_user(request.user), **form.cleaned_data)
        except OncotrialsError as exc:
            if exc.code == "conflict":
                form.add_error("code", exc.message)
            else:
                f.apply_error(form, exc)
        else:
            messages.success(request, _("Cohort %(code)s added.") % {"code": cohort.code})
            return redirect("trial-detail", trial_id=trial.pk)
    return _render_trial(request, trial, cohort_form=form)


def _edit_page(
    request: HttpRequest,
    obj: Any,
    *,
    fields: tuple[str, ...],
    form_class: Any,
    update: Any,
    trial: Trial,
    heading: str,
    done: str,
) -> HttpResponse:
    """The edit page of a cohort or a dose level: the changed fields only, with the reason and
    the version the user edited (a stale edit is refused by the service)."""
    initial = {name: getattr(obj, name) for name in fields}
    form = form_class(request.POST or None, initial={**initial, "expected_version": obj.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            update(
                obj,
                changes={k: data[k] for k in fields if data[k] != initial[k]},
                by=acting_user(request.user),
                reason=data["reason"],
                expected_version=data["expected_version"],
            )
        except OncotrialsError as exc:
            f.apply_error(form, exc)
        else:
            messages.success(request, done)
            return redirect("trial-detail", trial_id=trial.pk)
    return render(
        request,
        "trials/edit.html",
        {"form": form, "trial": trial, "heading": heading},
        status=422 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def cohort_edit(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = _editable_cohort(request, cohort_id)
    return _edit_page(
        request,
        cohort,
        fields=COHORT_FIELDS,
        form_class=f.CohortEditForm,
        update=lambda obj, **kw: cohort_update(cohort=obj, **kw),
        trial=cohort.trial,
        heading=_("Edit cohort %(code)s") % {"code": cohort.code},
        done=_("Cohort %(code)s updated.") % {"code": request.POST.get("code", cohort.code)},
    )


@login_required
@require_POST
def dose_level_add(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = _editable_cohort(request, cohort_id)
    form = f.DoseLevelForm(request.POST, prefix=f"dl{cohort.pk}")
    if form.is_valid():
        try:
            level = dose_level_create(
                cohort=cohort, by=acting_user(request.user), **form.cleaned_data
            )
        except OncotrialsError as exc:
            if exc.code == "conflict":
                form.add_error("level", exc.message)
            else:
                f.apply_error(form, exc)
        else:
            messages.success(request, _("Dose level %(level)s added.") % {"level": level})
            return redirect("trial-detail", trial_id=cohort.trial_id)
    return _render_trial(request, _trial(request, cohort.trial_id), dose_form=(cohort.pk, form))


@login_required
@require_http_methods(["GET", "POST"])
def dose_level_edit(request: HttpRequest, dose_level_id: int) -> HttpResponse:
    level = _editable_dose_level(request, dose_level_id)
    return _edit_page(
        request,
        level,
        fields=DOSE_LEVEL_FIELDS,
        form_class=f.DoseLevelEditForm,
        update=lambda obj, **kw: dose_level_update(dose_level=obj, **kw),
        trial=level.cohort.trial,
        heading=_("Edit dose level %(level)s") % {"level": level},
        done=_("Dose level updated."),
    )
