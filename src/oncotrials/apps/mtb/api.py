"""API endpoints of the tumour board (mounted at /api/v1/): parse, authorise, call one service,
render. What the caller may not see answers 404; what their role may not do answers 403."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Path, Query, Router, Status

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.accounts.models import Site, User
from oncotrials.apps.accounts.schemas import ERRORS
from oncotrials.core.errors import NotFoundError, ValidationError

from .models import MtbCase, MtbMeeting, MtbRecommendation, MtbReferral, RecommendationKind
from .schemas import (
    MtbCaseDetailOut,
    MtbCaseIn,
    MtbCaseOut,
    MtbCaseUpdateIn,
    MtbFunnelOut,
    MtbMeetingIn,
    MtbMeetingOut,
    MtbMeetingUpdateIn,
    MtbRecommendationIn,
    MtbRecommendationOut,
    MtbRecommendationUpdateIn,
    MtbReferralOut,
    MtbSignIn,
)
from .selectors import (
    REFERRAL_STATES,
    FunnelRow,
    ReferralState,
    case_detail,
    case_get_for_user,
    cases_of,
    funnel,
    meeting_get_for_user,
    meetings_for_user,
    patient_for_board,
    recommendation_get_for_user,
    referral_get_for_user,
    referral_state,
    referral_states,
    referrals_for_user,
    signature_view,
    sites_for_user,
)
from .services import (
    agenda_build,
    case_add,
    case_update,
    meeting_create,
    meeting_update,
    recommendation_create,
    recommendation_sign,
    recommendation_update,
    trial_for_recommendation,
)

router = Router(tags=["tumour board"])
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


# ----------------------------------------------------------------------------------- render
def meeting_out(m: MtbMeeting) -> dict[str, Any]:
    return {
        "id": m.pk,
        "site": m.site.code,
        "held_on": m.held_on,
        "title": m.title,
        "status": m.status,
        "chair": m.chair.username if m.chair else None,
        "attendees": sorted(u.username for u in m.attendees.all()),
        "version": m.version,
    }


def case_out(c: MtbCase) -> dict[str, Any]:
    return {
        "id": c.pk,
        "meeting_id": c.meeting_id,
        "patient_id": c.patient_id,
        "research_id": c.patient.research_id,
        "added_by_hand": c.added_by_hand,
        "reason": c.reason,
        "actionable": c.actionable,
        "notes": c.notes,
        "reports": [
            {
                "id": r.pk,
                "sample": r.sample.sample_id,
                "assay": r.assay,
                "reported_on": r.reported_on,
                "imported_at": r.imported_at,
            }
            for r in c.reports.all()
        ],
        "version": c.version,
    }


def _state_out(s: ReferralState | None) -> dict[str, Any] | None:
    return None if s is None else {"state": s.state, "on": s.on, "detail": s.detail}


def recommendation_out(r: MtbRecommendation) -> dict[str, Any]:
    sig = signature_view(r)
    ref = MtbReferral.objects.filter(recommendation=r).first()
    return {
        "id": r.pk,
        "case_id": r.case_id,
        "kind": r.kind,
        "trial_id": r.trial_id,
        "cohort_id": r.cohort_id,
        "therapy": r.therapy,
        "rationale": r.rationale,
        "version": r.version,
        "signature": {
            "signed": sig.signed,
            "valid": sig.valid,
            "name": sig.name,
            "at": sig.at,
            "meaning": sig.meaning,
        },
        "referral_id": ref.pk if ref else None,
        "referral_state": _state_out(referral_state(ref)) if ref else None,
    }


def referral_out(ref: MtbReferral, state: ReferralState) -> dict[str, Any]:
    return {
        "id": ref.pk,
        "patient_id": ref.patient_id,
        "research_id": ref.patient.research_id,
        "trial": ref.trial.protocol_code,
        "cohort": ref.cohort.code if ref.cohort else None,
        "opened_on": ref.opened_on,
        "recommendation_id": ref.recommendation_id,
        "state": _state_out(state),
    }


def _row_out(row: FunnelRow) -> dict[str, Any]:
    return {
        "site": row.site_code,
        "site_name": row.site_name,
        "screened": row.screened,
        "actionable": row.actionable,
        "referred": row.referred,
        "included": row.included,
        "median_days_to_inclusion": row.median_days_to_inclusion,
    }


def _site(request: HttpRequest, code: str) -> Site:
    site = sites_for_user(request.user).filter(code=code).first()
    if site is None:
        raise NotFoundError(gettext("Unknown site %(code)s.") % {"code": repr(code)})
    return site


def _users(names: list[str], field: str) -> list[User]:
    found = {u.username: u for u in User.objects.filter(username__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise ValidationError(
            gettext("%(field)s: no user %(missing)s.")
            % {"field": field, "missing": repr(missing[0])},
            field=field,
        )
    return [found[n] for n in dict.fromkeys(names)]


# --------------------------------------------------------------------------------- meetings
@router.get("/mtb/meetings", response={200: list[MtbMeetingOut], **ERRORS})
def mtb_meetings(request: HttpRequest, site: str = "") -> Any:
    """Tumour-board meetings of the sites whose board the caller sees, latest first."""
    qs = meetings_for_user(user=request.user, site=_site(request, site) if site else None)
    return [meeting_out(m) for m in qs.prefetch_related("attendees")[:500]]


@router.post("/mtb/meetings", response={201: MtbMeetingOut, **ERRORS})
def mtb_meeting_create(request: HttpRequest, payload: MtbMeetingIn) -> Any:
    site = _site(request, payload.site)
    chair = _users([payload.chair], "chair")[0] if payload.chair else None
    meeting = meeting_create(
        site=site,
        held_on=payload.held_on,
        title=payload.title,
        chair=chair,
        attendees=_users(payload.attendees, "attendees"),
        by=acting_user(request.user),
    )
    return Status(201, meeting_out(meeting))


@router.get("/mtb/meetings/{meeting_id}", response={200: MtbMeetingOut, **ERRORS})
def mtb_meeting(request: HttpRequest, meeting_id: Id) -> Any:
    return meeting_out(meeting_get_for_user(user=request.user, meeting_id=meeting_id))


@router.patch("/mtb/meetings/{meeting_id}", response={200: MtbMeetingOut, **ERRORS})
def mtb_meeting_update(request: HttpRequest, meeting_id: Id, payload: MtbMeetingUpdateIn) -> Any:
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    given = payload.model_fields_set
    kwargs: dict[str, Any] = {}
    if "chair" in given:
        kwargs["chair"] = _users([payload.chair], "chair")[0] if payload.chair else None
    if payload.attendees is not None:
        kwargs["attendees"] = _users(payload.attendees, "attendees")
    updated = meeting_update(
        meeting=meeting,
        version=payload.version,
        status=payload.status.value if payload.status else None,
        title=payload.title,
        reason=payload.reason,
        by=acting_user(request.user),
        **kwargs,
    )
    return meeting_out(updated)


@router.get("/mtb/meetings/{meeting_id}/cases", response={200: list[MtbCaseOut], **ERRORS})
def mtb_meeting_cases(request: HttpRequest, meeting_id: Id) -> Any:
    """The agenda: one case per patient with the reports it discusses."""
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    return [case_out(c) for c in cases_of(meeting=meeting)]


@router.post("/mtb/meetings/{meeting_id}/agenda", response={200: list[MtbCaseOut], **ERRORS})
def mtb_agenda_build(request: HttpRequest, meeting_id: Id) -> Any:
    """Add the new, undiscussed genomic reports since the previous meeting; returns the agenda."""
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    agenda_build(meeting=meeting, by=acting_user(request.user))
    return [case_out(c) for c in cases_of(meeting=meeting)]


@router.post("/mtb/meetings/{meeting_id}/cases", response={201: MtbCaseOut, **ERRORS})
def mtb_case_add(request: HttpRequest, meeting_id: Id, payload: MtbCaseIn) -> Any:
    meeting = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    patient = patient_for_board(user=request.user, patient_id=payload.patient_id)
    case = case_add(
        meeting=meeting, patient=patient, reason=payload.reason, by=acting_user(request.user)
    )
    return Status(201, case_out(case))


# ------------------------------------------------------------------------------------ cases
def _detail_out(request: HttpRequest, case: MtbCase) -> dict[str, Any]:
    d = case_detail(user=request.user, case=case)
    s = d.summary
    alterations = []
    for sample in d.timeline:
        for a in sample.alterations:
            evidence = []
            if a.annotation is not None:
                evidence = [
                    f"{ev.entry.source} {ev.entry.level}: {', '.join(ev.entry.drugs)} "
                    f"({ev.entry.citation})"
                    for ev in a.annotation.evidence
                ]
            alterations.append(
                {
                    "sample": sample.sample.sample_id,
                    "kind": a.kind,
                    "gene": a.gene,
                    "label": a.label,
                    "tier": a.tier,
                    "detail": a.detail,
                    "evidence": evidence,
                }
            )
    matches = None
    if d.matches is not None:
        matches = [
            {
                "trial": m.trial.protocol_code,
                "cohort": m.cohort.code if m.cohort else "",
                "dose_level": str(m.dose_level) if m.dose_level else None,
                "open": m.open,
                "slots_available": m.slots_available,
            }
            for m in d.matches
        ]
    return {
        "case": case_out(case),
        "summary": {
            "research_id": s.research_id,
            "site": s.site,
            "diagnosis": s.diagnosis,
            "diagnosis_name": s.diagnosis_name,
            "age": s.age,
            "sex": s.sex,
            "ecog": s.ecog,
            "prior_lines": s.prior_lines,
            "journey": s.journey,
            "prior_therapy_lines": [
                {
                    "line": t.line,
                    "agents": t.agent_list,
                    "setting": t.setting,
                    "started_on": t.started_on,
                    "ended_on": t.ended_on,
                    "best_response": t.best_response,
                    "stop_reason": t.stop_reason,
                }
                for t in s.therapy_lines
            ],
        },
        "alterations": alterations,
        "serial_pairs": d.serial.pairs,
        "actionable": d.actionable,
        "matches": matches,
        "recommendations": [recommendation_out(r) for r, _sig, _st in d.recommendations],
    }


@router.get("/mtb/cases/{case_id}", response={200: MtbCaseDetailOut, **ERRORS})
def mtb_case(request: HttpRequest, case_id: Id) -> Any:
    """A case: clinical summary, alterations with ESCAT tier and evidence, acquired resistance
    between serial samples, matching open cohorts, recommendations with their signatures and
    referral states."""
    return _detail_out(request, case_get_for_user(user=request.user, case_id=case_id))


@router.patch("/mtb/cases/{case_id}", response={200: MtbCaseOut, **ERRORS})
def mtb_case_update(request: HttpRequest, case_id: Id, payload: MtbCaseUpdateIn) -> Any:
    case = case_get_for_user(user=request.user, case_id=case_id)
    kwargs: dict[str, Any] = {}
    if payload.set_actionable:
        kwargs["actionable"] = payload.actionable
    updated = case_update(
        case=case,
        version=payload.version,
        notes=payload.notes,
        reason=payload.reason,
        by=acting_user(request.user),
        **kwargs,
    )
    return case_out(updated)


# -------------------------------------------------------------------------- recommendations
@router.post("/mtb/cases/{case_id}/recommendations", response={201: MtbRecommendationOut, **ERRORS})
def mtb_recommendation_create(
    request: HttpRequest, case_id: Id, payload: MtbRecommendationIn
) -> Any:
    case = case_get_for_user(user=request.user, case_id=case_id)
    trial, cohort = trial_for_recommendation(trial_id=payload.trial_id, cohort_id=payload.cohort_id)
    rec = recommendation_create(
        case=case,
        kind=payload.kind.value,
        rationale=payload.rationale,
        trial=trial,
        cohort=cohort,
        therapy=payload.therapy,
        by=acting_user(request.user),
    )
    return Status(201, recommendation_out(rec))


@router.get(
    "/mtb/recommendations/{recommendation_id}", response={200: MtbRecommendationOut, **ERRORS}
)
def mtb_recommendation(request: HttpRequest, recommendation_id: Id) -> Any:
    return recommendation_out(
        recommendation_get_for_user(user=request.user, recommendation_id=recommendation_id)
    )


@router.patch(
    "/mtb/recommendations/{recommendation_id}", response={200: MtbRecommendationOut, **ERRORS}
)
def mtb_recommendation_update(
    request: HttpRequest, recommendation_id: Id, payload: MtbRecommendationUpdateIn
) -> Any:
    """Change a recommendation, with the reason; a signature it carried no longer holds."""
    rec = recommendation_get_for_user(user=request.user, recommendation_id=recommendation_id)
    given = payload.model_fields_set
    kwargs: dict[str, Any] = {}
    if payload.kind is not None:
        kwargs["kind"] = payload.kind.value
        if payload.kind != RecommendationKind.TRIAL_REFERRAL:
            kwargs["trial"] = kwargs["cohort"] = None
    if payload.rationale is not None:
        kwargs["rationale"] = payload.rationale
    if payload.therapy is not None:
        kwargs["therapy"] = payload.therapy
    if "trial_id" in given or "cohort_id" in given:
        trial, cohort = trial_for_recommendation(
            trial_id=payload.trial_id, cohort_id=payload.cohort_id
        )
        if "trial_id" in given:
            kwargs["trial"] = trial
        if "cohort_id" in given:
            kwargs["cohort"] = cohort
    updated = recommendation_update(
        recommendation=rec,
        version=payload.version,
        reason=payload.reason,
        by=acting_user(request.user),
        **kwargs,
    )
    return recommendation_out(updated)


@router.post(
    "/mtb/recommendations/{recommendation_id}/sign",
    response={200: MtbRecommendationOut, **ERRORS},
)
def mtb_recommendation_sign(request: HttpRequest, recommendation_id: Id, payload: MtbSignIn) -> Any:
    """The board signs (an investigator of the site or the chair), with the password."""
    rec = recommendation_get_for_user(user=request.user, recommendation_id=recommendation_id)
    signed = recommendation_sign(
        recommendation=rec,
        meaning=payload.meaning,
        password=payload.password,
        by=acting_user(request.user),
    )
    return recommendation_out(signed)


# -------------------------------------------------------------------------------- referrals
@router.get("/mtb/referrals", response={200: list[MtbReferralOut], **ERRORS})
def mtb_referrals(request: HttpRequest, site: str = "", state: str = "") -> Any:
    """Referrals with their state read from the patient journey."""
    if state and state not in REFERRAL_STATES:
        raise ValidationError(
            gettext("state must be one of %(referral_states)s; got %(state)s.")
            % {"referral_states": ", ".join(REFERRAL_STATES), "state": repr(state)},
            field="state",
        )
    rows = referrals_for_user(
        user=request.user, site=_site(request, site) if site else None, state=state
    )
    return [referral_out(r, s) for r, s in rows]


@router.get("/mtb/referrals/{referral_id}", response={200: MtbReferralOut, **ERRORS})
def mtb_referral(request: HttpRequest, referral_id: Id) -> Any:
    ref = referral_get_for_user(user=request.user, referral_id=referral_id)
    return referral_out(ref, referral_states([ref])[ref.pk])


# ----------------------------------------------------------------------------------- funnel
@router.get("/mtb/funnel", response={200: MtbFunnelOut, **ERRORS})
def mtb_funnel(
    request: HttpRequest,
    site: str = "",
    date_from: Annotated[dt.date | None, Query()] = None,
    date_to: Annotated[dt.date | None, Query()] = None,
) -> Any:
    """Screened → actionable → referred → included per site for reports dated in the period,
    with the median days from report to inclusion."""
    if date_from and date_to and date_to < date_from:
        raise ValidationError(
            gettext("date_to (%(date_to)s) is before date_from (%(date_from)s).")
            % {"date_to": date_to, "date_from": date_from},
            field="date_to",
        )
    f = funnel(
        user=request.user,
        site=_site(request, site) if site else None,
        date_from=date_from,
        date_to=date_to,
    )
    return {
        "date_from": f.date_from,
        "date_to": f.date_to,
        "rows": [_row_out(r) for r in f.rows],
        "total": _row_out(f.total),
    }
