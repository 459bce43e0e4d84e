"""Patients at every stage of the journey, written through the services like real use.

Every date is counted back from the day the demo loads (``Staff.today``, the site's
``timezone.localdate()``) and lies on or before it: the same seed gives the same unit, shifted
to whatever day it loads, with patients in screening, on treatment and in follow-up today.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db.models import prefetch_related_objects
from django.utils import timezone

from oncotrials.apps.accounts.models import Site, User
from oncotrials.apps.audit.services import audit_batch
from oncotrials.apps.dosing.services import (
    escalation_decide,
    escalation_recommend,
    plan_create,
)
from oncotrials.apps.safety.dlt_review import dlt_case_adjudicate, dlt_rules_save
from oncotrials.apps.safety.models import DltCase, DltCaseStatus
from oncotrials.apps.safety.rights import agents_for_registration
from oncotrials.apps.safety.services import adverse_event_create
from oncotrials.apps.subjects.models import Patient, Registration
from oncotrials.apps.subjects.services import (
    baseline_observation_record,
    consent_form_create,
    consent_sign,
    consent_withdraw,
    patient_create,
    randomisation_scheme_create,
    randomise,
    registration_change_status,
    registration_change_statuses,
    registration_create,
    screening_close,
    screening_start,
    slot_allocate,
    slot_book,
    slot_confirm,
    visits_record,
    waitlist_add,
)
from oncotrials.apps.trials.models import CohortKind, Phase, Trial, VisitScheduleDefinition
from oncotrials.apps.trials.services import schedule_set
from oncotrials.core.designs.base import Action
from oncotrials.core.errors import ConflictError

DEMO_PASSWORD = "oncotrials-demo-2026"  # noqa: S105 - printed for the demo, never in production


def demo_today() -> dt.date:
    """The day the demo is dated from: today at the site (every demo date is relative to it)."""
    return timezone.localdate()


_FAMILY = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "Andre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "Francois",
    "Martinez",
    "Legrand",
]
_GIVEN = [
    "Claire",
    "Jean",
    "Marie",
    "Pierre",
    "Sophie",
    "Luc",
    "Anne",
    "Paul",
    "Julie",
    "Marc",
    "Isabelle",
    "Nicolas",
    "Camille",
    "Louis",
    "Emma",
    "Hugo",
    "Lea",
    "Yann",
    "Ines",
    "Karim",
]
_FAILURES = [
    "inclusion_not_met",
    "biomarker_negative",
    "organ_function",
    "performance_status",
    "clinical_deterioration",
    "patient_decision",
]

PHASE_I_SCHEDULE: dict[str, Any] = {
    "format": "oncotrials.visit-schedule/1",
    "trial": "demo",
    "version": "1.0",
    "reference": "C1D1",
    "visits": [
        {
            "code": "SCR",
            "name": "Screening",
            "offset_days": -14,
            "window": {"before": 14, "after": 13},
            "forms": [
                "demographics",
                "medical_history",
                "eligibility",
                "ecog",
                "vital_signs",
                "labs",
            ],
            "procedures": [{"type": "imaging", "name": "baseline CT"}],
        }
    ],
    "cycles": {
        "length_days": 21,
        "count": None,
        "max_cycles": 24,
        "reanchor": True,
        "days": [
            {
                "day": 1,
                "window": {"before": 3, "after": 3},
                "first_cycle_window": {"before": 0, "after": 0},
                "forms": ["ecog", "vital_signs", "labs", "exposure", "adverse_events"],
                "procedures": [
                    {"type": "dosing"},
                    {"type": "pk", "name": "PK profile", "timepoints": ["pre-dose", "1h", "4h"]},
                ],
            },
            {
                "day": 8,
                "only_cycles": [1],
                "window": {"before": 1, "after": 1},
                "forms": ["labs", "adverse_events"],
                "procedures": [{"type": "pk", "name": "PK trough", "timepoints": ["pre-dose"]}],
            },
            {
                "day": 15,
                "only_cycles": [1],
                "window": {"before": 1, "after": 1},
                "forms": ["labs", "adverse_events"],
            },
        ],
    },
    "imaging": {
        "code": "IMG",
        "every_weeks": 6,
        "window": {"before": 7, "after": 3},
        "forms": ["recist"],
        "procedures": [{"type": "imaging", "name": "CT chest-abdomen-pelvis"}],
    },
    "end_of_treatment": {
        "code": "EOT",
        "offset_days": 30,
        "window": {"before": 7, "after": 7},
        "forms": ["end_of_treatment", "ecog"],
    },
    "follow_up": {
        "code": "FU",
        "every_months": 3,
        "count": 8,
        "window": {"before": 14, "after": 14},
        "forms": ["survival_status"],
    },
}


@dataclass
class Staff:
    main: Site
    partner: Site
    nurse: User
    investigator: User
    partner_nurse: User
    partner_investigator: User
    admin: User
    today: dt.date


class _Counter:
    n = 0


def _new_patient(
    rng: random.Random,
    staff: Staff,
    site: Site,
    referral: dt.date,
    diagnosis: str,
    counter: _Counter,
) -> Patient:
    counter.n += 1
    by = staff.nurse if site == staff.main else staff.partner_nurse
    return patient_create(
        site=site,
        by=by,
        family_name=rng.choice(_FAMILY),
        given_name=rng.choice(_GIVEN),
        birth_date=dt.date(rng.randrange(1942, 1992), rng.randrange(1, 13), rng.randrange(1, 29)),
        hospital_number=f"{site.code[0].upper()}{counter.n:07d}",
        sex=rng.choice("FM"),
        referral_source=rng.choice(["tumour_board", "department", "partner_centre", "external"]),
        referral_date=referral,
        diagnosis=diagnosis,
        phone=f"+33 6 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
    )


def _consent_and_screen(
    rng: random.Random,
    staff: Staff,
    patient: Patient,
    trial: Trial,
    form: Any,
    start: dt.date,
    eligible: bool,
) -> Any:
    by = staff.nurse if patient.site == staff.main else staff.partner_nurse
    consent_sign(
        patient=patient,
        form=form,
        signed_on=start,
        by=by,
        options_granted={o: rng.random() < 0.85 for o in form.options},
    )
    episode = screening_start(
        patient=patient,
        trial=trial,
        kind="screening",
        started_on=start,
        by=by,
        checklist=[
            "ECOG performance status 0-1",
            "Measurable disease (RECIST 1.1)",
            "Adequate organ function",
        ],
    )
    closed = start + dt.timedelta(days=rng.randrange(5, 14))
    if eligible:
        screening_close(
            episode=episode,
            outcome="eligible",
            closed_on=closed,
            by=by,
            checklist=[{"criterion": c["criterion"], "met": True} for c in episode.checklist],
        )
    else:
        screening_close(
            episode=episode,
            outcome="failed",
            closed_on=closed,
            by=by,
            failure_reason=rng.choice(_FAILURES),
        )
    return closed


def _advance(
    rng: random.Random,
    staff: Staff,
    reg: Registration,
    start: dt.date,
    limit: dt.date,
    scheduled: bool,
) -> None:
    """Move a registration along its status flow as time allows, recording some visits (when
    the trial has a visit schedule, ``scheduled``)."""
    by = staff.nurse if reg.patient.site == staff.main else staff.partner_nurse
    c1d1 = start + dt.timedelta(days=1)
    if c1d1 > limit:
        return
    reg = registration_change_status(registration=reg, to_status="on_treatment", on=c1d1, by=by)
    if scheduled:
        visits = [
            {"code": code, "on": c1d1 + dt.timedelta(days=offset + rng.choice([0, 0, 1]))}
            for code, offset in (("C1D1", 0), ("C1D8", 7), ("C1D15", 14), ("C2D1", 21))
            if c1d1 + dt.timedelta(days=offset) <= limit and rng.random() < 0.95
        ]
        # The first cycle's visits, recorded together (one calendar of the schedule).
        visits_record(registration=reg, visits=visits, by=by)
    cycles = rng.choice([2, 2, 3, 4, 6, 8, 12, 18])
    eot = c1d1 + dt.timedelta(days=21 * cycles)
    if eot > limit:
        return
    # The moves after treatment, drawn in turn, then recorded together (one lock).
    why = ["Disease progression", "Disease progression", "Toxicity", "Patient decision"]
    changes = [("end_of_treatment", eot, rng.choice(why))]
    fu = eot + dt.timedelta(days=30)
    if fu <= limit:
        changes.append(("follow_up", fu, ""))
        off = fu + dt.timedelta(days=rng.randrange(60, 400))
        if off <= limit and rng.random() < 0.5:
            why = ["Death", "Lost to follow-up", "End of study follow-up"]
            changes.append(("off_study", off, rng.choice(why)))
    registration_change_statuses(registration=reg, changes=changes, by=by)


@audit_batch()  # one append to the chain: the ConflictError caught below comes before any event
def populate_trial(
    rng: random.Random,
    staff: Staff,
    trial: Trial,
    opened: dt.date,
    until: dt.date,
    counter: _Counter,
    *,
    escalation_design: str = "3+3",
) -> None:
    """Patients of one trial while it is open (from ``opened`` to ``until``); an escalation
    cohort runs ``escalation_design``."""
    until = min(until, staff.today)
    if (until - opened).days < 40:
        return
    form = consent_form_create(
        kind="trial",
        trial=trial,
        version="1.0",
        version_date=opened - dt.timedelta(days=40),
        ethics_approval_date=opened - dt.timedelta(days=10),
        valid_from=opened,
        by=staff.admin,
        options=["future_research", "genetic_analysis", "sample_storage"],
    )
    diagnosis = (
        trial.tumour_types[0]
        if trial.tumour_types and trial.tumour_types[0] != "SOLID"
        else rng.choice(["COAD", "LUAD", "PAAD", "BRCA", "OV"])
    )
    # The trial's sites, read once: every consent, screening and registration below asks
    # whether the patient's site takes part.
    prefetch_related_objects([trial], "trial_sites")
    sites = [staff.main] + ([staff.partner] if trial.takes_part(staff.partner.pk) else [])
    if trial.phase in (Phase.I_ESCALATION, Phase.I_II):
        schedule_set(
            trial=trial, document={**PHASE_I_SCHEDULE, "trial": trial.protocol_code}, by=staff.admin
        )
    # Whether the trial's patients have visits to record: read once, not per patient.
    scheduled = VisitScheduleDefinition.objects.filter(trial=trial).exists()
    if trial.phase in (Phase.I_ESCALATION, Phase.I_II):
        _escalate(
            rng,
            staff,
            trial,
            form,
            opened,
            until,
            diagnosis,
            counter,
            escalation_design,
            scheduled,
        )
    cohorts = list(
        trial.cohorts.filter(is_open=True).exclude(kind=CohortKind.ESCALATION).order_by("code")
    )
    if trial.phase == Phase.III:
        factors = {"ecog": ["0", "1"], "sex": ["F", "M"]} | (
            {"site": [s.code for s in sites]} if len(sites) > 1 else {}
        )
        randomisation_scheme_create(
            trial=trial,
            method="minimisation",
            arms={"ARM-A": 1, "ARM-B": 1},
            factors=factors,
            p=0.8,
            by=staff.admin,
        )
    elif cohorts and cohorts[0].dose_levels.exists():
        # The sponsor's slots: while the trial accrues, open until a date after today.
        slot_allocate(
            cohort=cohorts[0],
            site=staff.main,
            slots=rng.choice([4, 6, 8]),
            open_from=opened,
            open_until=until + dt.timedelta(days=rng.choice([5, 10, 60]))
            if until < staff.today
            else staff.today + dt.timedelta(days=rng.choice([30, 60, 90])),
            by=staff.admin,
        )
    if not cohorts:
        return
    day = opened + dt.timedelta(days=rng.randrange(3, 20))
    n = rng.randrange(6, 16)
    # Referrals spread over the whole time the trial is open, so that an open trial has
    # patients on treatment today as well as patients in follow-up.
    step = max(7, (until - opened).days // (n + 1))
    top_level: dict[int, Any] = {}
    for _ in range(n):
        if day + dt.timedelta(days=30) > until:
            break
        site = rng.choice(sites)
        patient = _new_patient(rng, staff, site, day, diagnosis, counter)
        eligible = rng.random() < 0.72
        closed = _consent_and_screen(
            rng, staff, patient, trial, form, day + dt.timedelta(days=3), eligible
        )
        if eligible:
            reg_day = closed + dt.timedelta(days=rng.randrange(1, 6))
            by = staff.nurse if site == staff.main else staff.partner_nurse
            if trial.phase == Phase.III:
                levels = {"ecog": rng.choice("01"), "sex": patient.sex} | (
                    {"site": site.code} if len(sites) > 1 else {}
                )
                reg = randomise(
                    patient=patient, trial=trial, levels=levels, registered_on=reg_day, by=by
                )
            else:
                cohort = rng.choice(cohorts)
                if cohort.pk not in top_level:  # the cohort's highest level, read once
                    top_level[cohort.pk] = cohort.dose_levels.order_by("level").last()
                level = top_level[cohort.pk]
                try:
                    reg = registration_create(
                        patient=patient,
                        cohort=cohort,
                        dose_level=level,
                        registered_on=reg_day,
                        by=by,
                    )
                except ConflictError:  # no slot left: the patient waits for one
                    waitlist_add(patient=patient, cohort=cohort, by=by)
                    day += dt.timedelta(days=rng.randrange(step // 2, step * 3 // 2))
                    continue
            _advance(rng, staff, reg, reg_day, staff.today, scheduled)
            if rng.random() < 0.05:
                consent_withdraw(
                    consent=patient.consents.get(),
                    on=min(reg_day + dt.timedelta(days=20), staff.today),
                    scope=["treatment"],
                    reason="Patient's decision",
                    by=by,
                )
        day += dt.timedelta(days=rng.randrange(step // 2, step * 3 // 2))
    if until == staff.today:
        _recent(rng, staff, trial, form, cohorts, diagnosis, counter)


def _recent(
    rng: random.Random,
    staff: Staff,
    trial: Trial,
    form: Any,
    cohorts: list[Any],
    diagnosis: str,
    counter: _Counter,
) -> None:
    """This week's work in an open trial: a new referral, a screening under way, a fresh registration."""
    referred = _new_patient(
        rng, staff, staff.main, staff.today - dt.timedelta(days=2), diagnosis, counter
    )
    screening_start(
        patient=referred,
        trial=trial,
        kind="pre_screening",
        started_on=staff.today - dt.timedelta(days=1),
        by=staff.nurse,
    )
    in_screening = _new_patient(
        rng, staff, staff.main, staff.today - dt.timedelta(days=9), diagnosis, counter
    )
    consent_sign(
        patient=in_screening,
        form=form,
        signed_on=staff.today - dt.timedelta(days=6),
        by=staff.nurse,
    )
    screening_start(
        patient=in_screening,
        trial=trial,
        kind="screening",
        started_on=staff.today - dt.timedelta(days=6),
        by=staff.nurse,
    )
    if cohorts and trial.phase != Phase.III:
        fresh = _new_patient(
            rng, staff, staff.main, staff.today - dt.timedelta(days=20), diagnosis, counter
        )
        closed = _consent_and_screen(
            rng, staff, fresh, trial, form, staff.today - dt.timedelta(days=18), True
        )
        # When the cohort's slots are all taken, the patient stays eligible, on the waitlist.
        try:
            registration_create(
                patient=fresh,
                cohort=cohorts[0],
                dose_level=cohorts[0].dose_levels.order_by("level").last(),
                registered_on=max(closed, staff.today - dt.timedelta(days=3)),
                by=staff.nurse,
            )
        except ConflictError:
            waitlist_add(patient=fresh, cohort=cohorts[0], by=staff.nurse)
        # A slot offered to the patient in screening, confirmed by the investigator (when the
        # cohort has slots at the site and one is free).
        try:
            booking = slot_book(
                patient=in_screening,
                cohort=cohorts[0],
                by=staff.nurse,
                on=staff.today - dt.timedelta(days=5),
            )
        except ConflictError:
            pass
        else:
            slot_confirm(booking=booking, by=staff.investigator)
    # The work-up before any registration: ECOG and blood counts of the referred patient (at the
    # referral visit) and of the patient in screening (at the screening visit).
    _work_up(staff, referred, staff.today - dt.timedelta(days=2))
    _work_up(staff, in_screening, staff.today - dt.timedelta(days=5))


