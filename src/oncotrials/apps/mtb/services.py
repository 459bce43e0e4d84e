"""Writes of the tumour board. Each service owns its transaction, locks and audit event.

Who may do what, at the meeting's site (site-wide memberships; trial-limited ones such as a
sponsor monitor's never reach the board):

- organise (meetings, agenda, cases): tumour-board coordinator, investigator, molecular
  biologist, administrator;
- draft and change recommendations: the same roles;
- sign a recommendation: an investigator of the site, or the meeting's chair.

Agenda rule (``agenda_build``): the current (not superseded) genomic reports of the site's
patients imported from the day of the previous *held or closed* meeting of the site (start of
that day in the site's time zone) up to the end of this meeting's day (or now, if earlier), and
not yet discussed (a report is discussed once it is listed on a case of any meeting). With no
previous meeting, every undiscussed report up to that bound. One case per patient.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext, pgettext

from oncotrials.apps.accounts.access import Action, Target, may, require
from oncotrials.apps.accounts.models import Membership, Site, User
from oncotrials.apps.accounts.services import signing_reauthenticate
from oncotrials.apps.audit.services import audit_record
from oncotrials.apps.genomics.models import GenomicReport
from oncotrials.apps.subjects.models import Patient
from oncotrials.apps.trials.models import Cohort, Trial
from oncotrials.core.errors import (
    ConflictError,
    PermissionDeniedError,
    ValidationError,
)

from .models import (
    MEETING_TRANSITIONS,
    MeetingStatus,
    MtbCase,
    MtbCaseReport,
    MtbMeeting,
    MtbRecommendation,
    MtbReferral,
    RecommendationKind,
)

THERAPY_KINDS = frozenset(
    {RecommendationKind.APPROVED_THERAPY.value, RecommendationKind.OFF_LABEL_THERAPY.value}
)
_UNSET: Any = object()


def _on_site(site_id: int) -> Target:
    """The board is site-wide: trial-limited memberships grant nothing here."""
    return Target(frozenset({site_id}))


def _site_tz(site: Site) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(site.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def day_start(site: Site, day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the site's time zone, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=_site_tz(site))


def _text(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(
            gettext("%(field)s must be text; got %(type)s.")
            % {"field": field, "type": type(value).__name__},
            field=field,
        )
    if "\x00" in value:
        raise ValidationError(
            gettext("%(field)s contains a NUL character; remove it.") % {"field": field},
            field=field,
        )
    text = value.strip()
    if required and not text:
        raise ValidationError(
            gettext("%(field)s is required; got an empty value.") % {"field": field}, field=field
        )
    if len(text) > max_length:
        raise ValidationError(
            gettext("%(field)s is %(n_text)s characters long; at most %(max_length)s are allowed.")
            % {"field": field, "n_text": len(text), "max_length": max_length},
            field=field,
        )
    return text


def _members_of_site(users: Iterable[Any], site: Site, field: str) -> list[Any]:
    given = [u for u in users if u is not None]
    if not given:
        return []
    # One query for every user: who holds an active site-wide membership here.
    members = set(
        Membership.objects.active()
        .filter(user__in=[u.pk for u in given], site=site, trial__isnull=True)
        .values_list("user_id", flat=True)
    )
    out = []
    for u in given:
        if u.pk not in members:
            raise ValidationError(
                gettext(
                    "%(field)s: %(username)s has no membership at %(site)s; only the site's staff "
                    "sit on its board."
                )
                % {"field": field, "username": u.username, "site": site.name},
                field=field,
            )
        out.append(u)
    return out


def _check_version(current: Any, version: int, what: str) -> None:
    if current.version != version:
        raise ConflictError(
            gettext(
                "%(what)s %(id)s was changed meanwhile (now version %(current)s, not "
                "%(version)s); reload it."
            )
            % {"what": what, "id": current.pk, "current": current.version, "version": version},
            current_version=current.version,
        )


def _open(meeting: MtbMeeting, what: str) -> None:
    if meeting.status == MeetingStatus.CLOSED:
        raise ValidationError(
            gettext("The meeting of %(held_on)s is closed; %(what)s is no longer possible.")
            % {"held_on": format(meeting.held_on, "%Y-%m-%d"), "what": what},
            field="meeting",
        )


# -------------------------------------------------------------------------------- meetings


@transaction.atomic
def meeting_create(
    *,
    site: Site,
    held_on: dt.date,
    by: User,
    title: str = "",
    chair: Any = None,
    attendees: Iterable[Any] = (),
) -> MtbMeeting:
    require(by, Action.ORGANISE_BOARD, on=site)
    if not isinstance(held_on, dt.date):
        raise ValidationError(gettext("held_on must be a date (YYYY-MM-DD)."), field="held_on")
    title = _text(title, "title", max_length=200)
    _members_of_site([chair], site, "chair")
    people = _members_of_site(attendees, site, "attendees")
    meeting = MtbMeeting.objects.create(
        site=site, held_on=held_on, title=title, chair=chair, created_by=by
    )
    meeting.attendees.set(people)
    audit_record(
        action="create",
        instance=meeting,
        changes={
            "site": [None, site.code],
            "held_on": [None, held_on],
            "title": [None, title],
            "chair": [None, getattr(chair, "username", None)],
            "attendees": [None, sorted(u.username for u in people)],
        },
        by=by,
    )
    return meeting


@transaction.atomic
def meeting_update(
    *,
    meeting: MtbMeeting,
    version: int,
    by: User,
    status: str | None = None,
    title: str | None = None,
    chair: Any = _UNSET,
    attendees: Iterable[Any] | None = None,
    reason: str = "",
) -> MtbMeeting:
    """Change a meeting: its status (planned → held → closed), title, chair or attendees.

    A meeting closes only when every recommendation on it carries a valid signature.
    """
    require(by, Action.ORGANISE_BOARD, on=_on_site(meeting.site_id))
    current = MtbMeeting.objects.select_for_update().select_related("site").get(pk=meeting.pk)
    _check_version(current, version, pgettext("changed meanwhile", "Meeting"))
    changes: dict[str, list[Any]] = {}
    if current.status == MeetingStatus.CLOSED:
        raise ValidationError(gettext("A closed meeting cannot be changed."), field="status")
    if title is not None:
        new_title = _text(title, "title", max_length=200)
        if new_title != current.title:
            changes["title"] = [current.title, new_title]
            current.title = new_title
    if chair is not _UNSET:
        _members_of_site([chair], current.site, "chair")
        if (chair.pk if chair else None) != current.chair_id:
            changes["chair"] = [
                getattr(current.chair, "username", None),
                getattr(chair, "username", None),
            ]
            current.chair = chair
    if attendees is not None:
        people = _members_of_site(attendees, current.site, "attendees")
        old = sorted(u.username for u in current.attendees.all())
        new = sorted(u.username for u in people)
        if old != new:
            changes["attendees"] = [old, new]
            current.attendees.set(people)
    if status is not None and status != current.status:
        if status not in MeetingStatus.values:
            raise ValidationError(
                gettext("status must be one of %(allowed)s; got %(status)s.")
                % {"allowed": ", ".join(MeetingStatus.values), "status": repr(status)},
                field="status",
            )
        if status not in MEETING_TRANSITIONS[current.status]:
            raise ValidationError(
                gettext(
                    "A meeting in status “%(current)s” cannot move to “%(status)s”; the order "
                    "is planned → held → closed."
                )
                % {
                    "current": MeetingStatus(current.status).label,
                    "status": MeetingStatus(status).label,
                },
                field="status",
            )
        if status == MeetingStatus.HELD:
            site_today = timezone.localtime(timezone.now(), _site_tz(current.site)).date()
            if current.held_on > site_today:
                raise ValidationError(
                    gettext(
                        "The meeting of %(date)s has not taken place yet; mark it held on its day."
                    )
                    % {"date": f"{current.held_on:%Y-%m-%d}"},
                    field="status",
                )
        if status == MeetingStatus.CLOSED:
            unsigned = [
                r.pk
                for r in MtbRecommendation.objects.filter(case__meeting=current)
                if not signature_is_valid(r)
            ]
            if unsigned:
                raise ValidationError(
                    ngettext(
                        "%(n)s recommendation is not signed (id %(ids)s); sign it before "
                        "closing the meeting.",
                        "%(n)s recommendations are not signed (ids %(ids)s); sign them before "
                        "closing the meeting.",
                        len(unsigned),
                    )
                    % {"n": len(unsigned), "ids": ", ".join(map(str, unsigned))},
                    field="status",
                )
        changes["status"] = [current.status, status]
        current.status = status
    if not changes:
        return current
    current.version += 1
    current.save()
    audit_record(
        action="status" if "status" in changes else "update",
        instance=current,
        changes=changes,
        reason=_text(reason, "reason", max_length=1000),
        by=by,
    )
    return current


# ----------------------------------------------------------------------------------- agenda


def agenda_window(meeting: MtbMeeting) -> tuple[dt.datetime | None, dt.datetime]:
    """The import-time window of the agenda: [start of the previous meeting's day, bound)."""
    previous = (
        MtbMeeting.objects.filter(
            site_id=meeting.site_id,
            held_on__lt=meeting.held_on,
            status__in=[MeetingStatus.HELD, MeetingStatus.CLOSED],
        )
        .order_by("-held_on", "-pk")
        .first()
    )
    since = day_start(meeting.site, previous.held_on) if previous else None
    until = min(timezone.now(), day_start(meeting.site, meeting.held_on + dt.timedelta(days=1)))
    return since, until


def agenda_candidates(meeting: MtbMeeting) -> list[GenomicReport]:
    """The reports the agenda rule selects for ``meeting`` (see the module docstring)."""
    since, until = agenda_window(meeting)
    qs = GenomicReport.objects.filter(
        sample__patient__site_id=meeting.site_id,
        superseded=False,
        imported_at__lt=until,
        mtb_case_report__isnull=True,
    )
    if since is not None:
        qs = qs.filter(imported_at__gte=since)
    return list(qs.select_related("sample__patient").order_by("imported_at", "pk"))


@transaction.atomic
def agenda_build(*, meeting: MtbMeeting, by: User) -> list[MtbCase]:
    """Add to the meeting a case per patient with new, undiscussed reports; returns the cases
    created or extended (building twice adds nothing the second time)."""
    require(by, Action.ORGANISE_BOARD, on=_on_site(meeting.site_id))
    locked = MtbMeeting.objects.select_for_update().select_related("site").get(pk=meeting.pk)
    _open(locked, gettext("building its agenda"))
    by_patient: dict[int, list[GenomicReport]] = {}
    for report in agenda_candidates(locked):
        by_patient.setdefault(report.sample.patient_id, []).append(report)
    touched: list[MtbCase] = []
    for patient_id, reports in by_patient.items():
        case = MtbCase.objects.filter(meeting=locked, patient_id=patient_id).first()
        created = case is None
        if case is None:
            case = MtbCase.objects.create(
                meeting=locked,
                patient_id=patient_id,
                reason=f"{len(reports)} new genomic report(s)",
                created_by=by,
            )
        try:
            with transaction.atomic():
                MtbCaseReport.objects.bulk_create(
                    [MtbCaseReport(case=case, report=r) for r in reports]
                )
        except IntegrityError:
            raise ConflictError(
                gettext(
                    "Another agenda claimed some of these reports at the same time; build it again."
                )
            ) from None
        audit_record(
            action="create" if created else "update",
            instance=case,
            changes={"reports": [None, [r.pk for r in reports]]},
            by=by,
        )
        touched.append(case)
    return touched


@transaction.atomic
def case_add(
    *,
    meeting: MtbMeeting,
    patient: Patient,
    reason: str,
    by: User,
    reports: Iterable[GenomicReport] = (),
) -> MtbCase:
    """Put a patient on the agenda by hand (a clinician asks the board), with the reason and,
    optionally, the patient's current, undiscussed reports the case discusses."""
    require(by, Action.ORGANISE_BOARD, on=_on_site(meeting.site_id))
    locked = MtbMeeting.objects.select_for_update().get(pk=meeting.pk)
    _open(locked, gettext("adding a case"))
    reason = _text(reason, "reason", max_length=500, required=True)
    if patient.site_id != locked.site_id:
        raise ValidationError(
            gettext(
                "Patient %(research_id)s belongs to another site; a board discusses the "
                "patients of its own site."
            )
            % {"research_id": patient.research_id},
            field="patient",
        )
    if MtbCase.objects.filter(meeting=locked, patient=patient).exists():
        raise ConflictError(
            gettext("Patient %(research_id)s is already on this meeting's agenda.")
            % {"research_id": patient.research_id}
        )
    chosen = list(reports)
    for r in chosen:
        if r.sample.patient_id != patient.pk or r.superseded:
            raise ValidationError(
                gettext("Report %(r_id)s is not a current report of patient %(research_id)s.")
                % {"r_id": r.pk, "research_id": patient.research_id},
                field="reports",
            )
    if chosen and MtbCaseReport.objects.filter(report__in=chosen).exists():
        raise ConflictError(gettext("Some of these reports were already discussed by the board."))
    case = MtbCase.objects.create(
        meeting=locked, patient=patient, added_by_hand=True, reason=reason, created_by=by
    )
    MtbCaseReport.objects.bulk_create([MtbCaseReport(case=case, report=r) for r in chosen])
    audit_record(
        action="create",
        instance=case,
        changes={
            "patient": [None, patient.research_id],
            "reason": [None, reason],
            "reports": [None, [r.pk for r in chosen]],
        },
        by=by,
    )
    return case


@transaction.atomic
def case_update(
    *,
    case: MtbCase,
    version: int,
    by: User,
    actionable: bool | None = _UNSET,
    notes: str | None = None,
    reason: str = "",
) -> MtbCase:
    """Record the board's judgement of actionability (None: follow the ESCAT tiers) and notes."""
    require(by, Action.RECOMMEND, on=_on_site(case.meeting.site_id))
    current = MtbCase.objects.select_for_update().select_related("meeting").get(pk=case.pk)
    _open(current.meeting, gettext("changing its cases"))
    _check_version(current, version, pgettext("changed meanwhile", "Case"))
    changes: dict[str, list[Any]] = {}
    if actionable is not _UNSET:
        if actionable not in (True, False, None):
            raise ValidationError(
                gettext("actionable must be true, false or null; got %(actionable)s.")
                % {"actionable": repr(actionable)},
                field="actionable",
            )
        if actionable != current.actionable:
            changes["actionable"] = [current.actionable, actionable]
            current.actionable = actionable
    if notes is not None:
        text = _text(notes, "notes", max_length=4000)
        if text != current.notes:
            changes["notes"] = [current.notes, text]
            current.notes = text
    if not changes:
        return current
    current.version += 1
    current.save()
    audit_record(
        action="update",
        instance=current,
        changes=changes,
        reason=_text(reason, "reason", max_length=1000),
        by=by,
    )
    return current


# -------------------------------------------------------------------------- recommendations

CONTENT_FIELDS = ("kind", "trial_id", "cohort_id", "therapy", "rationale")


def recommendation_fingerprint(rec: MtbRecommendation) -> str:
    """SHA-256 of what a signature covers: the case and the recommendation's content."""
    content = {"case": rec.case_id} | {f: getattr(rec, f) for f in CONTENT_FIELDS}
    raw = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def signature_is_valid(rec: MtbRecommendation) -> bool:
    """A signature holds while the recommendation is unchanged, by whatever path."""
    return bool(rec.signed_at and rec.signed_fingerprint == recommendation_fingerprint(rec))


def _clean_recommendation(
    case: MtbCase,
    kind: Any,
    rationale: Any,
    trial: Trial | None,
    cohort: Cohort | None,
    therapy: Any,
) -> dict[str, Any]:
    if kind not in RecommendationKind.values:
        raise ValidationError(
            gettext("kind must be one of %(allowed)s; got %(kind)s.")
            % {"allowed": ", ".join(RecommendationKind.values), "kind": repr(kind)},
            field="kind",
        )
    rationale = _text(rationale, "rationale", max_length=4000, required=True)
    therapy = _text(therapy, "therapy", max_length=200)
    if kind == RecommendationKind.TRIAL_REFERRAL:
        if trial is None:
            raise ValidationError(gettext("A trial referral names its trial."), field="trial")
        if not trial.trial_sites.filter(site_id=case.meeting.site_id).exists():
            raise ValidationError(
                gettext("%(protocol_code)s does not run at %(site)s; refer to a trial of the site.")
                % {"protocol_code": trial.protocol_code, "site": case.meeting.site.name},
                field="trial",
            )
        if cohort is not None and cohort.trial_id != trial.pk:
            raise ValidationError(
                gettext("Cohort %(cohort)s is not part of %(protocol_code)s.")
                % {"cohort": cohort.code, "protocol_code": trial.protocol_code},
                field="cohort",
            )
        if therapy:
            raise ValidationError(
                gettext("A trial referral has no therapy; the trial and cohort say it."),
                field="therapy",
            )
    else:
        if trial is not None or cohort is not None:
            raise ValidationError(
                gettext(
                    "Only a trial referral names a trial or cohort; got one with kind %(kind)s."
                )
                % {"kind": repr(kind)},
                field="trial" if trial is not None else "cohort",
            )
        if kind in THERAPY_KINDS and not therapy:
            raise ValidationError(
                gettext("An approved or off-label therapy recommendation names the therapy."),
                field="therapy",
            )
    return {
        "kind": kind,
        "rationale": rationale,
        "trial": trial,
        "cohort": cohort,
        "therapy": therapy,
    }


@transaction.atomic
def recommendation_create(
    *,
    case: MtbCase,
    kind: str,
    rationale: str,
    by: User,
    trial: Trial | None = None,
    cohort: Cohort | None = None,
    therapy: str = "",
) -> MtbRecommendation:
    require(by, Action.RECOMMEND, on=_on_site(case.meeting.site_id))
    locked = (
        MtbCase.objects.select_for_update()
        .select_related("meeting__site", "patient")  # the patient: the audit event names it
        .get(pk=case.pk)
    )
    _open(locked.meeting, gettext("recording a recommendation"))
    data = _clean_recommendation(locked, kind, rationale, trial, cohort, therapy)
    rec = MtbRecommendation.objects.create(case=locked, created_by=by, **data)
    audit_record(
        action="create",
        instance=rec,
        changes={f: [None, getattr(rec, f)] for f in CONTENT_FIELDS},
        by=by,
    )
    return rec


@transaction.atomic
def recommendation_update(
    *,
    recommendation: MtbRecommendation,
    version: int,
    by: User,
    reason: str,
    kind: Any = _UNSET,
    rationale: Any = _UNSET,
    trial: Any = _UNSET,
    cohort: Any = _UNSET,
    therapy: Any = _UNSET,
) -> MtbRecommendation:
    """Change a recommendation (with the reason). A signature it carried no longer holds."""
    rec = (
        MtbRecommendation.objects.select_for_update(of=("self",))
        .select_related("case__meeting__site", "trial", "cohort")
        .get(pk=recommendation.pk)
    )
    require(by, Action.RECOMMEND, on=_on_site(rec.case.meeting.site_id))
    _open(rec.case.meeting, gettext("changing its recommendations"))
    _check_version(rec, version, pgettext("changed meanwhile", "Recommendation"))
    reason = _text(reason, "reason", max_length=1000, required=True)
    data = _clean_recommendation(
        rec.case,
        rec.kind if kind is _UNSET else kind,
        rec.rationale if rationale is _UNSET else rationale,
        rec.trial if trial is _UNSET else trial,
        rec.cohort if cohort is _UNSET else cohort,
        rec.therapy if therapy is _UNSET else therapy,
    )
    was_signed = signature_is_valid(rec)
    before = {f: getattr(rec, f) for f in CONTENT_FIELDS}
    for name, value in data.items():
        setattr(rec, name, value)
    after = {f: getattr(rec, f) for f in CONTENT_FIELDS}
    changes: dict[str, list[Any]] = {
        f: [before[f], after[f]] for f in after if before[f] != after[f]
    }
    if not changes:
        return rec
    if was_signed:
        changes["signature"] = [f"valid ({rec.signed_name})", "invalidated by this change"]
    rec.version += 1
    rec.updated_at = timezone.now()
    rec.save()
    audit_record(action="update", instance=rec, changes=changes, reason=reason, by=by)
    return rec


def recommendation_sign(
    *, recommendation: MtbRecommendation, meaning: str, password: str, by: User
) -> MtbRecommendation:
    """The board signs a recommendation: an investigator of the site or the meeting's chair,
    with their password, at a held meeting. A signed trial referral opens (or updates) its
    referral; a re-signed recommendation that is no longer a referral withdraws it."""
    (signed,) = recommendations_sign(
        recommendations=[recommendation], meaning=meaning, password=password, by=by
    )
    return signed


def recommendations_sign(
    *, recommendations: Iterable[MtbRecommendation], meaning: str, password: str, by: User
) -> list[MtbRecommendation]:
    """Sign several recommendations in one continuous session, all or nothing, with one entry
    of the password (21 CFR 11.200(a)(1)(i): the first signing of a series uses every
    component, the following ones at least one). Each is checked as ``recommendation_sign``.

    The password is checked by ``accounts.signing_reauthenticate`` (wrong ones audited, signing
    locked after repeated ones) once the recommendations are known signable, in its own
    transaction; they are checked again under lock when the signatures are applied."""
    meaning = _text(meaning, "meaning", max_length=200, required=True)
    ids = sorted({r.pk for r in recommendations})
    if not ids:
        raise ValidationError(
            gettext("Choose at least one recommendation to sign."), field="recommendations"
        )
    _check_signable(
        MtbRecommendation.objects.select_related("case__meeting__site").filter(pk__in=ids), by
    )
    signing_reauthenticate(user=by, password=password)
    return _recommendations_apply(ids=ids, meaning=meaning, by=by)


def _check_signable(recs: Iterable[MtbRecommendation], by: User) -> None:
    for rec in recs:
        meeting = rec.case.meeting
        is_chair = meeting.chair_id is not None and meeting.chair_id == by.pk
        if not is_chair and not may(by, Action.SIGN_RECOMMENDATION, on=_on_site(meeting.site_id)):
            raise PermissionDeniedError(
                gettext(
                    "Only an investigator of the site or the meeting's chair signs for the board."
                )
            )
        if meeting.status != MeetingStatus.HELD:
            raise ValidationError(
                gettext(
                    "The board signs at a held meeting; the meeting of %(held_on)s is %(status)s."
                )
                % {"held_on": format(meeting.held_on, "%Y-%m-%d"), "status": meeting.status},
                field="meeting",
            )
        if signature_is_valid(rec):
            raise ConflictError(
                gettext("Recommendation %(rec_id)s is already signed by %(signed_name)s.")
                % {"rec_id": rec.pk, "signed_name": rec.signed_name}
            )


@transaction.atomic
def _recommendations_apply(*, ids: list[int], meaning: str, by: User) -> list[MtbRecommendation]:
    locked = list(
        MtbRecommendation.objects.select_for_update()
        .select_related("case__meeting__site", "case__patient")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    _check_signable(locked, by)
    now = timezone.now()
    name = (by.get_full_name() or by.username)[:300]
    for rec in locked:
        previous = rec.signed_name or None
        rec.signed_by = by
        rec.signed_name = name
        rec.signed_at = now
        rec.signature_meaning = meaning
        rec.signed_fingerprint = recommendation_fingerprint(rec)
        rec.save()
        audit_record(
            action="sign",
            instance=rec,
            changes={
                "signed_by": [previous, rec.signed_name],
                "meaning": [None, meaning],
                "fingerprint": [None, rec.signed_fingerprint],
            },
            by=by,
        )
        _sync_referral(rec, by)
    return locked


def _sync_referral(rec: MtbRecommendation, by: User) -> None:
    referral = MtbReferral.objects.select_for_update().filter(recommendation=rec).first()
    if rec.kind == RecommendationKind.TRIAL_REFERRAL:
        assert rec.trial_id is not None  # the check constraint and the cleaning ensure it
        if referral is None:
            referral = MtbReferral.objects.create(
                recommendation=rec,
                patient_id=rec.case.patient_id,
                trial_id=rec.trial_id,
                cohort_id=rec.cohort_id,
                opened_on=rec.case.meeting.held_on,
            )
            audit_record(
                action="create",
                instance=referral,
                changes={"trial": [None, rec.trial_id], "cohort": [None, rec.cohort_id]},
                by=by,
            )
            return
        changes: dict[str, list[Any]] = {}
        if (referral.trial_id, referral.cohort_id) != (rec.trial_id, rec.cohort_id):
            changes["trial"] = [referral.trial_id, rec.trial_id]
            changes["cohort"] = [referral.cohort_id, rec.cohort_id]
            referral.trial_id, referral.cohort_id = rec.trial_id, rec.cohort_id
        if referral.withdrawn_at is not None:
            changes["withdrawn_at"] = [referral.withdrawn_at, None]
            referral.withdrawn_at = None
        if changes:
            referral.save()
            audit_record(action="update", instance=referral, changes=changes, by=by)
    elif referral is not None and referral.withdrawn_at is None:
        referral.withdrawn_at = timezone.now()
        referral.save(update_fields=["withdrawn_at"])
        audit_record(
            action="status",
            instance=referral,
            changes={"withdrawn_at": [None, referral.withdrawn_at]},
            reason=f"The signed recommendation is now {rec.get_kind_display().lower()}.",
            by=by,
        )


def trial_for_recommendation(*, trial_id: int | None, cohort_id: int | None) -> tuple[Any, Any]:
    """Resolve the trial and cohort ids of a request (unknown ids answer a clear 422)."""
    trial = cohort = None
    if trial_id is not None:
        trial = Trial.objects.filter(pk=trial_id).first()
        if trial is None:
            raise ValidationError(
                gettext("No trial %(trial_id)s.") % {"trial_id": trial_id}, field="trial_id"
            )
    if cohort_id is not None:
        cohort = Cohort.objects.filter(pk=cohort_id).first()
        if cohort is None:
            raise ValidationError(
                gettext("No cohort %(cohort_id)s.") % {"cohort_id": cohort_id}, field="cohort_id"
            )
    return trial, cohort
