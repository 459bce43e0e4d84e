"""Forecasts and reports over what the caller may see: accrual per trial (or cohort) and the
unit's activity report. The science is in ``oncotrials.core.accrual`` and
``oncotrials.core.activity``; this module selects the rows."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.core_messages import translated
from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.operations.accrual_messages import ACCRUAL_MESSAGES
from oncotrials.apps.subjects.models import ScreenFailureReason
from oncotrials.apps.subjects.selectors import (
    consents_visible_to,
    patients_visible_to,
    registrations_visible_to,
    screenings_visible_to,
    slot_bookings_visible_to,
)
from oncotrials.apps.trials.models import Cohort, Trial, TrialStatusChange
from oncotrials.apps.trials.selectors import trials_visible_to
from oncotrials.core.accrual import (
    DAYS_PER_MONTH,
    AccrualForecast,
    Centre,
    GajewskiPrior,
    Interval,
    forecast,
)
from oncotrials.core.activity import (
    ActivityReport,
    InclusionRow,
    OccupancyRow,
    PatientRow,
    ScreeningRow,
    SlotRow,
    activity_report,
)
from oncotrials.core.errors import ValidationError

from .models import AccrualPlan, Booking, BookingStatus, Resource, ResourceKind, Unit
from .selectors import calendar_of, sites_visible_to

DEFAULT_DURATION_MONTHS = 24.0
DEFAULT_CERTAINTY = 0.5


@dataclass(frozen=True)
class TrialAccrual:
    """A trial's (or cohort's) forecast with the plan it used and where the plan came from."""

    trial: Trial
    cohort: Cohort | None
    start: dt.date
    target: int
    duration_months: float
    certainty: float
    plan_saved: bool
    result: AccrualForecast | None
    problem: str = ""
    dates: tuple[dt.date, ...] = ()

    def month_date(self, months: float) -> dt.date | None:
        if not math.isfinite(months) or months > 1200:
            return None  # beyond a century: no date to show
        return self.start + dt.timedelta(days=round(months * DAYS_PER_MONTH))

    def _dates(self, iv: Interval | None) -> tuple[dt.date | None, ...] | None:
        if iv is None:
            return None
        return (self.month_date(iv.median), self.month_date(iv.lower), self.month_date(iv.upper))

    @property
    def best_dates(self) -> tuple[dt.date | None, ...] | None:
        """(median, lower, upper) dates at which the target is reached, best model."""
        return self._dates(self.result.best if self.result else None)

    @property
    def gajewski_dates(self) -> tuple[dt.date | None, ...] | None:
        return self._dates(self.result.gajewski if self.result else None)

    @property
    def closed_form_dates(self) -> tuple[dt.date | None, ...] | None:
        return self._dates(self.result.pg_closed_form if self.result else None)

    @property
    def simulated_dates(self) -> tuple[dt.date | None, ...] | None:
        return self._dates(self.result.pg_simulated if self.result else None)


def _months(start: dt.date, day: dt.date) -> float:
    return (day - start).days / DAYS_PER_MONTH


def trial_accrual(
    *,
    trial: Trial,
    user: Actor,
    cohort: Cohort | None = None,
    today: dt.date | None = None,
    draws: int = 20_000,
) -> TrialAccrual:
    """The forecast of the trial's accrual (registrations the user may see), with the saved plan
    or, without one, the cohorts' targets over 24 months from the trial's opening (P = 0.5)."""
    today = today or timezone.localdate()
    regs = registrations_visible_to(user).filter(trial=trial)
    if cohort is not None:
        regs = regs.filter(cohort=cohort)
    rows = list(regs.values_list("registered_on", "patient__site_id").order_by("registered_on"))
    plan = AccrualPlan.objects.filter(trial=trial, cohort=cohort).first()
    opened = (
        TrialStatusChange.objects.filter(trial=trial, to_status="open")
        .aggregate(first=Min("changed_at"))
        .get("first")
    )
    if plan is not None:
        start, target = plan.starts_on, plan.target
        duration, certainty = plan.duration_months, plan.certainty
        external = plan.external_centres
    else:
        start = opened.date() if opened else (rows[0][0] if rows else today)
        cohorts = [cohort] if cohort is not None else list(trial.cohorts.all())
        target = sum(c.target_accrual or 0 for c in cohorts)
        duration, certainty, external = DEFAULT_DURATION_MONTHS, DEFAULT_CERTAINTY, []
    start = min([start, *(r[0] for r in rows)])
    out: dict[str, Any] = {
        "trial": trial,
        "cohort": cohort,
        "start": start,
        "target": target,
        "duration_months": duration,
        "certainty": certainty,
        "plan_saved": plan is not None,
        "dates": tuple(r[0] for r in rows),
    }
    if target <= 0:
        return TrialAccrual(
            **out,
            result=None,
            problem=gettext(
                "No target: save an accrual plan or give the cohorts a target accrual."
            ),
        )
    now = max(_months(start, today), 0.0)
    per_site = Counter(site for _d, site in rows)
    activated = {ts.site_id: ts.activated_on for ts in trial.trial_sites.all() if ts.activated_on}
    centres = [
        Centre(
            f"site-{site_id}",
            _months(start, min(activated.get(site_id, start), today)),
            n,
        )
        for site_id, n in sorted(per_site.items())
    ]
    for c in external:
        opens = dt.date.fromisoformat(c["opens_on"])
        centres.append(Centre(c["name"], _months(start, opens), int(c.get("recruited", 0))))
    try:
        result = forecast(
            times=[_months(start, r[0]) for r in rows],
            now=now,
            prior=GajewskiPrior(target, duration, certainty),
            centres=centres if external else [],
            draws=draws,
            rng=trial.pk,
        )
    except ValidationError as exc:
        return TrialAccrual(**out, result=None, problem=translated(exc, ACCRUAL_MESSAGES).message)
    return TrialAccrual(**out, result=result)


def accrual_overview(*, user: Actor, today: dt.date | None = None) -> list[TrialAccrual]:
    """The forecast of every open trial the user may see (a quick one: 2,000 draws each)."""
    trials = (
        trials_visible_to(user)
        .filter(status__in=["open", "suspended"])
        .prefetch_related("cohorts", "trial_sites")
        .order_by("protocol_code")
    )
    return [trial_accrual(trial=t, user=user, today=today, draws=2000) for t in trials]


# --- activity ------------------------------------------------------------------------------------


def activity_for(
    *,
    user: Actor,
    year: int,
    denominator: str = "new_patients",
    treated_total: int | None = None,
) -> ActivityReport:
    """The unit's activity report for ``year`` over the rows the user may see."""
    if not 1990 <= year <= 2100:
        raise ValidationError(
            gettext("year must lie in 1990..2100; got %(year)s.") % {"year": year}, field="year"
        )
    screenings = [
        ScreeningRow(p, code, phase, site, started, outcome, reason, closed)
        for p, code, phase, site, started, outcome, reason, closed in screenings_visible_to(
            user
        ).values_list(
            "patient_id",
            "trial__protocol_code",
            "trial__phase",
            "patient__site__code",
            "started_on",
            "outcome",
            "failure_reason",
            "closed_on",
        )
    ]
    first_consent = {
        (p, t): d
        for p, t, d in consents_visible_to(user)
        .filter(form__trial__isnull=False)
        .values_list("patient_id", "form__trial_id")
        .annotate(first=Min("signed_on"))
        .values_list("patient_id", "form__trial_id", "first")
    }
    inclusions = [
        InclusionRow(p, code, phase, site, reg_on, start, referral, first_consent.get((p, t)))
        for p, t, code, phase, site, reg_on, start, referral in registrations_visible_to(
            user
        ).values_list(
            "patient_id",
            "trial_id",
            "trial__protocol_code",
            "trial__phase",
            "patient__site__code",
            "registered_on",
            "treatment_start",
            "patient__referral_date",
        )
    ]
    patients = [
        PatientRow(p, site, referral)
        for p, site, referral in patients_visible_to(user).values_list(
            "pk", "site__code", "referral_date"
        )
    ]
    slots = [
        SlotRow(booked.date(), confirmed.date() if confirmed else None)
        for booked, confirmed in slot_bookings_visible_to(user).values_list(
            "booked_at", "confirmed_at"
        )
    ]
    return activity_report(
        year=year,
        screenings=screenings,
        inclusions=inclusions,
        patients=patients,
        slots=slots,
        occupancy=_occupancy_rows(user, year),
        denominator=denominator,
        treated_total=treated_total,
        failure_labels={k: str(v) for k, v in ScreenFailureReason.choices},
    )


