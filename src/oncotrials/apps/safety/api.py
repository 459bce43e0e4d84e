"""Safety endpoints (mounted at /api/v1/): parse, authorise, call one service, render."""

from __future__ import annotations

from typing import Annotated, Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Path, Query, Router, Status

from oncotrials.apps.accounts.access import acting_user, roles_on
from oncotrials.apps.accounts.models import Site
from oncotrials.apps.accounts.schemas import ERRORS, paged
from oncotrials.apps.trials.selectors import trial_get_for_user
from oncotrials.core.errors import NotFoundError
from oncotrials.core.grading import load_catalogue

from .dlt_review import dlt_case_adjudicate, dlt_evaluate, dlt_rules_save, dlt_status_for
from .e2b import icsr_export
from .models import DltRuleSet
from .schemas import (
    SafetyAdverseEventDeleteIn,
    SafetyAdverseEventIn,
    SafetyAdverseEventOut,
    SafetyAdverseEventUpdateIn,
    SafetyAeSummaryOut,
    SafetyAstctIn,
    SafetyAstctOut,
    SafetyBoardCaseOut,
    SafetyDltAdjudicateIn,
    SafetyDltCaseOut,
    SafetyDltEvaluationOut,
    SafetyDltRulesIn,
    SafetyDltRulesOut,
    SafetyDltTableRowOut,
    SafetyMeetingIn,
    SafetyMeetingOut,
    SafetyRecommendationIn,
    SafetySaeDueOut,
    SafetySaeReportIn,
    SafetySaeReportOut,
    SafetyTermOut,
)
from .selectors import (
    adverse_event_get_for_user,
    adverse_events_for_user,
    ae_summary,
    astct_for_registration,
    dlt_case_get_for_user,
    dlt_cases_for_user,
    dlt_table,
    irae_register,
    registration_get_for_user,
    sae_worklist,
    toxicity_case_get_for_user,
    toxicity_cases,
    toxicity_meeting_get_for_user,
    toxicity_meetings_for_user,
)
from .services import (
    adverse_event_create,
    adverse_event_update,
    adverse_event_void,
    astct_assessment_record,
    sae_report_record,
)
from .toxicity_board import toxicity_cases_build, toxicity_meeting_create, toxicity_recommend

router = Router(tags=["safety"])
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
_NOT_DATA = {"complete", "registration_id", "version", "reason"}


def _ae_data(payload: Any) -> dict[str, Any]:
    data = {k: v for k, v in payload.dict().items() if k not in _NOT_DATA}
    for key in ("action_taken", "outcome"):
        data[key] = data[key] or ""
    return data


@router.get("/safety/terms", response={200: list[SafetyTermOut], **ERRORS})
def safety_terms(request: HttpRequest, q: str = "") -> Any:
    """CTCAE v5.0 terms whose name contains ``q`` (at most 50)."""
    wanted = q.strip().casefold()[:60]
    out = []
    for t in load_catalogue():
        if wanted in t.term.casefold():
            out.append(t)
            if len(out) == 50:
                break
    return out


@router.get("/safety/adverse-events", response={200: list[SafetyAdverseEventOut], **ERRORS})
@paged
def safety_ae_list(
    request: HttpRequest,
    patient_id: int | None = None,
    trial_id: OptionalId = None,
    registration_id: OptionalId = None,
    immune_related: bool | None = None,
) -> Any:
    """Adverse events you may see. Paged: ``{"items": [...], "count": n}`` with ``?page=``
    and ``?page_size=`` (default 100, at most 500)."""
    return adverse_events_for_user(
        user=request.user,
        patient_id=patient_id,
        trial_id=trial_id,
        registration_id=registration_id,
        immune_related=immune_related,
    )


@router.post("/safety/adverse-events", response={201: SafetyAdverseEventOut, **ERRORS})
def safety_ae_create(request: HttpRequest, payload: SafetyAdverseEventIn) -> Any:
    # The registration is read and locked by one query in the save's transaction: the DLT
    # review's lock, taken first, with no second read of the row.
    with transaction.atomic():
        registration = registration_get_for_user(
            user=request.user, registration_id=payload.registration_id, for_update=True
        )
        ae = adverse_event_create(
            registration=registration,
            data=_ae_data(payload),
            by=acting_user(request.user),
            complete=payload.complete,
        )
    return Status(201, ae)


@router.get("/safety/adverse-events/{ae_id}", response={200: SafetyAdverseEventOut, **ERRORS})
def safety_ae_detail(request: HttpRequest, ae_id: Id) -> Any:
    return adverse_event_get_for_user(user=request.user, ae_id=ae_id)


