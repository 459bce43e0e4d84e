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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import (
    Action,
    Target,
    may,
    roles_on,
    scope_condition,
    scope_for,
)
from oncotrials.apps.accounts.core_messages import core_errors_translated
from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.trials.models import Phase, Trial
from oncotrials.apps.trials.schedule_messages import SCHEDULE_MESSAGES
from oncotrials.apps.trials.selectors import visit_schedule_parsed
from oncotrials.core.errors import NotFoundError
from oncotrials.core.schedule import VisitStatus, patient_calendar

from .models import (
    Consent,
    ConsentForm,
    Patient,
    Registration,
    RegistrationStatus,
    RegistrationStatusChange,
    ScreeningEpisode,
    SlotAllocation,
    SlotBooking,
    VisitOutcome,
    VisitRecord,
)
from .visit_evidence import PER_CYCLE, evidence_for


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


TREATMENT_ENDED = frozenset(
    {
        RegistrationStatus.END_OF_TREATMENT,
        RegistrationStatus.FOLLOW_UP,
        RegistrationStatus.OFF_STUDY,
    }
)


def treatment_ended_on(registration: Registration) -> dt.date | None:
    """The day the registration's treatment ended (its first change to end of treatment or off
    study, else its status date once in an ended status); None while it goes on. Prefetch
    ``status_history`` when reading many."""
    if registration.status not in TREATMENT_ENDED:
        return None
    ended = [
        h.on
        for h in registration.status_history.all()
        if h.to_status in (RegistrationStatus.END_OF_TREATMENT, RegistrationStatus.OFF_STUDY)
    ]
    return min(ended) if ended else registration.status_date


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
        raise NotFoundError(
            gettext("No patient %(patient_id)s that you may see.") % {"patient_id": patient_id}
        )
    return patient


def patients_for_user(
    *, user: Actor, q: str = "", trial_id: int | None = None
) -> QuerySet[Patient]:
    """Patients the user may see; ``trial_id``: those registered or screened in that trial, as
    far as the user may see their registrations and screenings (a member limited to trial A
    asking for trial B learns nothing of which of its patients take part in B)."""
    qs = patients_visible_to(user).select_related("site")
    if q:
        qs = qs.filter(research_id__icontains=q.strip())
    if trial_id is not None:
        qs = qs.filter(
            Q(pk__in=registrations_visible_to(user).filter(trial_id=trial_id).values("patient_id"))
            | Q(pk__in=screenings_visible_to(user).filter(trial_id=trial_id).values("patient_id"))
        )
    return qs


def pre_registration_visible_to(*, user: Actor, site_id: int) -> bool:
    """Whether the user may see what was recorded about a patient of this site outside any
    registration: ECOG and labs at referral or screening, and the prior lines of therapy. They
    belong to no trial, and they are clinical: the clinical staff of the patient's site (a
    site-wide membership that may enter case report form data there). The one rule for them:
    the patient page, the tumour-board case and matching explanations all ask it."""
    return may(user, Action.EDIT_CRF, on=Target(frozenset({site_id})))


def arm_visible_to(*, user: Actor, registration: Registration) -> bool:
    """Whether the user may know the arm of this registration (blinded schemes hide it)."""
    scheme = getattr(registration.trial, "randomisation_scheme", None)
    if scheme is None or not scheme.blinded:
        return True
    return may(user, Action.UNBLIND, on=registration)


def patient_timeline(*, patient: Patient, user: Actor | None = None) -> list[dict[str, Any]]:
    """Consent, screening, registration and status events of one patient, oldest first."""
    consents = patient.consents.all()
    screenings = patient.screenings.all()
    registrations = patient.registrations.all()
    if user is not None:
        consents = consents.filter(pk__in=consents_visible_to(user).filter(patient=patient))
        screenings = screenings.filter(pk__in=screenings_visible_to(user).filter(patient=patient))
        registrations = registrations.filter(
            pk__in=registrations_visible_to(user).filter(patient=patient)
        )
    return timeline_of(
        patient=patient,
        consents=consents.select_related("form__trial"),
        screenings=screenings.select_related("trial"),
        registrations=registrations.select_related(
            "cohort__trial", "dose_level", "trial__randomisation_scheme"
        ).prefetch_related("status_history"),
        user=user,
    )