# analyte, unit, demo range of values, LLN, ULN (the casebooks' screening panel, in part)
_WORK_UP: tuple[tuple[str, str, tuple[float, float], str | None, str], ...] = (
    ("neutrophils", "10^9/L", (1.9, 6.5), "1.8", "7.5"),
    ("platelets", "10^9/L", (160, 380), "150", "400"),
    ("hemoglobin", "g/L", (112, 150), "120", "160"),
    ("creatinine", "umol/L", (55, 98), "45", "100"),
)


def _work_up(staff: Staff, patient: Patient, on: dt.date) -> None:
    """ECOG and baseline labs of a patient not yet registered, through the service. Drawn from
    a generator of the patient's own (its research id): the demo's main sequence is unchanged."""
    own = random.Random(patient.research_id)
    by = staff.nurse if patient.site_id == staff.main.pk else staff.partner_nurse
    baseline_observation_record(
        patient=patient, kind="ecog", observed_on=on, value=own.choice("0011"), by=by
    )
    for analyte, unit, (low, high), lln, uln in _WORK_UP:
        value = own.uniform(low, high)
        baseline_observation_record(
            patient=patient,
            kind="lab",
            observed_on=on,
            analyte=analyte,
            value=f"{value:.1f}" if high < 100 else f"{value:.0f}",
            unit=unit,
            lln=lln,
            uln=uln,
            by=by,
        )


