"""Toxicity board: meetings of a site, the case list of grade >= 3 immune-related or unexpected
AEs, and the board's recommendations."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action, require
from oncotrials.apps.accounts.models import Site, User
from oncotrials.apps.audit.services import audit_record
from oncotrials.core.errors import ConflictError, ValidationError

from .models import AdverseEvent, RecordStatus, ToxicityBoardCase, ToxicityBoardMeeting


@transaction.atomic
def toxicity_meeting_create(
    *, site: Site, held_on: dt.date, title: str, by: User
) -> ToxicityBoardMeeting:
    require(by, Action.SIT_ON_TOXICITY_BOARD, on=site)
    if not title.strip():
        raise ValidationError(gettext("Give the meeting a title."), field="title")
    meeting = ToxicityBoardMeeting.objects.create(
        site=site, held_on=held_on, title=title.strip(), created_by=by
    )
    audit_record(
        action="create",
        instance=meeting,
        changes={"held_on": [None, held_on], "title": [None, title]},
        by=by,
    )
    return meeting


def _why(ae: AdverseEvent) -> str:
    reasons = []
    if ae.immune_related:
        reasons.append("immune-related")
    if not ae.expected:
        reasons.append("unexpected")
    return f"grade {ae.grade} " + " and ".join(reasons)


@transaction.atomic
def toxicity_cases_build(*, meeting: ToxicityBoardMeeting, by: User) -> list[ToxicityBoardCase]:
    """Add to the agenda every complete grade >= 3 immune-related or unexpected AE of the site
    not yet reviewed by a meeting."""
    from django.db.models import Q

    require(by, Action.SIT_ON_TOXICITY_BOARD, on=meeting.site)
    candidates = (
        AdverseEvent.objects.filter(
            registration__patient__site=meeting.site,
            voided_at__isnull=True,
            status=RecordStatus.COMPLETE,
            grade__gte=3,
        )
        .filter(Q(immune_related=True) | Q(expected=False))
        .exclude(toxicity_cases__isnull=False)
        .order_by("pk")
    )
    created = []
    for ae in candidates:
        case = ToxicityBoardCase.objects.create(meeting=meeting, adverse_event=ae, why=_why(ae))
        audit_record(
            action="create", instance=case, changes={"adverse_event": [None, ae.pk]}, by=by
        )
        created.append(case)
    return created


@transaction.atomic
def toxicity_recommend(
    *, case: ToxicityBoardCase, recommendation: str, version: int, by: User, reason: str = ""
) -> ToxicityBoardCase:
    require(by, Action.ADJUDICATE_DLT, on=case.meeting.site)
    current = ToxicityBoardCase.objects.select_for_update().get(pk=case.pk)
    if current.version != version:
        raise ConflictError(
            gettext("Case %(current_id)s is now version %(current)s, not %(edited)s; reload it.")
            % {"current_id": current.pk, "current": current.version, "edited": version},
            current_version=current.version,
        )
    if not recommendation.strip():
        raise ValidationError(gettext("Write the board's recommendation."), field="recommendation")
    if current.recommendation and not reason.strip():
        raise ValidationError(
            gettext("Give a reason for changing the recommendation."), field="reason"
        )
    old = current.recommendation
    current.recommendation = recommendation.strip()
    current.recommended_by, current.recommended_at = by, timezone.now()
    current.version += 1
    current.save()
    audit_record(
        action="update",
        instance=current,
        changes={"recommendation": [old or None, current.recommendation]},
        reason=reason,
        by=by,
    )
    return current
