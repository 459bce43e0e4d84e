"""A small study in plain data for the FHIR mapper tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from oncotrials.core.fhir import model as m

D = dt.date


def make_study() -> m.Study:
    first = m.Subject(
        research_id="ONC-000001",
        sex="F",
        status="on_treatment",
        registered_on=D(2026, 3, 2),
        arm_code="A-DL2",
        birth_year=1961,
        consent=m.ConsentRecord("c1", D(2026, 2, 20), "Main study consent, version 2.0"),
        diagnosis=m.Diagnosis("LUAD", "Lung Adenocarcinoma", D(2024, 5, 3)),
        stage=m.StageGroup("IV", D(2024, 5, 3)),
        performance=(m.Performance("e1", 1, D(2026, 2, 25)),),
        variants=(
            m.Variant(
                "v1",
                "KRAS",
                D(2026, 1, 10),
                hgvsc="c.34G>T",
                hgvsp="p.Gly12Cys",
                transcript="NM_004985.5",
                vaf=Decimal("0.231"),
                sample="S-1",
            ),
        ),
        specimens=(
            m.SpecimenRecord("BB-1", "tissue_ffpe", "Tissue (FFPE)", "available", D(2026, 1, 5)),
            m.SpecimenRecord(
                "BB-1-D1", "dna", "DNA", "depleted", D(2026, 1, 5), parent="BB-1", body_site="C34.1"
            ),
        ),
        adverse_events=(
            m.AdverseEventRecord(
                "ae1", "Colitis", 3, "5.0", D(2026, 3, 20), True, "recovering", "10009887"
            ),
        ),
        administrations=(m.Administration("x1", "Drug B", Decimal("50"), "mg", D(2026, 3, 3)),),
    )
    second = m.Subject(
        research_id="ONC-000002",
        sex="M",
        status="off_study",
        registered_on=D(2026, 3, 9),
        status_on=D(2026, 4, 1),
        arm_code="A-DL1",
    )
    return m.Study(
        study_id="ONC-101",
        title="A phase I study of Drug B",
        status="open",
        phase="I-esc",
        sponsor="Example Pharma",
        arms=(m.Arm("A-DL1", "Arm A, dose level 1"), m.Arm("A-DL2", "Arm A, dose level 2")),
        subjects=(first, second),
    )
