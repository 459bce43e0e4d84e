"""Reads of the tumour board, always through the caller's memberships.

The board belongs to a site: its meetings, cases, recommendations and referrals are visible to
site-wide members of that site (and administrators). Trial-limited memberships (a sponsor
monitor) never see the board.

Referral state (``referral_state``) is read from the patient journey in the referred trial,
counting only what started on or after the board's meeting day:

- ``included``: a registration in the trial;
- otherwise the latest screening episode decides: a pending or eligible molecular pre-screening
  is ``pre_screening``, a pending or eligible screening is ``screening``; a failed episode is
  ``declined`` when the reason is the patient's decision or a withdrawn consent, else
  ``ineligible``;
- with no episode, ``referred`` (awaiting pre-screening); a withdrawn referral is ``withdrawn``.

Funnel (``funnel``): per site and period (report date: the report's date, else its import day),
*screened* patients have a current genomic report dated in the period; *actionable* ones among
them have a current alteration of ESCAT tier I or II, unless the board documented otherwise on
their latest case (its ``actionable`` answer wins, either way); *referred* ones have an open
(not withdrawn) referral; *included* ones have a referral whose state is ``included``. The time
from report to inclusion runs from the patient's first report in the period to the registration.
"""

from __future__ import annotations

import datetime as dt
import logging
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action, Target, may, scope_for
from oncotrials.apps.accounts.models import Actor, Site
from oncotrials.apps.crfs.models import FormInstance
from oncotrials.apps.genomics.models import (
    Biomarker,
    CopyNumberAlteration,
    GenomicReport,
    Mutation,
    StructuralVariant,
)
from oncotrials.apps.genomics.selectors import (
    SerialSeries,
    TimelineSample,
    patient_genomic_timeline,
    serial_pairs,
)
from oncotrials.apps.matching.engine import matches_for_patient
from oncotrials.apps.subjects.models import (
    ObservationKind,
    Patient,
    PriorTherapyLine,
    Registration,
    ScreenFailureReason,
    ScreeningEpisode,
    ScreeningKind,
    ScreeningOutcome,
    advanced_line_count,
)
from oncotrials.apps.subjects.selectors import (
    pre_registration_visible_to,
    registrations_visible_to,
    screenings_visible_to,
)
from oncotrials.core.errors import NotFoundError
from oncotrials.core.genomics.oncotree import load_oncotree

from .models import MtbCase, MtbMeeting, MtbRecommendation, MtbReferral
from .services import signature_is_valid

logger = logging.getLogger(__name__)
ACTIONABLE_TIERS = ("I-A", "I-B", "I-C", "II-A", "II-B")
DECLINED_REASONS = frozenset(
    {ScreenFailureReason.PATIENT_DECISION.value, ScreenFailureReason.CONSENT_WITHDRAWN.value}
)
REFERRAL_STATES = (
    "referred",
    "pre_screening",
    "screening",
    "included",
    "declined",
    "ineligible",
    "withdrawn",
)
MAX_ID = 2**62


def board_site_ids(user: Actor) -> list[int] | None:
    """Sites whose board the user sees (None: every site, for an administrator)."""
    scope = scope_for(user)
    if scope.is_admin:
        return None
    return sorted(scope.site_roles)


def _scoped(qs: QuerySet[Any], user: Actor, path: str) -> QuerySet[Any]:
    ids = board_site_ids(user)
    return qs if ids is None else qs.filter(**{f"{path}__in": ids})


def sites_for_user(user: Actor) -> QuerySet[Site]:
    return _scoped(Site.objects.all(), user, "pk")


def meetings_for_user(*, user: Actor, site: Site | None = None) -> QuerySet[MtbMeeting]:
    qs = _scoped(MtbMeeting.objects.select_related("site", "chair"), user, "site_id")
    if site is not None:
        qs = qs.filter(site=site)
    return qs


def meeting_get_for_user(*, user: Actor, meeting_id: int) -> MtbMeeting:
    meeting = (
        meetings_for_user(user=user).filter(pk=meeting_id).first()
        if 0 < meeting_id < MAX_ID
        else None
    )
    if meeting is None:
        raise NotFoundError(
            gettext("No tumour-board meeting %(meeting_id)s that you may see.")
            % {"meeting_id": meeting_id}
        )
    return meeting


