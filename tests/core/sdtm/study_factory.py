"""A small two-subject study built by hand, used by the SDTM tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from oncotrials.core.recist import (
    Assessment,
    Baseline,
    BaselineLesion,
    LesionObservation,
    LesionRole,
    LesionStatus,
    NewLesion,
    PatientRecord,
)
from oncotrials.core.sdtm.model import (
    AdverseEvent,
    Disposition,
    Exposure,
    LabResult,
    Study,
    Subject,
    TumourResponse,
    Tumours,
    VitalSign,
)

D = dt.date
LONG_TERM = (
    "Grade 3 maculopapular rash over the trunk and both arms, first noticed by the patient after "
    "the second infusion, with pruritus that kept the patient awake at night and needed oral "
    "corticosteroids and antihistamines for ten days"
)


def make_study(long_term: str = LONG_TERM) -> Study:
    record = PatientRecord(
        patient_id="P-0001",
        start_date=D(2026, 1, 5),
        baseline=Baseline(
            D(2026, 1, 2),
            (
                BaselineLesion("T1", "liver", Decimal("32.5"), role=LesionRole.TARGET),
                BaselineLesion(
                    "T2", "mediastinal lymph node", 18, nodal=True, role=LesionRole.TARGET
                ),
                BaselineLesion("NT1", "bone", role=LesionRole.NON_TARGET),
            ),
        ),
        assessments=(
            Assessment(
                D(2026, 2, 20),
                (
                    LesionObservation("T1", Decimal("20.1")),
                    LesionObservation("T2", 9),
                    LesionObservation("NT1", status=LesionStatus.PRESENT),
                ),
            ),
            Assessment(
                D(2026, 4, 10),
                (
                    LesionObservation("T1", status=LesionStatus.TOO_SMALL),
                    LesionObservation("T2", status=LesionStatus.NOT_EVALUATED),
                    LesionObservation("NT1", status=LesionStatus.PRESENT),
                ),
                new_lesions=(NewLesion("N1", "lung"),),
            ),
        ),
    )
    s1 = Subject(
        research_id="P-0001",
        site="main",
        country="FRA",
        sex="F",
        arm_code="DL1",
        arm="Escalation, dose level 1: DRUG A 10 mg",
        registered_on=D(2026, 1, 4),
        age=64,
        consent_on=D(2025, 12, 20),
        dispositions=(
            Disposition("consent", D(2025, 12, 20)),
            Disposition("end_of_treatment", D(2026, 4, 12), "Disease progression"),
        ),
        exposures=(
            Exposure("Drug A", Decimal("10"), "mg", D(2026, 1, 5), "C1D1"),
            Exposure("Drug A", Decimal("7.5"), "mg", D(2026, 2, 2), "C2D1", "Grade 3 rash"),
        ),
        adverse_events=(
            AdverseEvent(
                1,
                "Rash maculo-papular",
                long_term,
                10037868,
                "Skin and subcutaneous tissue disorders",
                3,
                "5.0",
                D(2026, 1, 20),
                D(2026, 2, 1),
                attribution="probable",
                action="reduced",
                outcome="recovered",
            ),
            AdverseEvent(
                2,
                "Fatigue",
                "",
                10016256,
                "General disorders",
                1,
                "5.0",
                D(2026, 1, 8),
                None,
                outcome="not_recovered",
            ),
            AdverseEvent(
                3,
                "Febrile neutropenia",
                "",
                10016288,
                "Blood disorders",
                3,
                "5.0",
                D(2026, 1, 12),
                D(2026, 1, 16),
                serious=True,
                seriousness=("hospitalisation",),
                attribution="possible",
                action="interrupted",
                outcome="recovered",
            ),
        ),
        labs=(
            LabResult(
                "neutrophils",
                "neutrophils (ANC)",
                Decimal("0.8"),
                "10^9/L",
                Decimal("1.8"),
                Decimal("7.5"),
                D(2026, 1, 12),
                3,
                "Neutrophil count decreased",
                "5.0",
                "C1D8",
            ),
            LabResult(
                "alt",
                "ALT",
                Decimal("35"),
                "U/L",
                None,
                Decimal("40"),
                D(2026, 1, 5),
                0,
                "",
                "5.0",
                "C1D1",
            ),
        ),
        vitals=(
            VitalSign("weight_kg", Decimal("61.4"), D(2026, 1, 5), "C1D1"),
            VitalSign("systolic_bp", Decimal("128"), D(2026, 1, 5), "C1D1"),
            VitalSign("temperature", Decimal("36.8"), D(2026, 1, 5), "C1D1"),
        ),
        tumours=Tumours(
            record=record,
            responses=(
                TumourResponse(D(2026, 2, 20), "PR", "PR", "NON-CR/NON-PD", False, Decimal("29.1")),
                TumourResponse(D(2026, 4, 10), "PD", "NE", "NON-CR/NON-PD", True, None),
            ),
            best_response="PR",
            baseline_sum_mm=Decimal("50.5"),
        ),
    )
    s2 = Subject(
        research_id="P-0002",
        site="partner",
        country="FRA",
        sex="M",
        arm_code="DL1",
        arm="Escalation, dose level 1: DRUG A 10 mg",
        registered_on=D(2026, 2, 1),
        age=58,
        consent_on=D(2026, 1, 25),
        dispositions=(Disposition("consent", D(2026, 1, 25)),),
    )
    return Study("T-SDTM", "A phase I study", (s1, s2), sponsor="Sponsor")
