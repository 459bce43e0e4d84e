from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from fixtures import GENOMICS as FIXTURES  # sources and licences: tests/fixtures/README.md

STUDY = FIXTURES / "cbioportal_study_es_0"
LAML = FIXTURES / "maftools" / "tcga_laml.maf.gz"
APL_PRIMARY = FIXTURES / "maftools" / "APL_primary.maf.gz"
APL_RELAPSE = FIXTURES / "maftools" / "APL_relapse.maf.gz"


def make_patients(site: Any, research_ids: Iterable[str], diagnosis: str = "") -> list[Any]:
    """Research patients with given identifiers (test set-up, as a referral import would)."""
    from oncotrials.apps.subjects.models import Patient

    return Patient.objects.bulk_create(
        Patient(
            research_id=rid,
            site=site,
            sex="U",
            year_of_birth=1960,
            diagnosis=diagnosis,
            referral_source="department",
            referral_date=dt.date(2026, 1, 5),
        )
        for rid in dict.fromkeys(research_ids)
    )


def identity_map(sample_ids: Iterable[str], **columns: dict[str, str]) -> Any:
    """A patient map whose research id is the sample id up to ``strip`` characters."""
    from oncotrials.core.genomics.normalised import PatientMap

    lines = ["sample_id,research_id"]
    lines += [f"{s},{s}" for s in sample_ids]
    return PatientMap.parse("\n".join(lines))


# One study patient id is longer than a research id may be (20 characters): it is mapped.
LONG_STUDY_PATIENT = ("TEST_PATIENT_NAMESPACE", "TEST-PAT-NS")


def study_patient_map() -> Any:
    from oncotrials.core.genomics.normalised import PatientMap

    return PatientMap.parse("patient_id,research_id\n" + ",".join(LONG_STUDY_PATIENT))


def make_study_patients(site: Any, diagnosis: str = "BRCA") -> None:
    from oncotrials.core.genomics import read_study

    ids = {s.patient_id for s in read_study(STUDY).samples}
    ids = (ids - {LONG_STUDY_PATIENT[0]}) | {LONG_STUDY_PATIENT[1]}
    make_patients(site, sorted(ids), diagnosis=diagnosis)