def cases_of(*, meeting: MtbMeeting) -> QuerySet[MtbCase]:
    return (
        meeting.cases.select_related("patient")
        .prefetch_related(
            Prefetch(
                "reports",
                queryset=GenomicReport.objects.select_related("sample").order_by("imported_at"),
            ),
            Prefetch(
                "recommendations",
                queryset=MtbRecommendation.objects.select_related("trial", "cohort"),
            ),
        )
        .order_by("patient__research_id", "pk")
    )


def case_get_for_user(*, user: Actor, case_id: int) -> MtbCase:
    case = (
        _scoped(MtbCase.objects.all(), user, "meeting__site_id")
        .filter(pk=case_id)
        .select_related("meeting__site", "meeting__chair", "patient__site")
        .first()
        if 0 < case_id < MAX_ID
        else None
    )
    if case is None:
        raise NotFoundError(
            gettext("No tumour-board case %(case_id)s that you may see.") % {"case_id": case_id}
        )
    return case  # type: ignore[no-any-return]


def recommendation_get_for_user(*, user: Actor, recommendation_id: int) -> MtbRecommendation:
    rec = (
        _scoped(MtbRecommendation.objects.all(), user, "case__meeting__site_id")
        .filter(pk=recommendation_id)
        .select_related("case__meeting__site", "case__patient", "trial", "cohort", "signed_by")
        .first()
        if 0 < recommendation_id < MAX_ID
        else None
    )
    if rec is None:
        raise NotFoundError(
            gettext("No tumour-board recommendation %(recommendation_id)s that you may see.")
            % {"recommendation_id": recommendation_id}
        )
    return rec  # type: ignore[no-any-return]


def patient_for_board(*, user: Actor, patient_id: int) -> Patient:
    """A patient of a site whose board the user sees (for adding a case by hand)."""
    patient = (
        _scoped(Patient.objects.all(), user, "site_id").filter(pk=patient_id).first()
        if 0 < patient_id < MAX_ID
        else None
    )
    if patient is None:
        raise NotFoundError(
            gettext("No patient %(patient_id)s that you may see.") % {"patient_id": patient_id}
        )
    return patient  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------ signatures
@dataclass(frozen=True)
class SignatureView:
    signed: bool  # signed at some point
    valid: bool
    name: str
    at: dt.datetime | None
    meaning: str

    @property
    def label(self) -> str:
        if not self.signed:
            return "not signed"
        return "signed" if self.valid else "signature invalidated by a later change"


def signature_view(rec: MtbRecommendation) -> SignatureView:
    return SignatureView(
        bool(rec.signed_at),
        signature_is_valid(rec),
        rec.signed_name,
        rec.signed_at,
        rec.signature_meaning,
    )


# ------------------------------------------------------------------------------- referrals
@dataclass(frozen=True)
class ReferralState:
    state: str
    on: dt.date | None
    detail: str = ""


def _journey(
    patient_trials: Iterable[tuple[int, int]],
) -> tuple[
    dict[tuple[int, int], list[ScreeningEpisode]], dict[tuple[int, int], list[Registration]]
]:
    pairs = set(patient_trials)
    episodes: dict[tuple[int, int], list[ScreeningEpisode]] = defaultdict(list)
    regs: dict[tuple[int, int], list[Registration]] = defaultdict(list)
    if not pairs:
        return episodes, regs
    patients = {p for p, _ in pairs}
    trials = {t for _, t in pairs}
    for e in ScreeningEpisode.objects.filter(patient_id__in=patients, trial_id__in=trials):
        if (e.patient_id, e.trial_id) in pairs:
            episodes[(e.patient_id, e.trial_id)].append(e)
    for r in Registration.objects.filter(patient_id__in=patients, trial_id__in=trials):
        if (r.patient_id, r.trial_id) in pairs:
            regs[(r.patient_id, r.trial_id)].append(r)
    return episodes, regs


def _state(
    referral: MtbReferral, episodes: list[ScreeningEpisode], regs: list[Registration]
) -> ReferralState:
    if referral.withdrawn_at is not None:
        return ReferralState("withdrawn", referral.withdrawn_at.date(), "recommendation changed")
    since = referral.opened_on
    mine = sorted((r for r in regs if r.registered_on >= since), key=lambda r: r.registered_on)
    if mine:
        return ReferralState("included", mine[0].registered_on, str(mine[0].cohort_id))
    eps = sorted((e for e in episodes if e.started_on >= since), key=lambda e: (e.started_on, e.pk))
    if not eps:
        return ReferralState("referred", referral.opened_on)
    last = eps[-1]
    if last.outcome == ScreeningOutcome.FAILED:
        state = "declined" if last.failure_reason in DECLINED_REASONS else "ineligible"
        return ReferralState(state, last.closed_on or last.started_on, last.failure_reason)
    state = "pre_screening" if last.kind == ScreeningKind.PRE_SCREENING else "screening"
    return ReferralState(state, last.started_on, last.outcome)


