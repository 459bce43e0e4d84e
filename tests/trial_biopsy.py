"""A patient in two trials whose progression biopsy was collected for one of them, shared by the
genomics, biobank, export and matching tests of genomic confidentiality.

P-TB (LUAD, main site) is registered in T-MAIN (trial A, on "Drug A") and in T-OTHER (trial B,
on trametinib):
- CGA-BASE, baseline tissue collected outside any registration, 2026-01-10: KRAS p.G12C;
- CGB-PROG, progression biopsy collected under the T-OTHER registration (a sequencing run ties
  the specimen to its report), 2026-09-01: KRAS p.G12C, KRAS p.Y96D, TMB 23.5, with
  copy-number segments (a second report of the same sample, 17p copy-neutral LOH).

Personas limited to T-MAIN at the main site see the patient, but not what the trial-B biopsy
showed; the site-wide investigator sees everything.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HIDDEN_SAMPLE = "CGB-PROG"
HIDDEN_CHANGE = "p.Y96D"
SEG_HEADER = "ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\ttcn.em\tlcn.em\n"
# persona -> role of a membership limited to T-MAIN at the main site
TRIAL_A_PERSONAS = {
    "investigator_a": "investigator",
    "biologist_a": "molecular_biologist",
    "monitor": "sponsor_monitor",  # the shared persona: T-MAIN's sponsor monitor
}


@dataclass
class TrialBiopsy:
    patient: Any
    registration_a: Any
    registration_b: Any
    baseline: Any  # genomics Sample CGA-BASE
    progression: Any  # genomics Sample CGB-PROG
    report_a: Any  # the baseline report
    report_b: Any  # the progression report, from the trial-B specimen
    specimen_b: Any


def _report(tmp: Path, patient: Any, sample: str, on: str, timepoint: str, **data: Any) -> Any:
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.genomics.services import genomics_import

    doc = {
        "format_version": "1.0",
        "report_id": f"LAB-{sample}",
        "patient_id": patient.research_id,
        "sample": {
            "sample_id": sample,
            "kind": "tissue",
            "timepoint": timepoint,
            "collected_on": on,
            "oncotree_code": "LUAD",
        },
        "assay": {"name": "Tissue panel", "panel": "TP-500"},
        "reported_on": on,
        "genome_build": "GRCh38",
        "short_variants": [
            {"variant_class": "Missense_Mutation", "gene": "KRAS", "protein_change": change}
            for change in data.get("changes", ())
        ],
        "copy_number_alterations": [],
        "structural_variants": [],
        "biomarkers": data.get("biomarkers", []),
    }
    path = tmp / f"{sample}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    (report_id,) = genomics_import(path=path, by=None).report_ids
    return GenomicReport.objects.get(pk=report_id)


def trial_biopsy(unit: Any, tmp_path: Path) -> TrialBiopsy:
    """Build the patient, its two registrations, reports, the trial-B specimen and its run,
    and the trial-A personas (``unit.users``)."""

    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.biobank.services import sequencing_run_record, specimen_collect
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.subjects.models import Patient
    from oncotrials.apps.subjects.services import consent_form_create, consent_sign
    from oncotrials.core.genomics.normalised import PatientMap
    from serial_resistance import register

    admin = unit.users["admin"]
    patient = Patient.objects.create(
        research_id="P-TB",
        site=unit.main,
        sex="F",
        year_of_birth=1960,
        diagnosis="LUAD",
        referral_source="department",
        referral_date=dt.date(2026, 1, 5),
    )
    reg_a = register(unit, patient, unit.trial_main, "Drug A", dt.date(2026, 2, 1))
    reg_b = register(unit, patient, unit.trial_other, "trametinib", dt.date(2026, 6, 1))
    report_a = _report(tmp_path, patient, "CGA-BASE", "2026-01-10", "baseline", changes=["p.G12C"])
    report_b = _report(
        tmp_path,
        patient,
        HIDDEN_SAMPLE,
        "2026-09-01",
        "progression",
        changes=["p.G12C", HIDDEN_CHANGE],
        biomarkers=[{"kind": "TMB", "value": 23.5, "unit": "mut/Mb"}],
    )
    seg = tmp_path / "P-TB_hg38.seg"
    seg.write_text(SEG_HEADER + f"{HIDDEN_SAMPLE}\t17\t1\t22000000\t900\t-0.05\t2\t0\n")
    genomics_import(
        path=seg,
        by=None,
        patient_map=PatientMap.parse(f"sample_id,research_id\n{HIDDEN_SAMPLE},P-TB\n"),
        assay="FACETS",
    )
    tiers = ["sample_storage", "future_research", "genetic_analysis"]
    form = consent_form_create(
        kind="translational",
        programme="TB biobank",
        version="1",
        version_date=dt.date(2026, 1, 5),
        ethics_approval_date=dt.date(2026, 1, 6),
        valid_from=dt.date(2026, 1, 6),
        by=admin,
        options=tiers,
    )
    consent_sign(
        patient=patient,
        form=form,
        signed_on=dt.date(2026, 1, 8),
        by=admin,
        options_granted=dict.fromkeys(tiers, True),
    )
    collected = dt.datetime(2026, 9, 1, 10, tzinfo=dt.UTC)
    specimen = specimen_collect(
        patient=patient,
        registration=reg_b,
        specimen_type="tissue_frozen",
        quantity="12",
        unit="mg",
        collected_at=collected,
        received_at=collected,
        label="BB-TB-PROG",
        by=admin,
    )
    sequencing_run_record(
        specimen=specimen,
        assay="panel",
        library_id="LIB-TB-1",
        run_id="RUN-TB-1",
        by=admin,
        report=report_b,
    )
    for name, role in TRIAL_A_PERSONAS.items():
        if name not in unit.users:
            unit.users[name] = user_create(username=name, password="a-long-test-password-42")
            membership_grant(
                user=unit.users[name], role=role, site=unit.main, trial=unit.trial_main
            )
    return TrialBiopsy(
        patient,
        reg_a,
        reg_b,
        report_a.sample,
        report_b.sample,
        report_a,
        report_b,
        specimen,
    )
