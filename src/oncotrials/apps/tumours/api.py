"""API endpoints of the tumours app (mounted at /api/v1/): parse, authorise, call one service, render."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Router, Status

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.accounts.schemas import ERRORS
from oncotrials.apps.trials.selectors import trial_get_for_user
from oncotrials.core.errors import NotFoundError

from .models import Assessment, AssessmentKind
from .schemas import (
    TumourAssessmentIn,
    TumourAssessmentOut,
    TumourAssessmentUpdateIn,
    TumourBaselineIn,
    TumourEfficacyOut,
    TumourLesionOut,
    TumourOverrideIn,
    TumourOverrideOut,
    TumourResponsesOut,
    TumourSettingsIn,
    TumourSettingsOut,
)
from .selectors import (
    assessment_get_for_user,
    assessments_of,
    efficacy_data,
    lesions_of,
    pfs_summary,
    registration_get_for_user,
    responses_of,
)
from .services import (
    assessment_save,
    baseline_save,
    response_override,
    settings_for,
    tumour_settings_save,
)

router = Router(tags=["tumours"])
SVG_RESPONSE = {
    "responses": {
        "200": {
            "description": "The plot as an SVG document",
            "content": {"image/svg+xml": {"schema": {"type": "string"}}},
        }
    }
}


def _settings_out(settings: Any) -> dict[str, Any]:
    return {
        "trial_id": settings.trial_id,
        "criteria": settings.criteria,
        "confirmation_required": settings.confirmation_required,
        "version": settings.version,
    }


def assessment_out(a: Assessment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "registration_id": a.registration_id,
        "kind": a.kind,
        "date": a.date,
        "method": a.method,
        "status": a.status,
        "version": a.version,
        "tumour_markers_normal": a.tumour_markers_normal,
        "clinical_symptoms": a.clinical_symptoms,
        "measurements": [
            {"lesion_id": m.lesion.lesion_id, "diameter_mm": m.diameter_mm, "status": m.status}
            for m in a.measurements.all()
        ],
        "new_lesions": [
            {
                "lesion_id": n.lesion_id,
                "organ": n.organ,
                "nodal": n.nodal,
                "diameter_mm": n.diameter_mm,
                "status": n.status,
                "equivocal": n.equivocal,
            }
            for n in a.new_lesions.all()
        ],
    }


def responses_out(registration: Any) -> dict[str, Any]:
    data = responses_of(registration)
    ev = data["evaluation"]
    out: dict[str, Any] = {
        "registration_id": registration.pk,
        "criteria": ev.criteria if ev else None,
        "confirmation_required": ev.confirmation_required if ev else None,
        "timepoints": [],
        "bor": None,
        "response_date": ev.response_date if ev else None,
        "progression_date": ev.progression_date if ev else None,
    }
    for row in data["timepoints"]:
        tp, o = row["tp"], row["override"]
        out["timepoints"].append(
            {
                "assessment_id": tp.assessment_id,
                "date": tp.date,
                "computed": tp.overall,
                "rule": tp.rule,
                "target": tp.target,
                "target_rule": tp.target_rule,
                "non_target": tp.non_target,
                "non_target_rule": tp.non_target_rule,
                "new_lesions": tp.new_lesions,
                "sum_mm": tp.sum_mm,
                "change_from_baseline_pct": tp.change_from_baseline_pct,
                "change_from_nadir_pct": tp.change_from_nadir_pct,
                "override": o.response if o else None,
                "override_reason": o.reason if o else None,
                "effective": row["effective"],
            }
        )
    if ev is not None:
        o = data["bor_override"]
        out["bor"] = {
            "computed": ev.bor,
            "date": ev.bor_date,
            "rule": ev.bor_rule,
            "unconfirmed": ev.bor_unconfirmed,
            "unconfirmed_rule": ev.bor_unconfirmed_rule,
            "confirmed": ev.bor_confirmed,
            "confirmed_rule": ev.bor_confirmed_rule,
            "override": o.response if o else None,
            "override_reason": o.reason if o else None,
            "effective": data["bor_effective"],
        }
    return out


@router.get("/trials/{trial_id}/tumour-settings", response={200: TumourSettingsOut, **ERRORS})
def tumour_settings_get(request: HttpRequest, trial_id: int) -> Any:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    return _settings_out(settings_for(trial))


@router.put("/trials/{trial_id}/tumour-settings", response={200: TumourSettingsOut, **ERRORS})
def tumour_settings_put(request: HttpRequest, trial_id: int, payload: TumourSettingsIn) -> Any:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    saved = tumour_settings_save(
        trial=trial,
        criteria=payload.criteria,
        confirmation_required=payload.confirmation_required,
        version=payload.version,
        reason=payload.reason,
        by=acting_user(request.user),
    )
    return _settings_out(saved)


@router.get(
    "/registrations/{registration_id}/lesions", response={200: list[TumourLesionOut], **ERRORS}
)
def tumour_lesions_list(request: HttpRequest, registration_id: int) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    return list(lesions_of(reg))


@router.put(
    "/registrations/{registration_id}/tumour-baseline",
    response={200: TumourAssessmentOut, **ERRORS},
)
def tumour_baseline_put(
    request: HttpRequest, registration_id: int, payload: TumourBaselineIn
) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    baseline = baseline_save(
        registration=reg,
        date=payload.date,
        method=payload.method,
        lesions=[lesion.dict() for lesion in payload.lesions],
        complete=payload.complete,
        version=payload.version,
        reason=payload.reason,
        by=acting_user(request.user),
    )
    return assessment_out(baseline)


@router.get(
    "/registrations/{registration_id}/tumour-assessments",
    response={200: list[TumourAssessmentOut], **ERRORS},
)
def tumour_assessments_list(request: HttpRequest, registration_id: int) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    return [assessment_out(a) for a in assessments_of(reg)]


@router.post(
    "/registrations/{registration_id}/tumour-assessments",
    response={201: TumourAssessmentOut, **ERRORS},
)
def tumour_assessments_create(
    request: HttpRequest, registration_id: int, payload: TumourAssessmentIn
) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    saved = assessment_save(
        registration=reg,
        date=payload.date,
        method=payload.method,
        measurements=[m.dict() for m in payload.measurements],
        new_lesions=[n.dict() for n in payload.new_lesions],
        tumour_markers_normal=payload.tumour_markers_normal,
        clinical_symptoms=payload.clinical_symptoms,
        complete=payload.complete,
        by=acting_user(request.user),
    )
    return Status(201, assessment_out(saved))


@router.get("/tumour-assessments/{assessment_id}", response={200: TumourAssessmentOut, **ERRORS})
def tumour_assessment_get(request: HttpRequest, assessment_id: int) -> Any:
    return assessment_out(assessment_get_for_user(user=request.user, assessment_id=assessment_id))


@router.put("/tumour-assessments/{assessment_id}", response={200: TumourAssessmentOut, **ERRORS})
def tumour_assessment_put(
    request: HttpRequest, assessment_id: int, payload: TumourAssessmentUpdateIn
) -> Any:
    a = assessment_get_for_user(user=request.user, assessment_id=assessment_id)
    if a.kind != AssessmentKind.FOLLOW_UP:
        raise NotFoundError(
            gettext(
                "Tumour assessment %(assessment_id)s is a baseline; correct it through "
                "/registrations/%(registration_id)s/tumour-baseline."
            )
            % {"assessment_id": assessment_id, "registration_id": a.registration_id}
        )
    saved = assessment_save(
        registration=a.registration,
        assessment=a,
        date=payload.date,
        method=payload.method,
        measurements=[m.dict() for m in payload.measurements],
        new_lesions=[n.dict() for n in payload.new_lesions],
        tumour_markers_normal=payload.tumour_markers_normal,
        clinical_symptoms=payload.clinical_symptoms,
        complete=payload.complete,
        version=payload.version,
        reason=payload.reason,
        by=acting_user(request.user),
    )
    return assessment_out(saved)


@router.get(
    "/registrations/{registration_id}/tumour-responses",
    response={200: TumourResponsesOut, **ERRORS},
)
def tumour_responses_get(request: HttpRequest, registration_id: int) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    return responses_out(reg)


@router.get(
    "/registrations/{registration_id}/tumour-overrides",
    response={200: list[TumourOverrideOut], **ERRORS},
)
def tumour_overrides_list(request: HttpRequest, registration_id: int) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    return responses_of(reg)["history"]


@router.post(
    "/registrations/{registration_id}/tumour-overrides",
    response={201: TumourOverrideOut, **ERRORS},
)
def tumour_overrides_create(
    request: HttpRequest, registration_id: int, payload: TumourOverrideIn
) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    assessment = None
    if payload.assessment_id is not None:
        assessment = Assessment.objects.filter(pk=payload.assessment_id, registration=reg).first()
        if assessment is None:
            raise NotFoundError(
                gettext("No tumour assessment %(assessment_id)s in registration %(registration)s.")
                % {"assessment_id": payload.assessment_id, "registration": reg.pk}
            )
    override = response_override(
        registration=reg,
        assessment=assessment,
        response=payload.response,
        reason=payload.reason,
        by=acting_user(request.user),
    )
    return Status(201, override)


@router.get("/trials/{trial_id}/efficacy", response={200: TumourEfficacyOut, **ERRORS})
def tumour_efficacy_get(request: HttpRequest, trial_id: int) -> Any:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    patients = efficacy_data(trial=trial, user=request.user)
    summary = pfs_summary(patients)
    return {
        "trial_id": trial.pk,
        "patients": [
            {
                "research_id": p.label,
                "registration_id": p.registration_id,
                "bor": p.bor,
                "best_change_pct": p.best_change_pct,
                "pfs_days": p.pfs.days if p.pfs else None,
                "pfs_event": p.pfs.event if p.pfs else None,
                "pfs_rule": p.pfs.rule if p.pfs else None,
            }
            for p in patients
        ],
        "pfs_n": summary.km.n if summary else 0,
        "pfs_events": summary.km.events if summary else 0,
        "pfs_median_months": summary.median_months if summary else None,
        "pfs_one_year": summary.one_year if summary else None,
    }


@router.get(
    "/trials/{trial_id}/efficacy/{plot}.svg",
    response={**ERRORS},
    openapi_extra=SVG_RESPONSE,
)
def tumour_efficacy_plot(
    request: HttpRequest,
    trial_id: int,
    plot: Literal["waterfall", "spider", "swimmer", "pfs"],
) -> Any:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    return svg_response(trial=trial, user=request.user, plot=plot, download=False)


def svg_response(*, trial: Any, user: Actor, plot: str, download: bool) -> HttpResponse:
    from . import plots  # matplotlib loads on the first plot, not with the URLconf

    patients = efficacy_data(trial=trial, user=user)
    summary = pfs_summary(patients) if plot == "pfs" else None
    response = HttpResponse(
        plots.render(plot, patients, summary), content_type="image/svg+xml; charset=utf-8"
    )
    filename = f"{trial.protocol_code}-{plot}.svg".replace('"', "")
    disposition = "attachment" if download else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