def referral_states(referrals: Iterable[MtbReferral]) -> dict[int, ReferralState]:
    """The journey state of each referral (two queries for the lot)."""
    items = list(referrals)
    episodes, regs = _journey((r.patient_id, r.trial_id) for r in items)
    return {
        r.pk: _state(r, episodes[(r.patient_id, r.trial_id)], regs[(r.patient_id, r.trial_id)])
        for r in items
    }


def referral_state(referral: MtbReferral) -> ReferralState:
    return referral_states([referral])[referral.pk]


def referrals_for_user(
    *, user: Actor, site: Site | None = None, state: str = ""
) -> list[tuple[MtbReferral, ReferralState]]:
    qs = _scoped(
        MtbReferral.objects.select_related(
            "patient", "trial", "cohort", "recommendation__case__meeting"
        ),
        user,
        "patient__site_id",
    )
    if site is not None:
        qs = qs.filter(patient__site=site)
    rows = list(qs.order_by("-opened_on", "-pk")[:2000])
    states = referral_states(rows)
    out = [(r, states[r.pk]) for r in rows]
    if state:
        out = [(r, s) for r, s in out if s.state == state]
    return out


def referral_get_for_user(*, user: Actor, referral_id: int) -> MtbReferral:
    ref = (
        _scoped(MtbReferral.objects.all(), user, "patient__site_id")
        .filter(pk=referral_id)
        .select_related("patient", "trial", "cohort")
        .first()
        if 0 < referral_id < MAX_ID
        else None
    )
    if ref is None:
        raise NotFoundError(
            gettext("No referral %(referral_id)s that you may see.") % {"referral_id": referral_id}
        )
    return ref  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------- case view
@dataclass
class ClinicalSummary:
    research_id: str
    site: str
    diagnosis: str
    diagnosis_name: str
    age: int | None
    sex: str
    ecog: str | None
    ecog_on: str | None
    prior_lines: int | None
    journey: str
    # the prior lines recorded at referral or pre-screening, by line number
    therapy_lines: list[PriorTherapyLine] = field(default_factory=list)
    # whether the viewer may see what was recorded outside any registration (subjects' rule)
    pre_registration_shown: bool = True


def _latest_form_value(
    registrations: QuerySet[Registration], form: str, key: str
) -> tuple[Any, str | None]:
    """The latest value of one eCRF field across these registrations."""
    best: tuple[str, Any] | None = None
    for inst in FormInstance.objects.filter(
        registration__in=registrations, form_name=form
    ).order_by("updated_at", "pk"):
        value = inst.data.get(key) if isinstance(inst.data, dict) else None
        if value in (None, ""):
            continue
        when = str(inst.data.get("assessed_on") or inst.data.get("diagnosed_on") or "")
        if best is None or when >= best[0]:
            best = (when, value)
    return (best[1], best[0] or None) if best else (None, None)


def journey_status(patient: Patient, user: Actor) -> str:
    """One line: the latest registration, else the latest screening, else the referral (of
    those the user may see)."""
    reg = (
        registrations_visible_to(user)
        .filter(patient=patient)
        .select_related("trial")
        .order_by("-registered_on", "-pk")
        .first()
    )
    if reg is not None:
        return f"{reg.get_status_display()} — {reg.trial.protocol_code}"
    ep = (
        screenings_visible_to(user)
        .filter(patient=patient)
        .select_related("trial")
        .order_by("-started_on", "-pk")
        .first()
    )
    if ep is not None:
        return (
            f"{ep.get_kind_display()} {ep.get_outcome_display().lower()} — {ep.trial.protocol_code}"
        )
    return f"Referred ({patient.get_referral_source_display()})"


