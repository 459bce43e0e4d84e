"""Biobank specimens in the cBioPortal programme export: a primary specimen is a SPECIMEN event
of the timeline (days from referral, its label, never its date); its aliquots are not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any


def _report(patient: Any, tmp_path: Path) -> None:
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics.normalised import PatientMap

    maf = tmp_path / "r.maf"
    maf.write_text(
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\tNCBI_Build\n"
        "KRAS\tBIO-1\tMissense_Mutation\tp.G12D\tGRCh38\n"
    )
    pmap = PatientMap.parse(f"sample_id,research_id\nBIO-1,{patient.research_id}\n")
    genomics_import(path=maf, by=None, patient_map=pmap)


def test_a_primary_specimen_is_a_timeline_event(
    bank: Any, collect: Any, at: Any, tmp_path: Path
) -> None:
    from oncotrials.apps.biobank.services import specimen_aliquot
    from oncotrials.apps.exports.cbioportal import cbioportal_export
    from oncotrials.core.genomics import read_study

    primary = collect(bank, collected_at=at(dt.date(2026, 11, 10)))
    specimen_aliquot(parent=primary, count=2, quantity="5", unit="mg", by=bank.tech)
    _report(bank.patient, tmp_path)
    out = cbioportal_export(directory=tmp_path / "s", study_id="s", by=None)
    events = [e for e in read_study(out).timeline if e.event_type == "SPECIMEN"]
    # referral 2026-10-01 (day 0) -> collected 2026-11-10 is day 40
    assert [(e.start, e.attributes.get("SPECIMEN_ID"), e.attributes["SOURCE"]) for e in events] == [
        (40, primary.label, "Biobank")
    ]
    assert "2026-11-10" not in (out / "data_timeline_specimen.txt").read_text()