def timeline_of(
    *,
    patient: Patient,
    consents: Iterable[Consent],
    screenings: Iterable[ScreeningEpisode],
    registrations: Iterable[Registration],
    user: Actor | None = None,
) -> list[dict[str, Any]]:
    """The timeline of ``patient_timeline`` from its consents, screenings and registrations
    already read (those the user may see, in their model order; the consents with their form and
    trial, the screenings with their trial, the registrations with their cohort, dose level,
    scheme and status history), for a page that shows them too."""
    events: list[dict[str, Any]] = [
        {
            "date": patient.referral_date,
            "kind": "referral",
            "text": f"Referred ({patient.get_referral_source_display()})",
        }
    ]
    for c in consents:
        events.append({"date": c.signed_on, "kind": "consent", "text": f"Signed {c.form}"})
        if c.withdrawn_on:
            events.append(
                {
                    "date": c.withdrawn_on,
                    "kind": "withdrawal",
                    "text": f"Withdrew {c.form} ({', '.join(c.withdrawal_scope) or 'all'})",
                }
            )
    for s in screenings:
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
    for r in registrations:
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


def slot_allocations_visible_to(user: Actor) -> QuerySet[SlotAllocation]:
    """Slot allocations the user may see: an allocation belongs to its site and to its
    cohort's trial (``accounts.access.scope_condition``); another site's allocations of a
    shared trial, and their counts of slots held and used, stay hidden."""
    cond = scope_condition(user, site="site_id", trial="cohort__trial_id")
    qs = SlotAllocation.objects.all()
    return qs if cond is None else qs.filter(cond)


def slot_bookings_visible_to(user: Actor) -> QuerySet[SlotBooking]:
    """Slot bookings the user may see: a booking belongs to its patient's site and to the trial
    of its allocation's cohort, like a registration (a member limited to trial A sees the
    patient, never the patient's slots in trial B)."""
    cond = scope_condition(user, site="patient__site_id", trial="allocation__cohort__trial_id")
    qs = SlotBooking.objects.all()
    return qs if cond is None else qs.filter(cond)


def slot_summary(*, trial: Any, user: Actor) -> list[dict[str, Any]]:
    """Per allocation of the trial that the user may see: slots, held, used and free."""
    allocations = slot_allocations_visible_to(user).filter(cohort__trial=trial)
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
    """Active patients whose signed consent version has been superseded by a version now in force.

    Three queries whatever the number of patients (the active registrations, the consents in
    force of their patients, the consent forms of their trials), and three more for the rows
    when someone is due.
    """
    today = today or timezone.localdate()
    # Plain rows, not model instances: the list is read on every work list and rarely has a row.
    active = list(
        registrations_visible_to(user)
        .exclude(status=RegistrationStatus.OFF_STUDY)
        .values_list("patient_id", "trial_id")
        .order_by("pk")
    )
    if not active:
        return []
    trial_ids = {trial_id for _, trial_id in active}
    latest: dict[tuple[int, int], tuple[int, dt.date]] = {}  # (patient, trial) -> signed form
    for patient_id, trial_id, form_id, valid_from in (
        Consent.objects.filter(
            patient_id__in={patient_id for patient_id, _ in active},
            form__trial_id__in=trial_ids,
            withdrawn_on__isnull=True,
        )
        .order_by("-form__valid_from", "-signed_on")
        .values_list("patient_id", "form__trial_id", "form_id", "form__valid_from")
    ):
        latest.setdefault((patient_id, trial_id or 0), (form_id, valid_from))  # first: latest
    newest: dict[int, list[tuple[int, dt.date]]] = defaultdict(list)
    for form_id, trial_id, valid_from in (
        ConsentForm.objects.filter(trial_id__in=trial_ids, valid_from__lte=today)
        .order_by("-valid_from")
        .values_list("pk", "trial_id", "valid_from")
    ):
        newest[trial_id or 0].append((form_id, valid_from))
    due: list[tuple[int, int, int, int]] = []  # patient, trial, signed form, form in force
    for patient_id, trial_id in active:
        signed = latest.get((patient_id, trial_id))
        if signed is None:
            continue
        newer = next((f for f in newest[trial_id] if f[1] > signed[1]), None)
        if newer is not None:
            due.append((patient_id, trial_id, signed[0], newer[0]))
    if not due:
        return []
    # The rows' patients, trials and forms: three more reads, only when someone is due.
    patients = Patient.objects.in_bulk({d[0] for d in due})
    trials = Trial.objects.in_bulk({d[1] for d in due})
    forms = ConsentForm.objects.in_bulk({f for d in due for f in d[2:]})
    return [
        {
            "patient": patients[patient_id],
            "trial": trials[trial_id],
            "signed": forms[signed_id],
            "current": forms[current_id],
        }
        for patient_id, trial_id, signed_id, current_id in due
    ]


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


_ENDED = (
    RegistrationStatus.END_OF_TREATMENT,
    RegistrationStatus.FOLLOW_UP,
    RegistrationStatus.OFF_STUDY,
)