def dlt_rules_document(trial: Trial) -> dict[str, Any]:
    """The DLT definition of a demo escalation trial: a 21-day window (cycle 1), prolonged
    grade 4 neutropenia, grade >= 3 non-haematological toxicity except controlled GI events."""
    return {
        "dlt": {
            "protocol": trial.protocol_code,
            "ctcae_version": "5.0",
            "window": {"anchor": "first_dose", "days": 21},
            "require_attribution": ["possible", "probable", "definite"],
            "rules": [
                {
                    "id": "NEUT_G4_PROLONGED",
                    "terms": ["Neutrophil count decreased"],
                    "min_grade": 4,
                    "min_duration_days": 8,
                },
                {
                    "id": "NONHEME_G3",
                    "category": "non_hematologic",
                    "min_grade": 3,
                    "exceptions": [
                        {
                            "id": "GI_CONTROLLED",
                            "terms": ["Nausea", "Vomiting", "Diarrhea"],
                            "max_grade": 3,
                            "resolves_to_grade": 1,
                            "within_hours": 72,
                            "requires_supportive_care": True,
                        }
                    ],
                },
                {"id": "CRS_G3", "scale": "ASTCT_CRS", "min_grade": 3},
            ],
        }
    }


def _demo_dlt(staff: Staff, reg: Registration) -> None:
    """A DLT as in real use: a complete grade 4 neutropenia on day 9 proposes a DLT case in the
    DLT review, which the investigator confirms, signed; the escalation counts follow."""
    reg.refresh_from_db()
    first = reg.treatment_start or reg.registered_on
    onset = first + dt.timedelta(days=8)
    ae = adverse_event_create(
        registration=reg,
        data={
            "term": "Neutrophil count decreased",
            "grade": 4,
            "onset_date": onset.isoformat(),
            "resolution_date": (onset + dt.timedelta(days=9)).isoformat(),
            "outcome": "recovered",
            "attribution": dict.fromkeys(agents_for_registration(reg), "probable"),
            "action_taken": "interrupted",
        },
        by=staff.investigator,
        complete=True,
    )
    for case in DltCase.objects.filter(adverse_event=ae, status=DltCaseStatus.PROPOSED):
        dlt_case_adjudicate(
            case=case,
            decision="confirm",
            reason="Grade 4 neutropenia lasting more than 7 days",
            meaning="I have reviewed this event and sign this DLT adjudication",
            password=DEMO_PASSWORD,
            version=case.version,
            by=staff.investigator,
        )


