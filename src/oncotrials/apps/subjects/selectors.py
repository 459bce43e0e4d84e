"""Reads of patients and their journey, always through the caller's memberships.

A patient is visible to site-wide members of the patient's site, and to trial-limited members
(a sponsor monitor) when the patient was screened or registered in that trial at a site of the
membership. What belongs to one trial (a registration, a screening, a trial consent) is visible
only through the rule of ``accounts.access.scope_condition``: a member limited to trial A sees
the patient, but never the patient's registration, screening or consent in trial B. These are
the only definitions of registration, screening and consent visibility; every app filters
through them. Identity is never read here: see ``services.identity_read``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.utils import timezone

from oncotrials.apps.accounts.access import Action, may, roles_on, scope_condition, scope_for
from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.trials.models import Phase
from oncotrials.core.errors import NotFoundError

from .models import (
    Consent,
    ConsentForm,
    Patient,
    Registration,
    RegistrationStatus,
    ScreeningEpisode,
    SlotAllocation,
    SlotBooking,
)


def patients_visible_to(user: Actor) -> QuerySet[Patient]:
    scope = scope_for(user)
    if scope.is_admin:
        return Patient.objects.all()
    cond = Q(pk__in=[])
    if scope.site_roles:
        cond |= Q(site_id__in=list(scope.site_roles))
    for trial_id, per_site in scope.trial_roles.items():
        in_trial = Q(
            Exists(Registration.objects.filter(patient=OuterRef("pk"), trial_id=trial_id))
            | Exists(ScreeningEpisode.objects.filter(patient=OuterRef("pk"), trial_id=trial_id))
        )
        cond |= in_trial & Q(site_id__in=list(per_site))
    return Patient.objects.filter(cond)


def registration_condition(user: Actor, prefix: str = "") -> Q | None:
    """The registrations rule as a condition over rows that reach a registration by ``prefix``
    (``""`` for registrations, ``"registration__"`` for an adverse event). None: everything."""
    return scope_condition(user, site=f"{prefix}patient__site_id", trial=f"{prefix}trial_id")


def registrations_visible_to(user: Actor) -> QuerySet[Registration]:
    """Registrations the user may see: a site-wide membership at the patient's site, or a
    membership limited to the registration's trial at the patient's site."""
    cond = registration_condition(user)
    qs = Registration.objects.all()
    return qs if cond is None else qs.filter(cond)


def screenings_visible_to(user: Actor) -> QuerySet[ScreeningEpisode]:
    cond = scope_condition(user, site="patient__site_id", trial="trial_id")
    qs = ScreeningEpisode.objects.all()
    return qs if cond is None else qs.filter(cond)


def consents_visible_to(user: Actor) -> QuerySet[Consent]:
    """Trial consents follow their trial; translational consents (no trial) are visible through
    site-wide memberships only."""
    cond = scope_condition(user, site="patient__site_id", trial="form__trial_id")
    qs = Consent.objects.all()
    return qs if cond is None else qs.filter(cond)


def roles_for_patient(user: Actor, patient: Patient) -> set[str]:
    """Roles on a patient: see ``accounts.access.roles_on``."""
    return roles_on(user, patient)


def patient_get_for_user(*, user: Actor, patient_id: int) -> Patient:
    patient = patients_visible_to(user).filter(pk=patient_id).select_related("site").first()
    if patient is None:
        raise NotFoundError(f"No patient {patient_id} that you may see.")
    return patient


def patients_for_user(
    *, user: Actor, q: str = "", trial_id: int | None = None
) -> QuerySet[Patient]:
    qs = patients_visible_to(user).select_related("site")
    if q:
        qs = qs.filter(research_id__icontains=q.strip())
    if trial_id is not None:
        qs = qs.filter(
            Q(registrations__trial_id=trial_id) | Q(screenings__trial_id=trial_id)
        ).distinct()
    return qs


def arm_visible_to(*, user: Actor, registration: Registration) -> bool:
    """Whether the user may know the arm of this registration (blinded schemes hide it)."""
    scheme = getattr(registration.trial, "randomisation_scheme", None)
    if scheme is None or not scheme.blinded:
        return True
    return may(user, Action.UNBLIND, on=registration)


def patient_timeline(*, patient: Patient, user: Actor | None = None) -> list[dict[str, Any]]:
    """Consent, screening, registration and status events of one patient, oldest first."""
    events: list[dict[str, Any]] = [
        {
            "date": patient.referral_date,
            "kind": "referral",
            "text": f"Referred ({patient.get_referral_source_display()})",
        }
    ]
    consents = patient.consents.all()
    screenings = patient.screenings.all()
    registrations = patient.registrations.all()
    if user is not None:
        consents = consents.filter(pk__in=consents_visible_to(user).filter(patient=patient))
        screenings = screenings.filter(pk__in=screenings_visible_to(user).filter(patient=patient))
        registrations = registrations.filter(
            pk__in=registrations_visible_to(user).filter(patient=patient)
        )
    for c in consents.select_related("form__trial"):
        events.append({"date": c.signed_on, "kind": "consent", "text": f"Signed {c.form}"})
        if c.withdrawn_on:
            events.append(
                {
                    "date": c.withdrawn_on,
                    "kind": "withdrawal",
                    "text": f"Withdrew {c.form} ({', '.join(c.withdrawal_scope) or 'all'})",
                }
            )
    for s in screenings.select_related("trial"):
        events.append(
            {
                "date": s.started_on,
                "kind": "screening",
                "text": f"{s.get_kind_display()} for {s.trial}",
            }
        )
        if s.closed_on:
            outcome = s.get_outcome_display() + (
                f": {s.get_failure_reason_display()}" if s.failure_reason else ""
            )
            events.append(
                {"date": s.closed_on, "kind": "screening", "text": f"{outcome} ({s.trial})"}
            )
    for r in registrations.select_related("cohort__trial", "dose_level"):
        dl = f" at DL{r.dose_level.level}" if r.dose_level else ""
        where = (
            str(r.cohort)
            if user is None or arm_visible_to(user=user, registration=r)
            else f"{r.trial} (arm blinded)"
        )
        for h in r.status_history.all():
            label = dict(RegistrationStatus.choices)[h.to_status]
            events.append(
                {
                    "date": h.on,
                    "kind": "registration",
                    "text": f"{label}: {where}{dl}" + (f" — {h.reason}" if h.reason else ""),
                }
            )
    return sorted(events, key=lambda e: e["date"])


def screening_log(*, trial: Any) -> QuerySet[ScreeningEpisode]:
    return (
        ScreeningEpisode.objects.filter(trial=trial)
        .select_related("patient", "cohort")
        .order_by("-started_on", "-id")
    )


def slot_summary(*, trial: Any, site_ids: set[int] | None = None) -> list[dict[str, Any]]:
    """Per allocation of the trial: slots, held, used and free."""
    allocations = SlotAllocation.objects.filter(cohort__trial=trial)
    if site_ids is not None:
        allocations = allocations.filter(site_id__in=site_ids)
    return slot_summary_for(allocations=allocations)


def slot_summary_for(*, allocations: QuerySet[SlotAllocation]) -> list[dict[str, Any]]:
    """Per allocation: slots, held, used and free."""
    allocations = allocations.select_related("cohort__trial", "dose_level", "site")
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"held": 0, "used": 0})
    for alloc_id, status, n in (
        SlotBooking.objects.filter(allocation__in=allocations)
        .exclude(status="released")
        .values_list("allocation_id", "status")
        .annotate(n=Count("pk"))
    ):
        counts[alloc_id][status] = n
    out = []
    for a in allocations:
        c = counts[a.pk]
        out.append(
            {
                "allocation": a,
                "held": c["held"],
                "used": c["used"],
                "free": max(a.slots - c["held"] - c["used"], 0),
            }
        )
    return out


def reconsent_worklist(*, user: Actor, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Active patients whose signed consent version has been superseded by a version now in force."""
    today = today or timezone.localdate()
    active_regs = registrations_visible_to(user).exclude(status=RegistrationStatus.OFF_STUDY)
    out = []
    for reg in active_regs.select_related("patient", "trial"):
        latest = (
            Consent.objects.filter(
                patient=reg.patient, form__trial=reg.trial, withdrawn_on__isnull=True
            )
            .select_related("form")
            .order_by("-form__valid_from", "-signed_on")
            .first()
        )
        if latest is None:
            continue
        newer = (
            ConsentForm.objects.filter(
                trial=reg.trial, valid_from__gt=latest.form.valid_from, valid_from__lte=today
            )
            .order_by("-valid_from")
            .first()
        )
        if newer is not None:
            out.append(
                {
                    "patient": reg.patient,
                    "trial": reg.trial,
                    "signed": latest.form,
                    "current": newer,
                }
            )
    return out


