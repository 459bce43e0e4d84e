"""Portfolio endpoints: parse, authorise, call one service, render."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Query, Router, Schema, Status

from oncotrials.apps.accounts.access import Action, acting_user, require, roles_on
from oncotrials.apps.accounts.models import Site
from oncotrials.apps.accounts.schemas import ERRORS
from oncotrials.core.errors import NotFoundError

from .models import CohortKind, Modality, Phase, TrialStatus
from .schemas import (
    CohortIn,
    CohortOut,
    DoseLevelIn,
    DoseLevelOut,
    StatusIn,
    TrialIn,
    TrialOut,
    TrialPatch,
    TrialSummaryOut,
)
from .selectors import (
    PortfolioFilters,
    cohort_get_for_user,
    trial_get_for_user,
    trials_for_user,
)
from .services import (
    cohort_create,
    dose_level_create,
    trial_change_status,
    trial_create,
    trial_update,
)

router = Router(tags=["trials"])


class TrialFilters(Schema):
    phase: Phase | None = None
    status: TrialStatus | None = None
    modality: Modality | None = None
    tumour_type: str = ""
    target: str = ""
    q: str = ""


def _editable_trial(request: HttpRequest, trial_id: int) -> Any:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    require(request.user, Action.EDIT_PORTFOLIO, on=trial)
    return trial


@router.get("/trials", response={200: list[TrialSummaryOut], **ERRORS})
def trials_list(request: HttpRequest, filters: Query[TrialFilters]) -> Any:
    f = PortfolioFilters(
        phase=filters.phase or "",
        status=filters.status or "",
        modality=filters.modality or "",
        tumour_type=filters.tumour_type,
        target=filters.target,
        q=filters.q,
    )
    return trials_for_user(user=request.user, filters=f)


@router.post("/trials", response={201: TrialOut, **ERRORS})
def trials_create(request: HttpRequest, payload: TrialIn) -> Any:
    data = payload.dict()
    codes = data.pop("sites")
    sites = list(Site.objects.filter(code__in=codes))
    unknown = sorted(set(codes) - {s.code for s in sites})
    visible = [s for s in sites if roles_on(request.user, s)]
    if unknown or len(visible) != len(sites):
        raise NotFoundError(
            gettext("Unknown site(s): %(values)s.")
            % {"values": ", ".join(unknown or sorted(set(codes) - {s.code for s in visible}))}
        )
    for site in sites:
        require(request.user, Action.EDIT_PORTFOLIO, on=site)
    trial = trial_create(data=data, sites=sites, by=acting_user(request.user))
    return Status(201, trial_get_for_user(user=request.user, trial_id=trial.pk))


@router.get("/trials/{trial_id}", response={200: TrialOut, **ERRORS})
def trials_detail(request: HttpRequest, trial_id: int) -> Any:
    return trial_get_for_user(user=request.user, trial_id=trial_id)


@router.patch("/trials/{trial_id}", response={200: TrialOut, **ERRORS})
def trials_update(request: HttpRequest, trial_id: int, payload: TrialPatch) -> Any:
    trial = _editable_trial(request, trial_id)
    changes = payload.dict(exclude_unset=True, exclude={"expected_version", "reason"})
    changes = {k: v for k, v in changes.items() if v is not None}
    trial_update(
        trial=trial,
        changes=changes,
        by=acting_user(request.user),
        reason=payload.reason,
        expected_version=payload.expected_version,
    )
    return trial_get_for_user(user=request.user, trial_id=trial_id)


@router.post("/trials/{trial_id}/status", response={200: TrialOut, **ERRORS})
def trials_status(request: HttpRequest, trial_id: int, payload: StatusIn) -> Any:
    trial = _editable_trial(request, trial_id)
    trial_change_status(
        trial=trial, to_status=payload.status, by=acting_user(request.user), reason=payload.reason
    )
    return trial_get_for_user(user=request.user, trial_id=trial_id)


@router.get("/trials/{trial_id}/cohorts", response={200: list[CohortOut], **ERRORS})
def cohorts_list(request: HttpRequest, trial_id: int) -> Any:
    return list(trial_get_for_user(user=request.user, trial_id=trial_id).cohorts.all())


@router.post("/trials/{trial_id}/cohorts", response={201: CohortOut, **ERRORS})
def cohorts_create(request: HttpRequest, trial_id: int, payload: CohortIn) -> Any:
    trial = _editable_trial(request, trial_id)
    cohort = cohort_create(trial=trial, by=acting_user(request.user), **payload.dict())
    return Status(201, cohort)


@router.get("/cohorts/{cohort_id}/dose-levels", response={200: list[DoseLevelOut], **ERRORS})
def dose_levels_list(request: HttpRequest, cohort_id: int) -> Any:
    return list(cohort_get_for_user(user=request.user, cohort_id=cohort_id).dose_levels.all())


@router.post("/cohorts/{cohort_id}/dose-levels", response={201: DoseLevelOut, **ERRORS})
def dose_levels_create(request: HttpRequest, cohort_id: int, payload: DoseLevelIn) -> Any:
    cohort = cohort_get_for_user(user=request.user, cohort_id=cohort_id)
    _editable_trial(request, cohort.trial_id)
    return Status(
        201, dose_level_create(cohort=cohort, by=acting_user(request.user), **payload.dict())
    )


__all__ = ["CohortKind", "router"]