def _occupancy_rows(user: Actor, year: int) -> list[OccupancyRow]:
    """Booked ÷ available hours of chairs and beds per site over the weeks of ``year`` that
    have bookings (a week without any plan counts nothing)."""
    rows: list[OccupancyRow] = []
    for site in sites_visible_to(user):
        bookings = list(
            Booking.objects.filter(
                site=site, starts_at__year=year, status=BookingStatus.ACTIVE
            ).values_list("request__unit", "starts_at", "ends_at")
        )
        if not bookings:
            continue
        weeks = {b[1].isocalendar()[:2] for b in bookings}
        cal = calendar_of(site)
        chair_hours = (
            dt.datetime.combine(dt.date.min, cal.chair_close)
            - dt.datetime.combine(dt.date.min, cal.chair_open)
        ).total_seconds() / 3600
        ward_hours = (
            4 * 24
            + (
                dt.datetime.combine(dt.date.min, cal.ward_close)
                - dt.datetime.combine(dt.date.min, cal.ward_open)
            ).total_seconds()
            / 3600
        )
        counts = Counter(
            Resource.objects.filter(site=site, active=True).values_list("kind", flat=True)
        )
        booked: dict[str, float] = defaultdict(float)
        for unit, s, e in bookings:
            booked[unit] += (e - s).total_seconds() / 3600
        rows.append(
            OccupancyRow(
                "chair",
                counts[ResourceKind.CHAIR] * chair_hours * 5 * len(weeks),
                booked[Unit.CHAIR],
            )
        )
        rows.append(
            OccupancyRow(
                "bed", counts[ResourceKind.BED] * ward_hours * len(weeks), booked[Unit.BED]
            )
        )
    return rows