def inclusion_figures(*, user: Actor) -> dict[str, Any]:
    """Dashboard figures: inclusions per phase and year, inclusion rate of screened patients."""
    regs = registrations_visible_to(user)
    per_phase_year: dict[str, dict[int, int]] = defaultdict(dict)
    for phase, year, n in (
        regs.annotate(year=ExtractYear("registered_on"))
        .values_list("trial__phase", "year")
        .annotate(n=Count("pk"))
    ):
        per_phase_year[phase][year] = n
    years = sorted({y for d in per_phase_year.values() for y in d})
    screened = (
        screenings_visible_to(user).filter(kind="screening").values("patient").distinct().count()
    )
    included = regs.values("patient").distinct().count()
    return {
        "years": years,
        "rows": [
            (label, [per_phase_year.get(value, {}).get(y, 0) for y in years])
            for value, label in Phase.choices
        ],
        "screened": screened,
        "included": included,
        "rate": (included / screened) if screened else None,
        "rate_pct": round(100 * included / screened) if screened else None,
        "on_treatment": regs.filter(status=RegistrationStatus.ON_TREATMENT).count(),
    }


def registration_calendar(*, registration: Registration, today: dt.date | None = None) -> Any:
    """The expected visits of one registration (None when the trial declares no schedule)."""
    from oncotrials.core.schedule import load_schedule, patient_calendar

    definition = getattr(registration.trial, "visit_schedule", None)
    if definition is None:
        return None
    today = today or timezone.localdate()
    start = registration.treatment_start or registration.registered_on
    done = {v.code: v.on for v in registration.visits.all()}
    eot = (
        registration.status_date
        if registration.status
        in (
            RegistrationStatus.END_OF_TREATMENT,
            RegistrationStatus.FOLLOW_UP,
            RegistrationStatus.OFF_STUDY,
        )
        else None
    )
    return patient_calendar(
        load_schedule(definition.document),
        start=start,
        today=max(today, start),
        done={k: v for k, v in done.items() if v <= max(today, start)},
        end_of_treatment=eot,
    )


def visits_due(*, user: Actor, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Today's work: visits due today or overdue for active registrations the user may see."""
    today = today or timezone.localdate()
    rows = []
    regs = (
        registrations_visible_to(user)
        .filter(trial__visit_schedule__isnull=False)
        .exclude(status=RegistrationStatus.OFF_STUDY)
        .select_related("patient", "trial__visit_schedule", "cohort")
        .prefetch_related("visits")
    )
    for reg in regs:
        calendar = registration_calendar(registration=reg, today=today)
        for visit in calendar.visits:
            if visit.status.value in ("due", "overdue"):
                rows.append({"registration": reg, "visit": visit})
    return sorted(rows, key=lambda r: (r["visit"].target, r["registration"].patient.research_id))
