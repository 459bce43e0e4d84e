"""Reads of tumour assessments and efficacy, always through the caller's memberships."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.subjects.models import Registration, RegistrationStatus
from oncotrials.apps.subjects.selectors import registrations_visible_to, treatment_ended_on
from oncotrials.apps.trials.models import Trial
from oncotrials.core.errors import NotFoundError, ValidationError
from oncotrials.core.survival import EndpointTime, KaplanMeierResult, derive_pfs, kaplan_meier

from .models import (
    Assessment,
    AssessmentKind,
    AssessmentStatus,
    Lesion,
    ResponseEvaluation,
    ResponseOverride,
)

# An off-study status whose reason names death counts as death for PFS (the registration status
# is where the patient journey records it).
_DEATH = re.compile(r"\b(death|died|dead|deceased|d[ée]c[èe]s|d[ée]c[ée]d[ée]?)\b", re.IGNORECASE)
DAYS_PER_MONTH = 365.25 / 12


def registration_get_for_user(*, user: Actor, registration_id: int) -> Registration:
    reg = (
        registrations_visible_to(user)
        .filter(pk=registration_id)
        .select_related("patient__site", "trial", "cohort")
        .first()
    )
    if reg is None:
        raise NotFoundError(
            gettext("No registration %(registration_id)s that you may see.")
            % {"registration_id": registration_id}
        )
    return reg


def assessment_get_for_user(*, user: Actor, assessment_id: int) -> Assessment:
    a = (
        Assessment.objects.filter(pk=assessment_id, registration__in=registrations_visible_to(user))
        .select_related("registration__patient", "registration__trial")
        .first()
    )
    if a is None:
        raise NotFoundError(
            gettext("No tumour assessment %(assessment_id)s that you may see.")
            % {"assessment_id": assessment_id}
        )
    return a


def lesions_of(registration: Registration) -> QuerySet[Lesion]:
    return Lesion.objects.filter(registration=registration).order_by("role", "lesion_id")


def assessments_of(registration: Registration) -> QuerySet[Assessment]:
    return (
        Assessment.objects.filter(registration=registration)
        .order_by("date")
        .prefetch_related("measurements__lesion", "new_lesions")
    )


def overrides_in_force(registration: Registration) -> dict[int | None, ResponseOverride]:
    """The latest override per time point (key: assessment id; None for the BOR)."""
    latest: dict[int | None, ResponseOverride] = {}
    overrides = ResponseOverride.objects.filter(registration=registration)
    for o in overrides.select_related("created_by").order_by("created_at", "pk"):
        latest[o.assessment_id] = o
    return latest


def responses_of(registration: Registration) -> dict[str, Any]:
    """Computed responses, overrides in force and the full override history of a registration."""
    evaluation = (
        ResponseEvaluation.objects.filter(registration=registration)
        .prefetch_related("timepoints")
        .first()
    )
    in_force = overrides_in_force(registration)
    timepoints = []
    if evaluation is not None:
        for tp in evaluation.timepoints.all():
            o = in_force.get(tp.assessment_id)
            timepoints.append(
                {"tp": tp, "override": o, "effective": o.response if o else tp.overall}
            )
    bor_override = in_force.get(None)
    return {
        "evaluation": evaluation,
        "timepoints": timepoints,
        "bor_override": bor_override,
        "bor_effective": (
            bor_override.response
            if bor_override
            else (evaluation.bor if evaluation is not None else None)
        ),
        "history": list(
            ResponseOverride.objects.filter(registration=registration)
            .select_related("assessment", "created_by")
            .order_by("-created_at", "-pk")
        ),
    }


# --- efficacy --------------------------------------------------------------------------------


@dataclass
class PatientEfficacy:
    """What the efficacy plots need of one registration."""

    label: str
    registration_id: int
    start: dt.date
    end: dt.date
    ongoing: bool
    status: str
    bor: str | None
    best_change_pct: Decimal | None
    # (days from start, % change from baseline) including (baseline day, 0)
    trajectory: list[tuple[int, Decimal]] = field(default_factory=list)
    # (days from start, effective response) per time point
    responses: list[tuple[int, str]] = field(default_factory=list)
    pfs: EndpointTime | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _death_date(reg: Registration) -> dt.date | None:
    if reg.status == RegistrationStatus.OFF_STUDY and _DEATH.search(reg.status_reason or ""):
        return reg.status_date
    return None


def _treatment_end(reg: Registration, today: dt.date) -> tuple[dt.date, bool]:
    ended = treatment_ended_on(reg)
    return (today, True) if ended is None else (ended, False)


def efficacy_data(
    *, trial: Trial, user: Actor, today: dt.date | None = None
) -> list[PatientEfficacy]:
    """Per registration of the trial that the user may see: time on treatment, responses, the %
    change of the target sum over time and PFS (derived with ``core.survival``)."""
    today = today or timezone.localdate()
    regs = (
        registrations_visible_to(user)
        .filter(trial=trial)
        .select_related("patient")
        .prefetch_related("status_history")
        .order_by("registered_on", "pk")
    )
    evaluations = {
        e.registration_id: e
        for e in ResponseEvaluation.objects.filter(registration__in=regs).prefetch_related(
            "timepoints"
        )
    }
    baselines = {
        a.registration_id: a.date
        for a in Assessment.objects.filter(
            registration__in=regs,
            kind=AssessmentKind.BASELINE,
            status=AssessmentStatus.COMPLETE,
        )
    }
    overrides: dict[int, dict[int | None, str]] = {}
    for o in ResponseOverride.objects.filter(registration__in=regs).order_by("created_at", "pk"):
        overrides.setdefault(o.registration_id, {})[o.assessment_id] = o.response
    out = []
    for reg in regs:
        start = reg.treatment_start or reg.registered_on
        end, ongoing = _treatment_end(reg, today)
        end = max(end, start)
        ev = evaluations.get(reg.pk)
        own = overrides.get(reg.pk, {})
        item = PatientEfficacy(
            label=reg.patient.research_id,
            registration_id=reg.pk,
            start=start,
            end=end,
            ongoing=ongoing,
            status=reg.status,
            bor=own.get(None, ev.bor if ev else None),
            best_change_pct=None,
        )
        if ev is not None:
            base_date = baselines.get(reg.pk)
            if base_date is not None and ev.baseline_sum_mm:
                item.trajectory.append(((base_date - start).days, Decimal(0)))
            changes = []
            for tp in ev.timepoints.all():
                day = (tp.date - start).days
                item.responses.append((day, own.get(tp.assessment_id, tp.overall)))
                if tp.change_from_baseline_pct is not None:
                    item.trajectory.append((day, tp.change_from_baseline_pct))
                    changes.append(tp.change_from_baseline_pct)
            item.best_change_pct = min(changes) if changes else None
            adequate = [tp.date for tp in ev.timepoints.all() if tp.overall != "NE"]
            try:
                item.pfs = derive_pfs(
                    subject_id=reg.patient.research_id,
                    start_date=start,
                    assessment_dates=[d for d in adequate if d >= start],
                    progression_date=ev.progression_date
                    if ev.progression_date and ev.progression_date >= start
                    else None,
                    death_date=_death_date(reg),
                    has_baseline_assessment=reg.pk in baselines,
                )
            except ValidationError:
                item.pfs = None  # dates before the start of treatment: not evaluable for PFS
        else:
            # No tumour assessment: FDA table, censored at start (kept in the analysis).
            death = _death_date(reg)
            item.pfs = derive_pfs(
                subject_id=reg.patient.research_id,
                start_date=start,
                assessment_dates=[],
                death_date=death if death is not None and death >= start else None,
                has_baseline_assessment=False,
            )
        out.append(item)
    return out


@dataclass(frozen=True)
class PfsSummary:
    km: KaplanMeierResult
    # step curve: (days, survival) from (0, 1.0)
    curve: list[tuple[float, float]]
    censored: list[tuple[float, float]]
    one_year: float | None
    median_months: float | None


def pfs_summary(patients: list[PatientEfficacy]) -> PfsSummary | None:
    """Kaplan-Meier PFS (days) with median and 1-year rate; None when no patient is evaluable."""
    times = [p.pfs for p in patients if p.pfs is not None]
    if not times:
        return None
    durations = [float(t.days) for t in times]
    events = [t.event for t in times]
    grid = sorted({0.0, *durations})
    km = kaplan_meier(durations, events, times=[365.0, *grid], label="PFS")
    one_year = km.at[0].survival
    surv_at = {s.time: s.survival for s in km.at[1:]}
    curve = [(t, surv_at[t]) for t in grid if surv_at[t] is not None]
    censored = [(d, surv_at[d] or 0.0) for d, e in zip(durations, events, strict=True) if not e]
    median = None if km.median == float("inf") else km.median / DAYS_PER_MONTH
    return PfsSummary(km, curve, censored, one_year, median)  # type: ignore[arg-type]