@router.put("/safety/adverse-events/{ae_id}", response={200: SafetyAdverseEventOut, **ERRORS})
def safety_ae_update(request: HttpRequest, ae_id: Id, payload: SafetyAdverseEventUpdateIn) -> Any:
    # The AE and its registration are read and locked by one query in the save's transaction.
    with transaction.atomic():
        ae = adverse_event_get_for_user(user=request.user, ae_id=ae_id, for_update=True)
        return adverse_event_update(
            ae=ae,
            data=_ae_data(payload),
            version=payload.version,
            by=acting_user(request.user),
            complete=payload.complete,
            reason=payload.reason,
        )


@router.delete("/safety/adverse-events/{ae_id}", response={204: None, **ERRORS})
def safety_ae_delete(request: HttpRequest, ae_id: Id, payload: SafetyAdverseEventDeleteIn) -> Any:
    """Void the AE (it is never deleted): it stays listed with ``voided_at`` and its reason, out
    of counts and of the DLT review; its open queries are closed with a system note."""
    ae = adverse_event_get_for_user(user=request.user, ae_id=ae_id)
    adverse_event_void(
        ae=ae, version=payload.version, by=acting_user(request.user), reason=payload.reason
    )
    return Status(204, None)


@router.get(
    "/safety/adverse-events/{ae_id}/sae-reports", response={200: list[SafetySaeReportOut], **ERRORS}
)
def safety_sae_reports(request: HttpRequest, ae_id: Id) -> Any:
    return list(adverse_event_get_for_user(user=request.user, ae_id=ae_id).sae_reports.all())


@router.post(
    "/safety/adverse-events/{ae_id}/sae-reports", response={201: SafetySaeReportOut, **ERRORS}
)
def safety_sae_report_create(request: HttpRequest, ae_id: Id, payload: SafetySaeReportIn) -> Any:
    ae = adverse_event_get_for_user(user=request.user, ae_id=ae_id)
    report = sae_report_record(
        ae=ae,
        kind=payload.kind,
        sent_at=payload.sent_at,
        by=acting_user(request.user),
        notes=payload.notes,
    )
    return Status(201, report)


