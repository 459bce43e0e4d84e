"""Data entry of the journey from the web: each form posts to one service. A refused form comes
back on the patient page as typed, every error beside its field, and nothing is saved."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from oncotrials.apps.accounts.access import Action, Target, acting_user, may, sites_where
from oncotrials.apps.accounts.models import Actor, Site
from oncotrials.apps.trials.models import Cohort, CohortKind, DoseLevel, TrialStatus
from oncotrials.apps.trials.selectors import trials_visible_to
from oncotrials.core.errors import NotFoundError, OncotrialsError, ValidationError
from oncotrials.core.numbers import plain

from . import forms as f
from .inclusion_rules import dose_gate
from .models import (
    ConsentForm,
    ObservationKind,
    Patient,
    RegistrationStatus,
    ScreeningKind,
    ScreeningOutcome,
)
from .selectors import (
    arm_visible_to,
    consents_visible_to,
    patient_get_for_user,
    pre_registration_visible_to,
    registrations_visible_to,
    screenings_visible_to,
)
from .services import (
    arm_assigned_by_scheme,
    baseline_observation_record,
    consent_sign,
    consent_withdraw,
    patient_create,
    prior_line_record,
    randomise,
    registration_change_status,
    registration_create,
    screening_close,
    screening_start,
    visit_mark,
)
from .views import PatientReads, patient_page, patient_reads


def _trial_label(trial: Any) -> str:
    """The protocol code, with the short title when there is one (never a dangling dash)."""
    return (
        f"{trial.protocol_code} — {trial.short_title}" if trial.short_title else trial.protocol_code
    )


def _writable_sites(user: Actor) -> list[tuple[str, str]]:
    return [(s.code, s.name) for s in sites_where(user, Action.WRITE_JOURNEY)]


@login_required
def patient_new(request: HttpRequest) -> HttpResponse:
    sites = _writable_sites(request.user)
    if not sites:
        raise Http404("You may not register referrals.")
    form = f.ReferralForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        site = Site.objects.get(code=data.pop("site"))
        try:
            patient = patient_create(site=site, by=acting_user(request.user), **data)
        except OncotrialsError as exc:
            form.add_error(
                exc.extra.get("field") if exc.extra.get("field") in form.fields else None,
                exc.message,
            )
        else:
            messages.success(
                request,
                gettext("Referral registered as %(research_id)s.")
                % {"research_id": patient.research_id},
            )
            return redirect("patient-detail", patient_id=patient.pk)
    return render(
        request, "subjects/patient_new.html", {"form": form}, status=422 if form.is_bound else 200
    )


def journey_forms(request: HttpRequest, patient: Patient, reads: PatientReads) -> dict[str, Any]:
    """Unbound forms for the patient page, with the choices this patient and user allow."""
    today = timezone.localdate()
    trials = trials_visible_to(request.user).filter(sites=patient.site_id).distinct()
    icfs = list(
        ConsentForm.objects.filter(trial__in=trials, valid_from__lte=today)
        .exclude(valid_to__lt=today)
        .select_related("trial")
    )
    forms_in_force = [(c.pk, str(c)) for c in icfs]
    options_by_form = {c.pk: list(c.options) for c in icfs}
    consents = [
        (c.pk, f"{c.form} ({c.signed_on:%Y-%m-%d})")
        for c in reads.consents
        if c.withdrawn_on is None
    ]
    episodes = [
        (e.pk, f"{e.get_kind_display()} {e.trial} ({e.started_on:%Y-%m-%d})")
        for e in reads.screenings
        if e.outcome == ScreeningOutcome.PENDING
    ]
    eligible = _eligible_trial_ids(request, patient)
    # Every registration of the patient, seen or not: a cohort or trial it is in is not offered.
    taken = list(patient.registrations.values_list("cohort_id", "trial_id"))
    targets, closed, overrides = _registration_targets(
        request, patient, trials, eligible, {c for c, _ in taken}
    )
    # ECOG, labs and prior lines outside a casebook: subjects' one rule for them.
    may_observe = pre_registration_visible_to(user=request.user, site_id=patient.site_id)
    if may_observe:
        # One read of the prior lines serves the next line number here and the page's list.
        prefetch_related_objects([patient], "prior_therapy_lines")
    regs = [
        (
            r.pk,
            f"{r.cohort if arm_visible_to(user=request.user, registration=r) else r.trial} ({r.get_status_display()})",
        )
        for r in reads.registrations
        if r.status != RegistrationStatus.OFF_STUDY
    ]
    return {
        "may_write": may(request.user, Action.WRITE_JOURNEY, on=reads.target),
        "consent_form": f.ConsentForm(
            forms_in_force=forms_in_force,
            options_by_form=options_by_form,
            initial={"signed_on": today},
        )
        if forms_in_force
        else None,
        "withdraw_form": f.WithdrawForm(consents=consents, initial={"on": today})
        if consents
        else None,
        "screening_form": f.ScreeningStartForm(
            trials=[
                (t.pk, _trial_label(t))
                for t in trials.filter(status=TrialStatus.OPEN).only(
                    "pk", "protocol_code", "short_title"
                )
            ],
            initial={"started_on": today},
        ),
        "close_form": f.ScreeningCloseForm(episodes=episodes, initial={"closed_on": today})
        if episodes
        else None,
        "registration_form": f.RegistrationForm(
            targets=targets, overrides=overrides, initial={"registered_on": today}
        )
        if targets
        else None,
        "registration_closed": closed,
        "randomise_forms": _randomise_forms(trials, eligible - {t for _, t in taken}, today),
        "status_form": f.StatusForm(registrations=regs, initial={"on": today}) if regs else None,
        "ecog_form": f.EcogForm(initial={"ecog_on": today}) if may_observe else None,
        "baseline_lab_form": f.BaselineLabForm(initial={"sampled_on": today})
        if may_observe
        else None,
        "prior_line_form": f.PriorLineForm(
            initial={
                "line": max((p.line for p in patient.prior_therapy_lines.all()), default=0) + 1
            }
        )
        if may_observe
        else None,
    }


def _eligible_trial_ids(request: HttpRequest, patient: Patient) -> set[int]:
    """Trials in which the patient has an eligible screening not yet used by a registration."""
    return set(
        screenings_visible_to(request.user)
        .filter(
            patient=patient,
            kind=ScreeningKind.SCREENING,
            outcome=ScreeningOutcome.ELIGIBLE,
            registration__isnull=True,
        )
        .values_list("trial_id", flat=True)
    )


def _registration_targets(
    request: HttpRequest, patient: Patient, trials: Any, eligible: set[int], taken: set[int]
) -> tuple[list[tuple[str, str]], list[tuple[Cohort, str]], bool]:
    """The cohort / dose level choices of the registration form, the cohorts closed to accrual
    (with the reason), and whether an override of the escalation's dose is offered.

    Only the open cohorts of trials in which the patient was found eligible; in an escalation
    cohort, only the level(s) the escalation allows for the next patient, and, for a user who
    may decide the dose, the other levels marked as overrides (never an eliminated level).
    Randomised arms are reached through randomisation, never chosen by hand.
    """
    targets: list[tuple[str, str]] = []
    closed: list[tuple[Cohort, str]] = []
    overrides = False
    cohorts = (
        Cohort.objects.filter(
            trial__in=trials.filter(status=TrialStatus.OPEN, pk__in=eligible), is_open=True
        )
        .exclude(kind=CohortKind.RANDOMISED_ARM)
        .exclude(pk__in=taken)
        .select_related("trial")
        .prefetch_related(Prefetch("dose_levels", queryset=DoseLevel.objects.order_by("level")))
        .order_by("trial__protocol_code", "code")
    )
    for cohort in cohorts:
        if arm_assigned_by_scheme(cohort):
            continue
        levels = list(cohort.dose_levels.all())
        if not levels:
            targets.append((f"{cohort.pk}:", str(cohort)))
            continue
        gate = dose_gate(cohort)
        if gate is not None and gate.closed:
            closed.append((cohort, gate.reason))
            continue
        may_override = gate is not None and may(
            request.user,
            Action.DECIDE_DOSE,
            on=Target(frozenset({patient.site_id}), frozenset({cohort.trial_id})),
        )
        for dl in levels:
            label = f"{cohort} — DL{dl.level} {plain(dl.dose)} {dl.unit}"
            if gate is None or dl.pk in gate.allowed:
                targets.append((f"{cohort.pk}:{dl.pk}", label))
            elif may_override and dl.pk not in gate.forbidden:
                targets.append(
                    (f"{cohort.pk}:{dl.pk}", f"{label} — {gettext('override: give the reason')}")
                )
                overrides = True
    return targets, closed, overrides


def _randomise_forms(trials: Any, eligible: set[int], today: Any) -> list[f.RandomiseForm]:
    """One form per open trial with a randomisation scheme among ``eligible`` (those in which
    the patient was found eligible and is not yet registered): its stratification factors and
    the date."""
    return [
        f.RandomiseForm(
            trial=(t.pk, _trial_label(t)),
            factors={k: [str(v) for v in vs] for k, vs in t.randomisation_scheme.factors.items()},
            initial={"registered_on": today},
        )
        for t in trials.filter(
            status=TrialStatus.OPEN,
            pk__in=eligible,
            randomisation_scheme__isnull=False,
        )
        .select_related("randomisation_scheme")
        .order_by("protocol_code")
    ]


@login_required
@require_POST
def patient_action(request: HttpRequest, patient_id: int, action: str) -> HttpResponse:
    try:
        patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    except NotFoundError:
        raise Http404("No such patient.") from None
    reads = patient_reads(request.user, patient)
    choices = journey_forms(request, patient, reads)
    if action not in _ACTIONS:
        raise Http404("Unknown action.")
    try:
        message = _ACTIONS[action](request, patient, choices)
    except _Refused:
        pass  # the bound form carries its errors
    except OncotrialsError as exc:
        refused = choices.get(_BOUND)
        if refused is None or exc.status in (403, 404):
            messages.error(request, exc.message)
            return redirect("patient-detail", patient_id=patient.pk)
        key, form = refused
        field = str(exc.extra.get("field", ""))
        options = [str(o) for o in exc.extra.get("options", [])]
        if options and all(o in form.fields for o in options):
            for name in options:  # an option the version does not declare: beside each box
                form.add_error(name, exc.message)
        else:
            form.add_error(field if field in form.fields else None, exc.message)
    else:
        if message:
            messages.success(request, message)
        return redirect("patient-detail", patient_id=patient.pk)
    key, form = choices.pop(_BOUND)
    if isinstance(choices.get(key), list):  # one of several forms (a randomisation per trial)
        choices[key] = [form if fm.trial_id == form.trial_id else fm for fm in choices[key]]
    else:
        choices[key] = form
    return patient_page(request, patient, choices, reads, status=422)


_BOUND = "_bound"


class _Refused(Exception):
    """The posted form is invalid: the page shows it again with its errors."""


def _bound(c: dict[str, Any], key: str, request: HttpRequest) -> dict[str, Any]:
    form = c[key]
    if form is None:
        raise NotFoundError(gettext("Nothing to act on."))
    bound = type(form)(request.POST, **_choice_kwargs(form))
    c[_BOUND] = (key, bound)
    if not bound.is_valid():
        raise _Refused
    return dict(bound.cleaned_data)


def _choice_kwargs(form: Any) -> dict[str, Any]:
    keys: dict[type[Any], tuple[str, str]] = {
        f.ConsentForm: ("forms_in_force", "form"),
        f.WithdrawForm: ("consents", "consent"),
        f.ScreeningStartForm: ("trials", "trial"),
        f.ScreeningCloseForm: ("episodes", "episode"),
        f.RegistrationForm: ("targets", "cohort"),
        f.StatusForm: ("registrations", "registration"),
    }
    if type(form) not in keys:
        return {}
    kwarg, field = keys[type(form)]
    kwargs: dict[str, Any] = {kwarg: list(form.fields[field].choices)}
    if isinstance(form, f.RegistrationForm):
        kwargs["overrides"] = "dose_override_reason" in form.fields
    if isinstance(form, f.ConsentForm):
        kwargs["options_by_form"] = form.options_by_form
    return kwargs


def _consent(request: HttpRequest, patient: Patient, c: dict[str, Any]) -> str:
    data = _bound(c, "consent_form", request)
    form = ConsentForm.objects.get(pk=data["form"])
    # Every ticked option goes to the service, which refuses those this version does not declare:
    # an option the patient agreed to is never dropped without a word.
    bound = c[_BOUND][1]
    options = dict.fromkeys(form.options, False) | bound.granted()
    consent_sign(
        patient=patient,
        form=form,
        signed_on=data["signed_on"],
        by=acting_user(request.user),
        options_granted=options,
    )
    return f"Consent to {form} recorded."


def _withdraw(request: HttpRequest, patient: Patient, c: dict[str, Any]) -> str:
    data = _bound(c, "withdraw_form", request)
    consent_withdraw(
        consent=consents_visible_to(request.user).get(pk=data["consent"], patient=patient),
        on=data["on"],
        scope=data["scope"],
        reason=data["reason"],
        by=acting_user(request.user),
    )
    return "Withdrawal recorded."


def _screen(request: HttpRequest, patient: Patient, c: dict[str, Any]) -> str:
    data = _bound(c, "screening_form", request)
    trial = trials_visible_to(request.user).get(pk=data["trial"])
    screening_start(
        patient=patient,
        trial=trial,
        kind=data["kind"],
        started_on=data["started_on"],
        by=acting_user(request.user),
    )
    return f"Screening for {trial} started."


def _close(request: HttpRequest, patient: Patient, c: dict[str, Any]) -> str:
    data = _bound(c, "close_form", request)
    episode = screenings_visible_to(request.user).get(pk=data["episode"], patient=patient)
    screening_close(
        episode=episode,
        outcome=data["outcome"],
        closed_on=data["closed_on"],
        by=acting_user(request.user),
        failure_reason=data.get("failure_reason") or "",
    )
    return "Screening closed."


def _register(request: HttpRequest, patient: Patient, c: dict[str, Any]) -> str:
    data = _bound(c, "registration_form", request)
    cohort_id, _, level_id = data["cohort"].partition(":")
    cohort = Cohort.objects.get(pk=cohort_id)
    level = DoseLevel.objects.get(pk=level_id, cohort=cohort) if level_id else None
    registration_create(
        patient=patient,
        cohort=cohort,
        dose_level=level,
        registered_on=data["registered_on"],
        by=acting_user(request.user),
        dose_override_reason=data.get("dose_override_reason") or "",
    )
    return f"Registered in {cohort}."


def _randomise(request: HttpRequest, patient: Patient, c: dict[str, Any]) -> str:
    trial_id = request.POST.get("trial", "")
    form = next((fm for fm in c["randomise_forms"] if str(fm.trial_id) == trial_id), None)
    if form is None:
        raise NotFoundError(gettext("No randomisation open to this patient in that trial."))
    bound = f.RandomiseForm(
        request.POST, trial=(form.trial_id, form.trial_label), factors=form.factors
    )
    c[_BOUND] = ("randomise_forms", bound)
    if not bound.is_valid():
        raise _Refused
    trial = trials_visible_to(request.user).get(pk=form.trial_id)
    registration = randomise(
        patient=patient,
        trial=trial,
        levels=bound.levels(),
        registered_on=bound.cleaned_data["registered_on"],
        by=acting_user(request.user),
    )
    if arm_visible_to(user=request.user, registration=registration):
        return gettext("Randomised in %(trial)s: arm %(arm)s.") % {
            "trial": trial.protocol_code,
            "arm": registration.cohort.code,
        }
    return gettext("Randomised in %(trial)s; the arm is blinded.") % {"trial": trial.protocol_code}


def _status(request: HttpRequest, patient: Patient, c: dict[str, Any]) -> str:
    data = _bound(c, "status_form", request)
    registration = registrations_visible_to(request.user).get(
        pk=data["registration"], patient=patient
    )
    registration_change_status(
        registration=registration,
        to_status=data["status"],
        on=data["on"],
        by=acting_user(request.user),
        reason=data.get("reason") or "",
    )
    return "Status updated."


def _visit_mark(request: HttpRequest, patient: Patient, c: dict[str, Any]) -> str:
    form = f.VisitMarkForm(request.POST, auto_id="visit-mark-%s")
    c[_BOUND] = ("visit_mark_form", form)  # shown again in its own row of the calendar
    if not form.is_valid():
        raise _Refused
    data = form.cleaned_data
    registration = (
        registrations_visible_to(request.user)
        .filter(pk=data["registration"], patient=patient)
        .select_related("trial__visit_schedule")
        .first()
    )
    if registration is None:
        raise NotFoundError(gettext("No such registration for this patient."))
    visit = visit_mark(
        registration=registration,
        code=data["code"],
        outcome=data["outcome"],
        reason=data["reason"],
        by=acting_user(request.user),
    )
    return gettext("Visit %(code)s marked “%(outcome)s”.") % {
        "code": visit.code,
        "outcome": visit.get_outcome_display(),
    }


def _ecog(request: HttpRequest, patient: Patient, c: dict[str, Any]) -> str:
    data = _bound(c, "ecog_form", request)
    baseline_observation_record(
        patient=patient,
        kind=ObservationKind.ECOG,
        observed_on=data["ecog_on"],
        value=data["ecog"],
        by=acting_user(request.user),
    )
    return gettext("ECOG performance status recorded.")


def _prior_line(request: HttpRequest, patient: Patient, c: dict[str, Any]) -> str:
    data = _bound(c, "prior_line_form", request)
    record = prior_line_record(patient=patient, by=acting_user(request.user), **data)
    return gettext("Prior line %(line)d recorded.") % {"line": record.line}


_LAB_FIELDS = {"lab_value": "value", "lab_unit": "unit", "lab_lln": "lln", "lab_uln": "uln"}


def _baseline_lab(request: HttpRequest, patient: Patient, c: dict[str, Any]) -> str:
    data = _bound(c, "baseline_lab_form", request)
    try:
        baseline_observation_record(
            patient=patient,
            kind=ObservationKind.LAB,
            observed_on=data["sampled_on"],
            analyte=data["analyte"],
            value=data["lab_value"],
            unit=data["lab_unit"],
            lln=data["lab_lln"] or None,
            uln=data["lab_uln"] or None,
            by=acting_user(request.user),
        )
    except ValidationError as exc:  # the service names its fields without the form's prefix
        field = {v: k for k, v in _LAB_FIELDS.items()}.get(str(exc.extra.get("field")), "")
        if not field:
            raise
        extra = {k: v for k, v in exc.extra.items() if k != "field"}
        raise ValidationError(exc.message, field=field, **extra) from None
    return gettext("Laboratory result recorded.")


_ACTIONS = {
    "ecog": _ecog,
    "baseline-lab": _baseline_lab,
    "prior-line": _prior_line,
    "consent": _consent,
    "withdraw": _withdraw,
    "screen": _screen,
    "close-screening": _close,
    "register": _register,
    "randomise": _randomise,
    "status": _status,
    "visit-mark": _visit_mark,
}