def _end_dates(registration: Registration) -> tuple[dt.date | None, dt.date | None]:
    """(end of treatment, off study) of a registration, from its status and its history.

    A patient in follow-up or off study ended treatment on the day of the change to
    ``end_of_treatment`` (not on the later status date); one taken off study before any
    treatment ended it then. The history is read only for those, and comes from a prefetch
    on work lists.
    """
    if registration.status not in _ENDED:
        return None, None
    off = registration.status_date if registration.status == RegistrationStatus.OFF_STUDY else None
    if registration.status == RegistrationStatus.END_OF_TREATMENT:
        return registration.status_date, None
    eot = max(
        (
            h.on
            for h in registration.status_history.all()
            if h.to_status == RegistrationStatus.END_OF_TREATMENT
        ),
        default=None,
    )
    return eot or registration.status_date, off


def registration_calendar(
    *,
    registration: Registration,
    today: dt.date | None = None,
    evidence: Mapping[str, Iterable[dt.date]] | None = None,
    visits: Iterable[tuple[str, dt.date, str]] | None = None,
) -> Any:
    """The expected visits of one registration, reconciled (None when the trial declares no
    schedule).

    The one source of truth for a visit's status, read by the patient page, the work list and
    the casebook: visits recorded (done, not done, not applicable), the screening that led to
    the registration, the end of treatment and of study, and the evidence the higher apps
    register in ``visit_evidence`` (``evidence`` when the caller fetched it for many
    registrations at once, else fetched here for this one). ``visits``: the registration's
    visit records as ``(code, on, outcome)``, when the caller fetched them for many
    registrations (else its ``visits``, prefetched or not).
    """
    definition = getattr(registration.trial, "visit_schedule", None)
    if definition is None:
        return None
    today = today or timezone.localdate()
    start = registration.treatment_start or registration.registered_on
    horizon = max(today, start)
    done: dict[str, dt.date] = {}
    marked: dict[str, VisitStatus] = {}
    if visits is None:
        visits = [(v.code, v.on, v.outcome) for v in registration.visits.all()]
    for code, on, outcome in visits:
        if outcome == VisitOutcome.DONE:
            if on <= horizon:
                done[code] = on
        else:
            marked[code] = VisitStatus(outcome)
    eot, off = _end_dates(registration)
    screening_on = None
    if registration.screening_id is not None:
        screening = registration.screening
        screening_on = screening.closed_on if screening is not None else None
    if evidence is None:
        evidence = evidence_for([registration.pk]).get(registration.pk, {})
    with core_errors_translated(SCHEDULE_MESSAGES):
        return _calendar(
            visit_schedule_parsed(definition),
            start=start,
            today=horizon,
            done=done,
            end_of_treatment=eot if eot is not None and eot <= horizon else None,
            registered_on=registration.registered_on,
            screening_on=screening_on,
            off_study=off,
            marked=marked,
            evidence={kind: tuple(sorted(dates)) for kind, dates in evidence.items()},
            per_cycle=frozenset(PER_CYCLE),
        )


# Calendars by everything they are computed from (a pure function of these): the work list
# and the home pages recompute, on each request, only the calendars whose visits, records or
# dates changed since (all of them the next day), not every active registration's.
_CALENDARS: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_CALENDARS_MAX = 8192


def _calendar(schedule: Any, **inputs: Any) -> Any:
    key = (
        id(schedule),
        *(
            tuple(sorted(value.items())) if isinstance(value, dict) else value
            for _, value in sorted(inputs.items())
        ),
    )
    hit = _CALENDARS.get(key)
    if hit is not None and hit[0] is schedule:  # the entry holds its schedule: ids not reused
        return hit[1]
    calendar = patient_calendar(schedule, **inputs)
    if len(_CALENDARS) >= _CALENDARS_MAX:
        _CALENDARS.clear()
    _CALENDARS[key] = (schedule, calendar)
    return calendar


def registrations_with_calendar(
    queryset: QuerySet[Registration], *, visits: bool = True
) -> QuerySet[Registration]:
    """What ``registration_calendar`` reads, fetched with the registrations in a fixed number of
    queries (``visits=False``: without the visit records, which ``calendars_for`` then reads as
    plain rows, cheaper than model instances when there are thousands)."""
    # Trials and their schedules are prefetched, not joined: registrations of one trial then
    # share one trial (its JSON fields decoded once, its schedule parsed once).
    return queryset.select_related("patient__site", "cohort", "screening").prefetch_related(
        "trial__visit_schedule", "status_history", *(["visits"] if visits else [])
    )