@router.get(
    "/safety/adverse-events/{ae_id}/icsr",
    response={**ERRORS},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The ICH E2B(R3) ICSR (XML) of the SAE report version.",
                "content": {"application/xml": {"schema": {"type": "string"}}},
            }
        }
    },
)
def safety_sae_icsr(request: HttpRequest, ae_id: Id, report: OptionalId = None) -> Any:
    """The E2B(R3) ICSR of SAE report ``report`` (default: the latest), audited as an export."""
    ae = adverse_event_get_for_user(user=request.user, ae_id=ae_id)
    icsr = icsr_export(ae=ae, by=acting_user(request.user), sequence=report)
    response = HttpResponse(icsr.content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{icsr.filename}"'
    return response


@router.get("/safety/sae-worklist", response={200: list[SafetySaeDueOut], **ERRORS})
def safety_sae_worklist(request: HttpRequest) -> Any:
    return [
        {
            "adverse_event_id": r.adverse_event.pk,
            "patient": r.adverse_event.registration.patient.research_id,
            "trial": r.adverse_event.registration.trial.protocol_code,
            "term": r.adverse_event.term,
            "kind": r.kind,
            "due_at": r.due_at,
            "overdue": r.overdue,
            "hours_left": r.hours_left,
        }
        for r in sae_worklist(user=request.user)
    ]


@router.get("/safety/irae", response={200: list[SafetyAdverseEventOut], **ERRORS})
def safety_irae(request: HttpRequest) -> Any:
    return irae_register(user=request.user)[:1000]


@router.get(
    "/safety/registrations/{registration_id}/astct", response={200: list[SafetyAstctOut], **ERRORS}
)
def safety_astct_list(request: HttpRequest, registration_id: Id) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    return list(astct_for_registration(registration=reg))


@router.post(
    "/safety/registrations/{registration_id}/astct", response={201: SafetyAstctOut, **ERRORS}
)
def safety_astct_create(request: HttpRequest, registration_id: Id, payload: SafetyAstctIn) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    record = astct_assessment_record(
        registration=reg,
        scale=payload.scale,
        assessed_at=payload.assessed_at,
        parameters=payload.parameters,
        attribution=payload.attribution or "",
        by=acting_user(request.user),
    )
    return Status(201, record)


@router.get("/safety/trials/{trial_id}/dlt-rules", response={200: SafetyDltRulesOut, **ERRORS})
def safety_dlt_rules(request: HttpRequest, trial_id: Id) -> Any:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    rule_set = DltRuleSet.objects.filter(trial=trial).first()
    if rule_set is None:
        raise NotFoundError(
            gettext("%(protocol_code)s has no DLT rules yet.")
            % {"protocol_code": trial.protocol_code}
        )
    return rule_set


@router.put("/safety/trials/{trial_id}/dlt-rules", response={200: SafetyDltRulesOut, **ERRORS})
def safety_dlt_rules_save(request: HttpRequest, trial_id: Id, payload: SafetyDltRulesIn) -> Any:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    return dlt_rules_save(
        trial=trial,
        document=payload.document,
        version=payload.version,
        reason=payload.reason,
        by=acting_user(request.user),
    )


@router.post(
    "/safety/registrations/{registration_id}/dlt-evaluate",
    response={200: SafetyDltEvaluationOut, **ERRORS},
)
def safety_dlt_evaluate(request: HttpRequest, registration_id: Id) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    decision, cases = dlt_evaluate(registration=reg, by=acting_user(request.user))
    status = dlt_status_for(reg)
    return {
        "outcome": decision.outcome.value,
        "rule_id": decision.rule_id,
        "reason": decision.reason,
        "dosing_outcome": status.outcome if status else None,
        "cases": cases,
    }


@router.get("/safety/dlt-cases", response={200: list[SafetyDltCaseOut], **ERRORS})
def safety_dlt_cases(request: HttpRequest, trial_id: OptionalId = None, status: str = "") -> Any:
    return dlt_cases_for_user(user=request.user, trial_id=trial_id, status=status[:20])[:1000]


@router.post("/safety/dlt-cases/{case_id}/adjudicate", response={200: SafetyDltCaseOut, **ERRORS})
def safety_dlt_adjudicate(request: HttpRequest, case_id: Id, payload: SafetyDltAdjudicateIn) -> Any:
    case = dlt_case_get_for_user(user=request.user, case_id=case_id)
    return dlt_case_adjudicate(
        case=case,
        decision=payload.decision,
        reason=payload.reason,
        meaning=payload.meaning,
        password=payload.password,
        version=payload.version,
        by=acting_user(request.user),
    )


@router.get("/safety/trials/{trial_id}/ae-summary", response={200: SafetyAeSummaryOut, **ERRORS})
def safety_ae_summary(request: HttpRequest, trial_id: Id) -> Any:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    return ae_summary(user=request.user, trial=trial)


@router.get(
    "/safety/trials/{trial_id}/dlt-table", response={200: list[SafetyDltTableRowOut], **ERRORS}
)
def safety_dlt_table(request: HttpRequest, trial_id: Id) -> Any:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    return dlt_table(user=request.user, trial=trial)


@router.get("/safety/toxicity-board/meetings", response={200: list[SafetyMeetingOut], **ERRORS})
def safety_meetings(request: HttpRequest) -> Any:
    return toxicity_meetings_for_user(user=request.user)[:500]


@router.post("/safety/toxicity-board/meetings", response={201: SafetyMeetingOut, **ERRORS})
def safety_meeting_create(request: HttpRequest, payload: SafetyMeetingIn) -> Any:
    site = Site.objects.filter(code=payload.site).first()
    if site is None or not roles_on(request.user, site):
        raise NotFoundError(gettext("Unknown site %(site)s.") % {"site": repr(payload.site)})
    meeting = toxicity_meeting_create(
        site=site, held_on=payload.held_on, title=payload.title, by=acting_user(request.user)
    )
    return Status(201, meeting)


@router.get(
    "/safety/toxicity-board/meetings/{meeting_id}/cases",
    response={200: list[SafetyBoardCaseOut], **ERRORS},
)
def safety_meeting_cases(request: HttpRequest, meeting_id: Id) -> Any:
    meeting = toxicity_meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    return list(toxicity_cases(meeting=meeting))


@router.post(
    "/safety/toxicity-board/meetings/{meeting_id}/build-cases",
    response={200: list[SafetyBoardCaseOut], **ERRORS},
)
def safety_meeting_build(request: HttpRequest, meeting_id: Id) -> Any:
    meeting = toxicity_meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    toxicity_cases_build(meeting=meeting, by=acting_user(request.user))
    return list(toxicity_cases(meeting=meeting))


@router.post(
    "/safety/toxicity-board/cases/{case_id}/recommendation",
    response={200: SafetyBoardCaseOut, **ERRORS},
)
def safety_recommend(request: HttpRequest, case_id: Id, payload: SafetyRecommendationIn) -> Any:
    case = toxicity_case_get_for_user(user=request.user, case_id=case_id)
    return toxicity_recommend(
        case=case,
        recommendation=payload.recommendation,
        version=payload.version,
        reason=payload.reason,
        by=acting_user(request.user),
    )
