"""Reads of the portfolio, always through the caller's memberships."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import scope_condition
from oncotrials.apps.accounts.models import Actor
from oncotrials.core.errors import NotFoundError

from .models import Cohort, DoseLevel, Phase, Trial, TrialStatus


def trials_visible_to(user: Actor) -> QuerySet[Trial]:
    """Every trial the user may see: via a site-wide membership at a participating site, or a
    trial-limited membership (for a site that participates in that trial)."""
    cond = scope_condition(user, site="trial_sites__site_id", trial="pk")
    return Trial.objects.all() if cond is None else Trial.objects.filter(cond).distinct()


@dataclass(frozen=True)
class PortfolioFilters:
    phase: str = ""
    status: str = ""
    tumour_type: str = ""
    target: str = ""
    modality: str = ""
    q: str = ""


def trials_for_user(*, user: Actor, filters: PortfolioFilters | None = None) -> QuerySet[Trial]:
    f = filters or PortfolioFilters()
    qs = trials_visible_to(user)
    if f.phase:
        qs = qs.filter(phase=f.phase)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.modality:
        qs = qs.filter(modality=f.modality)
    if f.tumour_type:
        # JSON text match on the quoted code: "NSCLC" matches the element NSCLC only.
        qs = qs.filter(tumour_types__icontains=f'"{f.tumour_type.strip()}"')
    if f.target:
        qs = qs.filter(targets__icontains=f.target.strip())
    if f.q:
        term = f.q.strip()
        qs = qs.filter(
            Q(protocol_code__icontains=term)
            | Q(title__icontains=term)
            | Q(short_title__icontains=term)
            | Q(sponsor__icontains=term)
            | Q(nct_number__icontains=term)
        )
    # An aggregate drops the model's ordering (Django leaves Meta.ordering out of GROUP BY
    # queries): the portfolio and its API list in protocol order, whatever the query plan.
    return (
        qs.annotate(cohort_count=Count("cohorts", distinct=True))
        .prefetch_related("sites")
        .order_by("protocol_code", "pk")
    )


def trial_get_for_user(*, user: Actor, trial_id: int) -> Trial:
    """The trial, or NotFoundError when it does not exist or the user may not see it."""
    trial = (
        trials_visible_to(user)
        .filter(pk=trial_id)
        .prefetch_related(
            "sites",
            "status_history__changed_by",
            Prefetch(
                "cohorts",
                queryset=Cohort.objects.prefetch_related(
                    Prefetch("dose_levels", queryset=DoseLevel.objects.order_by("level", "agent"))
                ),
            ),
        )
        .first()
    )
    if trial is None:
        raise NotFoundError(
            gettext("No trial %(trial_id)s that you may see.") % {"trial_id": trial_id}
        )
    return trial


def cohort_get_for_user(*, user: Actor, cohort_id: int) -> Cohort:
    cohort = (
        Cohort.objects.filter(pk=cohort_id, trial__in=trials_visible_to(user))
        .select_related("trial")
        .first()
    )
    if cohort is None:
        raise NotFoundError(
            gettext("No cohort %(cohort_id)s that you may see.") % {"cohort_id": cohort_id}
        )
    return cohort


def portfolio_summary(*, user: Actor) -> dict[str, Any]:
    """Figures for the home dashboard: open trials by phase, trials by status."""
    qs = trials_visible_to(user)
    ids = list(qs.values_list("pk", flat=True))
    base = Trial.objects.filter(pk__in=ids)
    by_phase_open = dict(
        base.filter(status=TrialStatus.OPEN).values_list("phase").annotate(n=Count("pk"))
    )
    by_status = dict(base.values_list("status").annotate(n=Count("pk")))
    return {
        "total": len(ids),
        "open_by_phase": [(label, by_phase_open.get(value, 0)) for value, label in Phase.choices],
        "by_status": [(label, by_status.get(value, 0)) for value, label in TrialStatus.choices],
        "open": by_status.get(TrialStatus.OPEN, 0),
        "cohorts_open": Cohort.objects.filter(trial_id__in=ids, is_open=True).count(),
    }


_PARSED_SCHEDULES: dict[tuple[int, int, str], Any] = {}
_PARSED_SCHEDULES_MAX = 512


def visit_schedule_parsed(definition: Any) -> Any:
    """The core ``VisitSchedule`` of a stored definition, parsed (and schema-checked) once.

    Parsing validates the document against its JSON Schema, which costs far more than the
    calendar itself; a work list over hundreds of registrations of a few trials parses each
    trial's schedule once. The key is the definition's id and version, with a digest of the
    document so that a stored document changed behind the service's back is never served stale.
    """
    from oncotrials.core.schedule import load_schedule

    memo = definition.__dict__.get("_parsed_schedule")
    if memo is not None and memo[0] is definition.document:
        return memo[1]  # this very instance was parsed already (registrations sharing a trial)
    digest = hashlib.blake2b(
        json.dumps(definition.document, sort_keys=True, default=str).encode(), digest_size=16
    ).hexdigest()
    key = (definition.pk, definition.version, digest)
    schedule = _PARSED_SCHEDULES.get(key)
    if schedule is None:
        if len(_PARSED_SCHEDULES) >= _PARSED_SCHEDULES_MAX:
            _PARSED_SCHEDULES.clear()
        schedule = _PARSED_SCHEDULES[key] = load_schedule(definition.document)
    definition.__dict__["_parsed_schedule"] = (definition.document, schedule)
    return schedule
