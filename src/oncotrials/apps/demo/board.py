"""The demo's molecular tumour board: a weekly board at the main site (fortnightly at the
partner) over the span of the demo's genomic reports. Each past meeting discusses the reports
dated in the week before it, records a recommendation per case (a referral to a matching open
cohort when the matching engine finds one, else a therapy by ESCAT tier, germline testing or
no action), is signed by its chair in one session and closed. Some referred patients then start
pre-screening, some fail it, some go on to screening and inclusion, so that the funnel lives.
An upcoming meeting is planned with its agenda built from what is left. With no genomic report
(or no patient), nothing is created.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

from oncotrials.apps.accounts.models import Site, User
from oncotrials.apps.audit.context import audit_context
from oncotrials.apps.audit.services import audit_batch
from oncotrials.apps.genomics.models import GenomicReport
from oncotrials.apps.genomics.selectors import TimelineSample, patients_genomic_timelines
from oncotrials.apps.matching.engine import (
    CohortMatch,
    matches_for_patient,
    matches_for_patients,
    matching_inputs_unchanged,
)
from oncotrials.apps.mtb.models import MtbMeeting, MtbReferral
from oncotrials.apps.mtb.services import (
    agenda_build,
    case_add,
    meeting_create,
    meeting_update,
    recommendation_create,
    recommendations_sign,
)
from oncotrials.apps.subjects.inclusion_rules import dose_gate
from oncotrials.apps.subjects.models import ConsentForm, Registration, ScreeningEpisode
from oncotrials.apps.subjects.services import (
    arm_assigned_by_scheme,
    consent_sign,
    registration_create,
    screening_close,
    screening_start,
)
from oncotrials.core.errors import OncotrialsError

from .journeys import DEMO_PASSWORD, demo_today

Say = Callable[[str], None]
GERMLINE_GENES = frozenset({"BRCA1", "BRCA2", "PALB2", "ATM", "MLH1", "MSH2", "MSH6", "PMS2"})
BOARD_WEEKDAY = 1  # Tuesday
MEANING = "I approve these recommendations on behalf of the molecular tumour board"


def _board_days(first: dt.date, last: dt.date, every_weeks: int) -> list[dt.date]:
    day = first + dt.timedelta(days=(BOARD_WEEKDAY - first.weekday()) % 7)
    out = []
    while day <= last:
        out.append(day)
        day += dt.timedelta(weeks=every_weeks)
    return out


def _next_board_day(after: dt.date) -> dt.date:
    return after + dt.timedelta(days=(BOARD_WEEKDAY - after.weekday()) % 7 or 7)


def _busy(patient_ids: list[int]) -> dict[int, set[int]]:
    """Per patient, the trials they are registered or screened in."""
    out: dict[int, set[int]] = defaultdict(set)
    for model in (Registration, ScreeningEpisode):
        for pid, tid in model.objects.filter(patient_id__in=patient_ids).values_list(
            "patient_id", "trial_id"
        ):
            out[pid].add(tid)
    return out


def _recommend(
    case: Any,
    chair: User,
    by: User,
    rng: random.Random,
    timeline: list[TimelineSample],
    busy: set[int],
    found: dict[int, list[CohortMatch]] | None,
) -> Any:
    """One recommendation for a case, from the matching engine and the case's alterations
    (``timeline``: the patient's genomic timeline; ``busy``: the trials the patient is
    registered or screened in; ``found``: the chair's matches of the board's patients, None
    to ask the engine for this patient's)."""
    patient = case.patient
    try:
        mine = (
            found[patient.pk]
            if found is not None
            else matches_for_patient(user=chair, patient=patient)
        )
        matches = [m for m in mine if m.matched and m.open and m.trial.pk not in busy]
    except OncotrialsError:
        matches = []
    alterations = [a for s in timeline for a in s.alterations]
    tiered = [a for a in alterations if a.tier and a.tier[:2] in ("I-", "II")]
    if matches:
        m = matches[0]
        why = ", ".join(f"{a.gene} {a.label}" for a in tiered[:2]) or "molecular profile"
        return recommendation_create(
            case=case,
            kind="trial_referral",
            trial=m.trial,
            cohort=m.cohort,
            rationale=f"{why}: matches {m.trial.protocol_code} {m.level_name or ''}".strip()
            + (f" ({m.slots_available} slot(s) free)." if m.slots_available else "."),
            by=by,
        )
    if tiered and tiered[0].annotation is not None and tiered[0].annotation.drugs:
        a = tiered[0]
        assert a.annotation is not None
        on_label = (a.tier or "").startswith("I-")
        return recommendation_create(
            case=case,
            kind="approved_therapy" if on_label else "off_label_therapy",
            therapy=a.annotation.drugs[0],
            rationale=f"{a.gene} {a.label}, ESCAT {a.tier}; no open trial matches.",
            by=by,
        )
    germline = [a for a in alterations if a.gene in GERMLINE_GENES]
    if germline:
        return recommendation_create(
            case=case,
            kind="germline_testing",
            rationale=f"{germline[0].gene} {germline[0].label}: rule out a germline origin.",
            by=by,
        )
    if rng.random() < 0.15:
        return recommendation_create(
            case=case,
            kind="rebiopsy",
            rationale="Low tumour content; repeat the biopsy for a conclusive profile.",
            by=by,
        )
    return recommendation_create(
        case=case,
        kind="no_action",
        rationale="No actionable alteration; standard of care.",
        by=by,
    )


def _follow(referral: Any, staff: dict[str, Any], rng: random.Random, today: dt.date) -> None:
    """Move a referred patient along the journey (each step only if the rules allow it)."""
    patient, trial = referral.patient, referral.trial
    by = staff["nurse"] if patient.site_id == staff["main"].pk else staff["partner_nurse"]
    start = referral.opened_on + dt.timedelta(days=rng.randrange(3, 10))
    roll = rng.random()
    if roll < 0.3 or start > today:
        return  # still awaiting pre-screening
    try:
        with transaction.atomic():
            ep = screening_start(
                patient=patient, trial=trial, kind="pre_screening", started_on=start, by=by
            )
            closed = start + dt.timedelta(days=7)
            if roll < 0.45 or closed > today:
                return  # pre-screening under way
            if roll < 0.6:
                screening_close(
                    episode=ep,
                    outcome="failed",
                    failure_reason=rng.choice(["biomarker_negative", "patient_decision"]),
                    closed_on=closed,
                    by=by,
                )
                return
            screening_close(episode=ep, outcome="eligible", closed_on=closed, by=by)
        if roll < 0.75:
            return
        with transaction.atomic():
            signed = closed + dt.timedelta(days=3)
            form = (
                ConsentForm.objects.filter(trial=trial, valid_from__lte=signed)
                .order_by("-valid_from")
                .first()
            )
            cohort = referral.cohort or trial.cohorts.filter(is_open=True).order_by("pk").first()
            if form is None or cohort is None or signed + dt.timedelta(days=10) > today:
                return
            consent_sign(patient=patient, form=form, signed_on=signed, by=by)
            screen = screening_start(
                patient=patient,
                trial=trial,
                kind="screening",
                cohort=cohort,
                started_on=signed,
                by=by,
                checklist=["Inclusion and exclusion criteria of the protocol"],
            )
            eligible = signed + dt.timedelta(days=7)
            screening_close(
                episode=screen,
                outcome="eligible",
                closed_on=eligible,
                by=by,
                checklist=[
                    {"criterion": "Inclusion and exclusion criteria of the protocol", "met": True}
                ],
            )
            # The escalation decides the dose of the next patient; when it takes none now (or
            # the cohort is an arm the randomisation assigns), the patient stays eligible.
            gate = dose_gate(cohort)
            if (gate is not None and gate.closed) or arm_assigned_by_scheme(cohort):
                return
            levels = cohort.dose_levels.order_by("level")
            level = (levels.filter(pk__in=gate.allowed) if gate is not None else levels).first()
            registration_create(
                patient=patient,
                cohort=cohort,
                dose_level=level,
                registered_on=eligible + dt.timedelta(days=3),
                by=by,
            )
    except OncotrialsError:
        return  # the trial's rules refused this step: the referral stays where it is


def demo_board_load(rng: random.Random, say: Say | None = None) -> int:
    """Create the demo's tumour-board history; returns the number of cases."""
    today = demo_today()
    tell = say or (lambda _msg: None)
    reports = list(
        GenomicReport.objects.filter(superseded=False)
        .select_related("sample__patient")
        .order_by("reported_on", "imported_at", "pk")
    )
    if not reports:
        tell("tumour board: no genomic report, nothing to discuss")
        return 0
    # Every case's genomic timeline, read at once: the board writes no genomic data.
    timelines = patients_genomic_timelines(patients=[r.sample.patient for r in reports], user=None)
    users = {u.username: u for u in User.objects.filter(is_active=True)}
    main = Site.objects.filter(code="main").first()
    partner = Site.objects.filter(code="partner").first()
    staff = {
        "main": main,
        "nurse": users.get("nurse"),
        "partner_nurse": users.get("partner.nurse"),
    }
    boards = [
        (main, users.get("investigator"), ["mtb", "biologist", "nurse"], 1),
        (partner, users.get("partner.investigator"), ["partner.nurse"], 2),
    ]
    coordinator = users.get("mtb") or users.get("admin")
    n_cases = 0
    with audit_context(channel="system"):
        for site, chair, attendee_names, every in boards:
            if site is None or chair is None or coordinator is None:
                continue
            organiser = coordinator if site == main else chair
            mine = [r for r in reports if r.sample.patient.site_id == site.pk and r.reported_on]
            if not mine:
                continue
            first = min(r.reported_on for r in mine if r.reported_on) + dt.timedelta(days=1)
            days = _board_days(first, today, every)
            attendees = [users[n] for n in attendee_names if n in users]
            pending = []
            previous = dt.date.min
            # One append to the audit chains for the site's meetings (nothing caught in the
            # block undoes a change: the engine's refusal is a read), and the matching engine's
            # data version read once: cases and recommendations change nothing it reads.
            with transaction.atomic(), audit_batch(), matching_inputs_unchanged():
                # Nothing in this block changes what the engine, the registrations and the
                # screenings say of a patient: the chair's matches and the patients' trials are
                # read once for the site's patients (one by one when the engine refuses).
                patients = list({r.sample.patient_id: r.sample.patient for r in mine}.values())
                busy = _busy([p.pk for p in patients])
                try:
                    found: dict[int, list[CohortMatch]] | None = matches_for_patients(
                        user=chair, patients=patients
                    )
                except OncotrialsError:
                    found = None
                for day in days:
                    week = [r for r in mine if r.reported_on and previous < r.reported_on <= day]
                    previous = day
                    if not week:
                        continue
                    meeting = meeting_create(
                        site=site,
                        held_on=day,
                        title="Molecular tumour board",
                        chair=chair,
                        attendees=attendees,
                        by=organiser,
                    )
                    meeting = meeting_update(
                        meeting=meeting, version=meeting.version, status="held", by=organiser
                    )
                    by_patient: dict[int, list[Any]] = defaultdict(list)
                    for r in week:
                        by_patient[r.sample.patient_id].append(r)
                    for patient_reports in by_patient.values():
                        patient = patient_reports[0].sample.patient
                        case = case_add(
                            meeting=meeting,
                            patient=patient,
                            reason=f"{len(patient_reports)} new genomic report(s): "
                            + ", ".join(sorted({r.assay for r in patient_reports})),
                            reports=patient_reports,
                            by=organiser,
                        )
                        pending.append(
                            _recommend(
                                case,
                                chair,
                                organiser,
                                rng,
                                timelines[patient.pk],
                                busy[patient.pk],
                                found,
                            )
                        )
                        n_cases += 1
                if pending:
                    recommendations_sign(
                        recommendations=pending, meaning=MEANING, password=DEMO_PASSWORD, by=chair
                    )
                for meeting in MtbMeeting.objects.filter(site=site, status="held").order_by(
                    "held_on"
                ):
                    meeting_update(
                        meeting=meeting, version=meeting.version, status="closed", by=organiser
                    )
            tell(f"tumour board at {site.code}: {len(pending)} case(s)")
            # The next meeting, planned, with its agenda built from what is left.
            upcoming = meeting_create(
                site=site,
                held_on=_next_board_day(today),
                title="Molecular tumour board",
                chair=chair,
                attendees=attendees,
                by=organiser,
            )
            agenda_build(meeting=upcoming, by=organiser)
        for referral in MtbReferral.objects.select_related("patient", "trial", "cohort").order_by(
            "pk"
        ):
            _follow(referral, staff, rng, today)
    tell("tumour-board referrals")
    return n_cases