def clinical_summary(
    patient: Patient, *, user: Actor, today: dt.date | None = None
) -> ClinicalSummary:
    """The case's clinical summary as ``user`` may read it: casebook values from the
    registrations they may see; values recorded outside any registration (ECOG at referral or
    screening, prior lines) under the patient page's rule (``pre_registration_visible_to``)."""
    today = today or timezone.localdate()
    tree = load_oncotree()
    code = tree.resolve(patient.diagnosis or "") if patient.diagnosis else None
    registrations = registrations_visible_to(user).filter(patient=patient)
    shown = pre_registration_visible_to(user=user, site_id=patient.site_id)
    ecog, ecog_on = _latest_form_value(registrations, "ecog", "performance_status")
    before = (
        patient.baseline_observations.filter(kind=ObservationKind.ECOG)
        .order_by("-observed_on", "-pk")
        .first()
        if shown
        else None
    )
    if before is not None and (ecog_on is None or before.observed_on.isoformat() >= ecog_on):
        ecog, ecog_on = int(before.value), before.observed_on.isoformat()
    # The prior lines recorded at referral or pre-screening, counted as matching counts them;
    # the casebook's medical history only when none is recorded (or none may be seen).
    therapy_lines = list(patient.prior_therapy_lines.order_by("line")) if shown else []
    prior: int | None
    if therapy_lines:
        prior = advanced_line_count((t.line, t.setting) for t in therapy_lines)
    else:
        lines, _ = _latest_form_value(registrations, "medical_history", "prior_lines")
        try:
            prior = int(lines) if lines is not None else None
        except (TypeError, ValueError):
            prior = None
    return ClinicalSummary(
        research_id=patient.research_id,
        site=patient.site.name,
        diagnosis=code or patient.diagnosis,
        diagnosis_name=tree.get(code).name if code else "",
        # Only the year of birth is research data: the age is the age reached this year.
        age=today.year - patient.year_of_birth if patient.year_of_birth else None,
        sex=patient.get_sex_display(),
        ecog=str(ecog) if ecog is not None else None,
        ecog_on=ecog_on,
        prior_lines=prior,
        journey=journey_status(patient, user),
        therapy_lines=therapy_lines,
        pre_registration_shown=shown,
    )


@dataclass
class CaseDetail:
    case: MtbCase
    summary: ClinicalSummary
    timeline: list[TimelineSample]
    serial: SerialSeries  # acquired resistance between the patient's serial samples
    matches: list[Any] | None  # None: the matching engine is not available
    matches_error: str
    recommendations: list[tuple[MtbRecommendation, SignatureView, ReferralState | None]]
    computed_actionable: bool
    actionable: bool


def _matches(user: Actor, patient: Patient) -> tuple[list[Any] | None, str]:
    """Open cohorts (and levels) the patient matches, from the matching engine."""
    from oncotrials.core.errors import OncotrialsError

    try:
        found = matches_for_patient(user=user, patient=patient)
    except OncotrialsError as exc:
        return None, exc.message
    except Exception:  # the board must stay usable when the engine fails; the log keeps it
        logger.exception("Trial matching failed for patient %s", patient.pk)
        return None, "Trial matching is unavailable at the moment (the error is logged)."
    return [m for m in found if m.matched and m.open], ""


def case_detail(*, user: Actor, case: MtbCase) -> CaseDetail:
    patient = case.patient
    timeline = patient_genomic_timeline(patient=patient, user=user)
    computed = any(a.tier in ACTIONABLE_TIERS for sample in timeline for a in sample.alterations)
    matches, error = _matches(user, patient)
    recs = list(case.recommendations.select_related("trial", "cohort").order_by("pk"))
    referrals = {
        r.recommendation_id: r for r in MtbReferral.objects.filter(recommendation__in=recs)
    }
    states = referral_states(referrals.values())
    return CaseDetail(
        case=case,
        summary=clinical_summary(patient, user=user),
        timeline=timeline,
        # The case is read through the board's site scope; the therapy of each pair comes from
        # the registrations the viewer may see (accounts.access through subjects).
        serial=serial_pairs(patient=patient, user=user),
        matches=matches,
        matches_error=error,
        recommendations=[
            (
                r,
                signature_view(r),
                states[referrals[r.pk].pk] if r.pk in referrals else None,
            )
            for r in recs
        ],
        computed_actionable=computed,
        actionable=computed if case.actionable is None else case.actionable,
    )


