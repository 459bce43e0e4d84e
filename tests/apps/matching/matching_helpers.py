"""Helpers of the trial-matching tests: a small precision unit with genomic reports.

Reports go in through the genomics app's public import service (a JSON genomic report per
sample, docs/formats/genomic-report.md), as the laboratory's files would.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TODAY = dt.date(2026, 11, 20)
G12C = {"and": [{"diagnosis": "NSCLC"}, {"genomic": {"gene": "KRAS", "protein_change": "p.G12C"}}]}
BRAF = {"genomic": {"gene": "BRAF", "wildcard_protein_change": "p.V600"}}
HER2 = {"genomic": {"gene": "ERBB2", "category": "cnv", "cn_call": "amplification"}}
_counter = itertools.count(1)


def make_patient(site: Any, by: Any, *, diagnosis: str, sex: str = "F", born: int = 1960) -> Any:
    from oncotrials.apps.subjects.services import patient_create

    n = next(_counter)
    return patient_create(
        site=site,
        by=by,
        family_name=f"Family{n}",
        given_name="Given",
        birth_date=dt.date(born, 3, 1),
        hospital_number=f"HM-{n:05d}-{site.code}",
        sex=sex,
        referral_source="tumour_board",
        referral_date=dt.date(2026, 10, 1),
        diagnosis=diagnosis,
    )


def import_report(
    tmp_path: Path,
    patient: Any,
    *,
    variants: list[dict[str, Any]] = (),  # type: ignore[assignment]
    cnas: list[dict[str, Any]] = (),  # type: ignore[assignment]
    svs: list[dict[str, Any]] = (),  # type: ignore[assignment]
    biomarkers: list[dict[str, Any]] = (),  # type: ignore[assignment]
    sample: str | None = None,
    oncotree: str = "LUAD",
) -> Any:
    """Import one JSON genomic report for ``patient`` (a system import) and return the result."""
    from oncotrials.apps.genomics.services import genomics_import

    n = next(_counter)
    sid = sample or f"{patient.research_id}-S{n}"
    doc = {
        "format_version": "1.0",
        "report_id": f"LAB-{n:06d}",
        "patient_id": patient.research_id,
        "sample": {
            "sample_id": sid,
            "kind": "tissue",
            "collected_on": "2026-09-01",
            "oncotree_code": oncotree,
        },
        "assay": {"name": "Tissue panel", "panel": "TP-500"},
        "reported_on": "2026-09-20",
        "genome_build": "GRCh38",
        "short_variants": [{"variant_class": "Missense_Mutation", **v} for v in variants],
        "copy_number_alterations": list(cnas),
        "structural_variants": list(svs),
        "biomarkers": list(biomarkers),
    }
    path = tmp_path / f"report-{n}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return genomics_import(path=path, by=None)


@dataclass
class Precision:
    unit: Any
    trial: Any  # T-MAIN, open, main site: cohorts G12C (1 slot), BRAF, HER2 (closed)
    g12c: Any
    braf: Any
    her2: Any
    kras_patient: Any  # LUAD, KRAS p.G12C, main site
    braf_patient: Any  # COAD, BRAF p.V600E, main site
    untested: Any  # LUAD, no report
    partner_patient: Any  # LUAD, KRAS p.G12C, partner site


def precision_unit(unit: Any, tmp_path: Path) -> Precision:
    from oncotrials.apps.matching.criteria import match_criteria_set
    from oncotrials.apps.subjects.services import slot_allocate
    from oncotrials.apps.trials.services import cohort_create, trial_change_status

    admin = unit.users["admin"]
    trial = unit.trial_main
    for status in ("set_up", "open"):
        trial_change_status(trial=trial, to_status=status, by=admin, reason="ready")
    g12c = cohort_create(
        trial=trial, code="G12C", name="KRAS G12C NSCLC", kind="expansion", by=admin
    )
    braf = cohort_create(trial=trial, code="BRAF", name="BRAF V600", kind="basket", by=admin)
    her2 = cohort_create(
        trial=trial, code="HER2", name="HER2 amplified", kind="basket", by=admin, is_open=False
    )
    for cohort, crit in ((g12c, G12C), (braf, BRAF), (her2, HER2)):
        trial.refresh_from_db()
        match_criteria_set(
            trial=trial,
            cohort_id=cohort.pk,
            criteria=crit,
            by=admin,
            reason="protocol v1",
            expected_version=trial.version,
        )
    slot_allocate(cohort=g12c, site=unit.main, slots=1, open_from=dt.date(2026, 1, 1), by=admin)
    nurse = unit.users["nurse"]
    kras = make_patient(unit.main, nurse, diagnosis="LUAD")
    braf_p = make_patient(unit.main, nurse, diagnosis="COAD", sex="M")
    untested = make_patient(unit.main, nurse, diagnosis="LUAD")
    partner = make_patient(unit.partner, unit.users["partner_investigator"], diagnosis="LUAD")
    import_report(
        tmp_path,
        kras,
        variants=[
            {"gene": "KRAS", "protein_change": "p.G12C"},
            {"gene": "TP53", "protein_change": "p.R273H"},
        ],
        cnas=[{"gene": "ERBB2", "call": "amplification"}],
    )
    import_report(
        tmp_path, braf_p, variants=[{"gene": "BRAF", "protein_change": "p.V600E"}], oncotree="COAD"
    )
    import_report(tmp_path, partner, variants=[{"gene": "KRAS", "protein_change": "p.G12C"}])
    trial.refresh_from_db()
    return Precision(unit, trial, g12c, braf, her2, kras, braf_p, untested, partner)
