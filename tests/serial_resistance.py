"""A patient followed through four reported samples and two lines of therapy, shared by the
genomics, tumour-board and biobank tests of acquired resistance between serial samples.

P-SER (LUAD, KRAS G12C):
- S1 baseline tissue, 2026-01-10: KRAS p.G12C, TP53 p.R273H;
- registered 2026-02-01 in T-MAIN on "Drug A" (investigational, the trial's target KRAS);
- S2 on treatment (C3), 2026-04-01: TP53 p.R273H only (KRAS G12C missed, as a draw of low
  tumour fraction would);
- S3 progression 1, 2026-06-10: KRAS p.G12C, TP53, KRAS p.Y96D (on-target under Drug A);
  T-MAIN treatment ends that day;
- registered 2026-07-01 in T-OTHER on trametinib (MEK1/2);
- S4 progression 2, 2026-11-02: as S3 plus MAP2K1 p.K57N (on-target under trametinib).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

MAF_HEADER = "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\n"
ROWS = [
    ("KRAS", "S1", "p.G12C"),
    ("TP53", "S1", "p.R273H"),
    ("TP53", "S2", "p.R273H"),
    ("KRAS", "S3", "p.G12C"),
    ("TP53", "S3", "p.R273H"),
    ("KRAS", "S3", "p.Y96D"),
    ("KRAS", "S4", "p.G12C"),
    ("TP53", "S4", "p.R273H"),
    ("KRAS", "S4", "p.Y96D"),
    ("MAP2K1", "S4", "p.K57N"),
]
SAMPLES = (
    ("S1", "baseline", "2026-01-10"),
    ("S2", "on_treatment", "2026-04-01"),
    ("S3", "progression", "2026-06-10"),
    ("S4", "progression", "2026-11-02"),
)


def register(unit: Any, patient: Any, trial: Any, agent: str, on: dt.date) -> Any:
    """Test set-up: a registration at a dose level of ``agent`` (as the subjects app records)."""
    from oncotrials.apps.subjects.models import Registration
    from oncotrials.apps.trials.models import Cohort, DoseLevel

    cohort = Cohort.objects.filter(trial=trial).first() or Cohort.objects.create(
        trial=trial, code="EXP", name="Expansion", kind="expansion"
    )
    level, _ = DoseLevel.objects.get_or_create(
        cohort=cohort, level=1, agent=agent, defaults={"dose": 300, "unit": "mg"}
    )
    return Registration.objects.create(
        patient=patient,
        trial=trial,
        cohort=cohort,
        dose_level=level,
        registered_on=on,
        registered_by=unit.users["admin"],
        status_date=on,
    )


def four_samples(unit: Any, patient: Any, tmp_path: Path) -> None:
    """Import the four samples of ``patient`` and record the two lines of therapy."""
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.subjects.services import registration_change_status
    from oncotrials.core.genomics.normalised import PatientMap

    rid = patient.research_id
    maf = tmp_path / f"{rid}-serial.maf"
    maf.write_text(
        MAF_HEADER + "".join(f"{g}\t{rid}-{s}\tMissense_Mutation\t{p}\n" for g, s, p in ROWS)
    )
    pmap = "sample_id,research_id,timepoint,collected_on\n" + "".join(
        f"{rid}-{s},{rid},{tp},{on}\n" for s, tp, on in SAMPLES
    )
    admin = unit.users["admin"]
    genomics_import(path=maf, by=admin, patient_map=PatientMap.parse(pmap))
    first = register(unit, patient, unit.trial_main, "Drug A", dt.date(2026, 2, 1))
    first = registration_change_status(
        registration=first, to_status="on_treatment", on=dt.date(2026, 2, 3), by=admin
    )
    registration_change_status(
        registration=first,
        to_status="end_of_treatment",
        on=dt.date(2026, 6, 10),
        by=admin,
        reason="Progressive disease",
    )
    register(unit, patient, unit.trial_other, "trametinib", dt.date(2026, 7, 1))