def _demo_not_dlt(staff: Staff, reg: Registration) -> None:
    """A grade 3 event in the DLT window that the DLT rules propose and the investigator rejects,
    signed: the fatigue came with the disease, not the drug."""
    reg.refresh_from_db()
    first = reg.treatment_start or reg.registered_on
    onset = first + dt.timedelta(days=4)
    ae = adverse_event_create(
        registration=reg,
        data={
            "term": "Fatigue",
            "grade": 3,
            "onset_date": onset.isoformat(),
            "resolution_date": (onset + dt.timedelta(days=5)).isoformat(),
            "outcome": "recovered",
            "attribution": dict.fromkeys(agents_for_registration(reg), "possible"),
            "action_taken": "none",
        },
        by=staff.investigator,
        complete=True,
    )
    for case in DltCase.objects.filter(adverse_event=ae, status=DltCaseStatus.PROPOSED):
        dlt_case_adjudicate(
            case=case,
            decision="reject",
            reason="Fatigue with rapid disease progression on the day 21 scan; not a DLT",
            meaning="I have reviewed this event and sign this DLT adjudication",
            password=DEMO_PASSWORD,
            version=case.version,
            by=staff.investigator,
        )


def _escalate(
    rng: random.Random,
    staff: Staff,
    trial: Trial,
    form: Any,
    opened: dt.date,
    until: dt.date,
    diagnosis: str,
    counter: _Counter,
    design: str,
    scheduled: bool,
) -> None:
    """Run the escalation cohort under ``design``: cohorts of three, DLT outcomes, committee
    decisions."""
    cohort = trial.cohorts.filter(kind=CohortKind.ESCALATION).first()
    if cohort is None:
        return
    levels = [dl for dl in cohort.dose_levels.order_by("level") if dl.level >= 1]
    # The protocol's DLT definition: the DLT review proposes cases from it.
    dlt_rules_save(trial=trial, document=dlt_rules_document(trial), by=staff.investigator)
    plan = plan_create(
        cohort=cohort,
        design=design,
        target=0.3 if design == "boin" else None,
        start_level=levels[0],
        by=staff.investigator,
        max_sample_size=24,
    )
    true_rates = sorted(rng.uniform(0.02, 0.55) for _ in levels)
    day = opened + dt.timedelta(days=7)
    # Cohorts paced over the time the trial is open (at most eight cohorts of three), so that
    # an escalation opened long ago is still dosing patients today.
    pace = max(2, (until - day).days // 8 - 35)
    while day + dt.timedelta(days=45) <= until:
        plan.refresh_from_db()
        current = plan.current_dose_level
        regs = []
        for _ in range(3):
            patient = _new_patient(rng, staff, staff.main, day, diagnosis, counter)
            closed = _consent_and_screen(
                rng, staff, patient, trial, form, day + dt.timedelta(days=2), True
            )
            reg = registration_create(
                patient=patient,
                cohort=cohort,
                dose_level=current,
                registered_on=closed + dt.timedelta(days=1),
                by=staff.nurse,
            )
            regs.append(reg)
            day += dt.timedelta(days=rng.randrange(2, 6))
        rate = true_rates[max(current.level - 1, 0)] if current.level >= 1 else true_rates[0] / 2
        for reg in regs:
            _advance(rng, staff, reg, reg.registered_on, staff.today, scheduled)
            if rng.random() < rate:
                _demo_dlt(staff, reg)
            elif rng.random() < 0.15:
                _demo_not_dlt(staff, reg)
        decision_day = min(max(r.registered_on for r in regs) + dt.timedelta(days=23), staff.today)
        state, rec = escalation_recommend(plan=plan)
        nxt = state[rec.next_dose].dose_level if rec.next_dose is not None else None
        escalation_decide(
            plan=plan,
            action=rec.action.value,
            next_dose_level=nxt,
            by=staff.investigator,
            meaning="Approved by the safety review committee",
            password=DEMO_PASSWORD,
            at=dt.datetime.combine(decision_day, dt.time(16, 0), tzinfo=dt.UTC),
        )
        if (
            rec.action == Action.STOP
            or Registration.objects.filter(cohort=cohort).count() >= plan.max_sample_size
        ):
            break
        day = decision_day + dt.timedelta(days=2 + pace // 2 + rng.randrange(0, pace))