def latest_case_links(user: Actor, patient_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Per patient, the latest tumour-board case the user may see: (label, url). Registered
    with the genomics atlas (``wiring``)."""
    out: dict[int, tuple[str, str]] = {}
    for case in (
        _scoped(MtbCase.objects.filter(patient_id__in=patient_ids), user, "meeting__site_id")
        .select_related("meeting")
        .order_by("patient_id", "-meeting__held_on", "-pk")
    ):
        if case.patient_id not in out:
            label = f"{gettext('tumour board')} {case.meeting.held_on:%Y-%m-%d}"
            out[case.patient_id] = (label, reverse("mtb-case", args=[case.pk]))
    return out


def may_organise(user: Actor, site_id: int) -> bool:
    return may(user, Action.ORGANISE_BOARD, on=Target(frozenset({site_id})))


def may_sign(user: Actor, meeting: MtbMeeting) -> bool:
    return meeting.chair_id == getattr(user, "pk", None) or may(
        user, Action.SIGN_RECOMMENDATION, on=Target(frozenset({meeting.site_id}))
    )


# ---------------------------------------------------------------------------------- funnel
@dataclass
class FunnelRow:
    site_code: str
    site_name: str
    screened: int = 0
    actionable: int = 0
    referred: int = 0
    included: int = 0
    days_to_inclusion: list[int] = field(default_factory=list)

    @property
    def median_days_to_inclusion(self) -> float | None:
        return statistics.median(self.days_to_inclusion) if self.days_to_inclusion else None

    def add(self, other: FunnelRow) -> None:
        self.screened += other.screened
        self.actionable += other.actionable
        self.referred += other.referred
        self.included += other.included
        self.days_to_inclusion += other.days_to_inclusion


@dataclass
class Funnel:
    date_from: dt.date | None
    date_to: dt.date | None
    rows: list[FunnelRow]
    total: FunnelRow


def _report_day(reported_on: dt.date | None, imported_at: dt.datetime) -> dt.date:
    return reported_on or timezone.localtime(imported_at, dt.UTC).date()


def funnel(
    *,
    user: Actor,
    site: Site | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Funnel:
    """The referral funnel per site (see the module docstring for the definitions)."""
    sites = list(sites_for_user(user).order_by("name"))
    if site is not None:
        sites = [s for s in sites if s.pk == site.pk]
    site_ids = [s.pk for s in sites]
    # Screened: first current report dated in the period, per patient.
    first_report: dict[int, dt.date] = {}
    site_of: dict[int, int] = {}
    report_ids: list[int] = []
    for rid, pid, sid, reported_on, imported_at in GenomicReport.objects.filter(
        sample__patient__site_id__in=site_ids, superseded=False
    ).values_list(
        "pk", "sample__patient_id", "sample__patient__site_id", "reported_on", "imported_at"
    ):
        day = _report_day(reported_on, imported_at)
        if (date_from and day < date_from) or (date_to and day > date_to):
            continue
        report_ids.append(rid)
        site_of[pid] = sid
        if pid not in first_report or day < first_report[pid]:
            first_report[pid] = day
    screened = set(first_report)
    # Actionable: a tier I-II alteration on one of those reports, unless the board said otherwise.
    tiered: set[int] = set()
    for model in (Mutation, CopyNumberAlteration, StructuralVariant, Biomarker):
        for chunk in _chunks(report_ids, 5000):
            tiered.update(
                model.objects.filter(
                    report_id__in=chunk, current=True, escat_tier__in=ACTIONABLE_TIERS
                )
                .values_list("patient_id", flat=True)
                .distinct()
            )
    board: dict[int, bool] = {}
    for pid, answer in (
        MtbCase.objects.filter(patient_id__in=screened, actionable__isnull=False)
        .order_by("meeting__held_on", "pk")
        .values_list("patient_id", "actionable")
    ):
        board[pid] = bool(answer)  # later cases overwrite earlier ones
    actionable = {p for p in screened if board.get(p, p in tiered)}
    # Referred and included.
    referrals = list(
        MtbReferral.objects.filter(patient_id__in=screened, withdrawn_at__isnull=True).order_by(
            "opened_on", "pk"
        )
    )
    states = referral_states(referrals)
    referred: set[int] = set()
    included_on: dict[int, dt.date] = {}
    for r in referrals:
        referred.add(r.patient_id)
        s = states[r.pk]
        if s.state == "included" and s.on is not None:
            prev = included_on.get(r.patient_id)
            included_on[r.patient_id] = s.on if prev is None else min(prev, s.on)
    rows = {s.pk: FunnelRow(s.code, s.name) for s in sites}
    for pid in screened:
        row = rows[site_of[pid]]
        row.screened += 1
        row.actionable += pid in actionable
        row.referred += pid in referred
        if pid in included_on:
            row.included += 1
            row.days_to_inclusion.append((included_on[pid] - first_report[pid]).days)
    total = FunnelRow("all", "All sites")
    for row in rows.values():
        row.days_to_inclusion.sort()
        total.add(row)
    total.days_to_inclusion.sort()
    return Funnel(date_from, date_to, list(rows.values()), total)


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