def calendars_for(
    registrations: Iterable[Registration],
    *,
    today: dt.date | None = None,
    open_visit: Callable[[Any], bool] | None = None,
) -> list[tuple[Registration, Any]]:
    """``(registration, calendar)`` for registrations whose trial declares a schedule, with the
    evidence of all of them fetched at once (one query per provider).

    ``open_visit``: the caller only wants calendars with an open visit (not done, not marked)
    for which it is true. Evidence only ever closes a visit (it is done on the evidence's date),
    never opens or moves one, so a registration whose calendar without evidence has no such visit
    cannot have one with it: it is left out, and its evidence is not read.
    """
    regs = [r for r in registrations if getattr(r.trial, "visit_schedule", None) is not None]
    rows: dict[int, list[tuple[str, dt.date, str]]] | None = None
    if any("visits" not in getattr(r, "_prefetched_objects_cache", {}) for r in regs):
        rows = defaultdict(list)  # the visit records of all of them, in one query, as rows
        for reg_id, code, on, outcome in VisitRecord.objects.filter(
            registration_id__in=[r.pk for r in regs]
        ).values_list("registration_id", "code", "on", "outcome"):
            rows[reg_id].append((code, on, outcome))
    if open_visit is not None:
        regs = [
            r
            for r in regs
            if any(
                not v.closed and open_visit(v)
                for v in registration_calendar(
                    registration=r,
                    today=today,
                    evidence={},
                    visits=None if rows is None else rows[r.pk],
                ).visits
            )
        ]
    proofs = evidence_for([r.pk for r in regs])
    return [
        (
            r,
            registration_calendar(
                registration=r,
                today=today,
                evidence=proofs.get(r.pk, {}),
                visits=None if rows is None else rows[r.pk],
            ),
        )
        for r in regs
    ]


@dataclass(frozen=True)
class VisitFilters:
    """Work-list filters: trial, site, target dates (inclusive) and the order on target date."""

    trial_id: int | None = None
    site_id: int | None = None
    target_from: dt.date | None = None
    target_to: dt.date | None = None
    descending: bool = False


_DUE = (VisitStatus.DUE, VisitStatus.OVERDUE)
# The registration's own columns ``registration_calendar`` reads.
_CALENDAR_FIELDS = (
    "pk",
    "patient_id",
    "trial_id",
    "screening_id",
    "registered_on",
    "status",
    "status_date",
    "treatment_start",
)


def visits_due(
    *, user: Actor, today: dt.date | None = None, filters: VisitFilters | None = None
) -> list[dict[str, Any]]:
    """Today's work: visits due today or overdue for active registrations the user may see,
    reconciled (see ``registration_calendar``), by target date."""
    today = today or timezone.localdate()
    f = filters or VisitFilters()
    regs = (
        registrations_visible_to(user)
        .filter(trial__visit_schedule__isnull=False)
        .exclude(status=RegistrationStatus.OFF_STUDY)
    )
    if f.trial_id is not None:
        regs = regs.filter(trial_id=f.trial_id)
    if f.site_id is not None:
        regs = regs.filter(patient__site_id=f.site_id)
    # What the calendar and the rows (patient, site, trial code) read, and no more: of the trials
    # their code and schedule, of the status history only the changes to end of treatment (all
    # ``_end_dates`` reads).
    regs = (
        regs.select_related("patient__site", "screening")
        .only(
            *_CALENDAR_FIELDS,
            "patient__research_id",
            "patient__site__code",
            "screening__closed_on",
        )
        .prefetch_related(
            Prefetch("trial", queryset=Trial.objects.only("pk", "protocol_code")),
            "trial__visit_schedule",
            Prefetch(
                "status_history",
                queryset=RegistrationStatusChange.objects.filter(
                    to_status=RegistrationStatus.END_OF_TREATMENT
                ).only("pk", "registration_id", "to_status", "on"),
            ),
        )
    )

    def wanted(visit: Any) -> bool:
        return (
            visit.status in _DUE
            and (f.target_from is None or visit.target >= f.target_from)
            and (f.target_to is None or visit.target <= f.target_to)
        )

    rows = [
        {"registration": reg, "visit": visit}
        # Without a target range nearly every registration has a visit due or overdue: looking
        # at its calendar without evidence first would only cost more.
        for reg, calendar in calendars_for(
            regs,
            today=today,
            open_visit=wanted if (f.target_from, f.target_to) != (None, None) else None,
        )
        for visit in calendar.visits
        if wanted(visit)
    ]
    rows.sort(
        key=lambda r: (r["visit"].target, r["registration"].patient.research_id, r["visit"].code)
    )
    if f.descending:
        rows.sort(key=lambda r: r["visit"].target, reverse=True)
    return rows
