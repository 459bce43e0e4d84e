"""cBioPortal export round trip, the APL serial-biopsy atlas, and the import/export commands."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from genomics_helpers import (
    APL_PRIMARY,
    APL_RELAPSE,
    LAML,
    LONG_STUDY_PATIENT,
    STUDY,
    identity_map,
    make_patients,
    make_study_patients,
    study_patient_map,
)
from typer.testing import CliRunner


def test_study_round_trip_import_export_reread_gives_the_same_data(unit, biologist, tmp_path):
    from oncotrials.apps.exports.cbioportal import cbioportal_export as genomics_export_study
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics import read_study

    make_study_patients(unit.main)
    genomics_import(path=STUDY, by=biologist, patient_map=study_patient_map())
    out = genomics_export_study(directory=tmp_path / "export", study_id="rt_study", by=biologist)
    original = read_study(STUDY, keep_neutral_cna=False)
    again = read_study(out, keep_neutral_cna=False)
    rename = dict([LONG_STUDY_PATIENT])
    assert {s.sample_id: rename.get(s.patient_id, s.patient_id) for s in original.samples} == {
        s.sample_id: s.patient_id for s in again.samples
    }
    assert Counter(original.mutations) == Counter(again.mutations)
    assert Counter(original.copy_numbers) == Counter(again.copy_numbers)
    assert Counter(original.structural_variants) == Counter(again.structural_variants)
    for s in original.samples:  # the gene panels travel too
        assert original.covered_genes(s.sample_id) == again.covered_genes(s.sample_id)
    # And importing the export changes nothing: the same reports, by content.
    from oncotrials.apps.genomics.models import GenomicReport

    n = GenomicReport.objects.count()
    result = genomics_import(path=out, by=biologist, assay=f"cBioPortal:{original.study_id}")
    assert (result.reports_created, GenomicReport.objects.count()) == (0, n)


def test_export_holds_only_what_the_user_may_see(unit, biologist, tmp_path):
    from oncotrials.apps.exports.cbioportal import cbioportal_export as genomics_export_study
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.errors import ValidationError
    from oncotrials.core.genomics import read_maf, read_study

    samples = read_maf(LAML).samples
    make_patients(unit.main, samples[:100], diagnosis="AML")
    make_patients(unit.partner, samples[100:], diagnosis="AML")
    genomics_import(path=LAML, by=unit.users["admin"], patient_map=identity_map(samples))
    out = genomics_export_study(directory=tmp_path / "main", study_id="main_only", by=biologist)
    assert {s.sample_id for s in read_study(out).samples} == set(samples[:100])
    with pytest.raises(ValidationError):
        genomics_export_study(
            directory=tmp_path / "none", study_id="none", by=unit.users["outsider"]
        )


def test_apl_relapse_pairs_give_the_known_on_target_events_in_the_atlas(unit, biologist):
    from oncotrials.apps.genomics.selectors import resistance_atlas_for_user
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics import read_maf
    from oncotrials.core.genomics.normalised import PatientMap

    primary, relapse = read_maf(APL_PRIMARY).samples, read_maf(APL_RELAPSE).samples
    make_patients(unit.main, [f"APL-{s[:-1]}" for s in (*primary, *relapse)], "APLPMLRARA")
    header = "sample_id,research_id,timepoint,therapy\n"
    for path, samples, timepoint, therapy in (
        (APL_PRIMARY, primary, "baseline", ""),
        (APL_RELAPSE, relapse, "progression", "ATRA; arsenic trioxide"),  # APL therapy
    ):
        rows = "\n".join(f"{s},APL-{s[:-1]},{timepoint},{therapy}" for s in samples)
        genomics_import(path=path, by=biologist, patient_map=PatientMap.parse(header + rows))
    atlas = resistance_atlas_for_user(user=biologist)
    assert len(atlas.reports) == 22  # fixtures README: 22 paired patients
    found = {
        (r.patient_id, a.label)
        for r in atlas.reports
        for a in r.acquired
        if a.mechanism.value == "on_target_secondary"
    }
    # fixtures README: relapse-only PML/RARA events of the 22 pairs
    assert found == {
        ("APL-243", "PML p.A216V"),
        ("APL-DS4", "PML p.A216V"),
        ("APL-DS6", "PML p.D219E"),
        ("APL-DS6", "PML p.S220C"),
        ("APL-29", "RARA p.G289R"),
    }
    assert atlas.counts[("on_target_secondary", "PML")] == 3
    assert atlas.counts[("on_target_secondary", "RARA")] == 1
    assert atlas.reports[0].drugs  # the therapy recorded on the progression sample was used


def test_cli_import_prints_counts_and_a_second_run_changes_nothing(unit, biologist, tmp_path):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.cli.commands.genomics import app

    samples = _laml_samples()
    make_patients(unit.main, samples, diagnosis="AML")
    pmap = tmp_path / "map.csv"
    pmap.write_text("sample_id,research_id\n" + "\n".join(f"{s},{s}" for s in samples))
    runner = CliRunner()
    args = ["import", str(LAML), "--patient-map", str(pmap), "--user", "biologist"]
    first = runner.invoke(app, [*args, "--format", "json"])
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert (doc["mutations"], doc["reports_created"]) == (2207, 193)
    assert AuditEvent.objects.filter(action="import", channel="cli").count() == 193
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "reports unchanged" in second.stdout
    assert "193" in second.stdout


def test_cli_import_errors_are_one_line_with_exit_1_and_export_writes_a_study(
    unit, biologist, tmp_path
):
    from oncotrials.cli.commands.genomics import app

    runner = CliRunner()
    bad = runner.invoke(app, ["import", str(LAML)])  # no patient map, no registered patients
    assert bad.exit_code == 1
    assert "no patient" in bad.output
    nobody = runner.invoke(app, ["import", str(LAML), "--user", "ghost"])
    assert nobody.exit_code == 1
    assert "ghost" in nobody.output
    samples = _laml_samples()
    make_patients(unit.main, samples, diagnosis="AML")
    pmap = tmp_path / "map.csv"
    pmap.write_text("sample_id,research_id\n" + "\n".join(f"{s},{s}" for s in samples))
    assert runner.invoke(app, ["import", str(LAML), "--patient-map", str(pmap)]).exit_code == 0
    out = tmp_path / "study"
    exported = runner.invoke(app, ["export", str(out), "--study-id", "laml_export"])
    assert exported.exit_code == 0, exported.output
    assert "cancer_study_identifier: laml_export" in (out / "meta_study.txt").read_text()
    from oncotrials.core.genomics import read_study

    assert len(read_study(out).mutations) == 2207  # every row of the imported MAF


def _laml_samples() -> Any:
    from oncotrials.core.genomics import read_maf

    return read_maf(LAML).samples


def test_cli_resistance_for_a_patient_of_the_database(unit, biologist, tmp_path):
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.cli.commands.genomics import app
    from oncotrials.core.genomics.normalised import PatientMap

    make_patients(unit.main, ["P-KRAS"], diagnosis="LUAD")
    maf = tmp_path / "serial.maf"
    maf.write_text(
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\n"
        "KRAS\tB1\tMissense_Mutation\tp.G12C\n"
        "KRAS\tR1\tMissense_Mutation\tp.G12C\n"
        "KRAS\tR1\tMissense_Mutation\tp.R68S\n"
    )
    pmap = "sample_id,research_id,timepoint,therapy\nB1,P-KRAS,baseline,\nR1,P-KRAS,progression,adagrasib\n"
    genomics_import(path=maf, by=biologist, patient_map=PatientMap.parse(pmap))
    runner = CliRunner()
    out = runner.invoke(app, ["resistance", "--patient", "P-KRAS", "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    # Acquired KRAS p.R68S under adagrasib, a secondary on-target change described by Awad MM
    # et al., N Engl J Med 2021;384:2382-2393; adagrasib targets KRAS in the core drug map.
    assert [(a["alteration"], a["mechanism"]) for a in doc["acquired"]] == [
        ("KRAS p.R68S", "on_target_secondary")
    ]
    missing = runner.invoke(app, ["resistance", "--patient", "P-NONE"])
    assert missing.exit_code == 1
    assert "P-NONE" in missing.output
    neither = runner.invoke(app, ["resistance"])
    assert neither.exit_code == 1


def test_json_report_imports_with_its_metadata_tiers_and_biomarkers_and_exports(
    unit, biologist, tmp_path
):
    import datetime as dt
    from pathlib import Path

    from oncotrials.apps.exports.cbioportal import cbioportal_export as genomics_export_study
    from oncotrials.apps.genomics.models import Biomarker, GenomicReport, Mutation
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics import BiomarkerKind, read_study

    example = (
        Path(__file__).resolve().parents[3] / "docs" / "formats" / "genomic-report.example.json"
    )
    make_patients(unit.main, ["ONC-0042"], diagnosis="LUAD")
    result = genomics_import(path=example, by=biologist)  # the file names its research patient
    assert (result.mutations, result.copy_numbers, result.biomarkers) == (3, 1, 2)
    report = GenomicReport.objects.select_related("sample").get()
    assert (report.assay, report.panel, report.version, report.lab) == (
        "Liquid biopsy panel",
        "LB-74",
        "2.1",
        "Molecular pathology laboratory",
    )
    assert report.reported_on == dt.date(2026, 3, 16)
    assert len(report.covered_genes) == 11
    s = report.sample
    assert (s.kind, s.timepoint, s.collected_on, s.tumour_fraction) == (
        "cfdna",
        "progression",
        dt.date(2026, 3, 2),
        0.18,
    )
    # The shipped ESCAT table: EGFR p.L858R in LUAD (NSCLC) is tier I-A.
    assert Mutation.objects.get(protein_change="p.L858R").escat_tier == "I-A"
    assert Biomarker.objects.count() == 2
    out = genomics_export_study(directory=tmp_path / "json", study_id="json_rt", by=biologist)
    markers = {b.kind: b for b in read_study(out).biomarkers}
    assert markers[BiomarkerKind.TMB].value == 4.2
    assert markers[BiomarkerKind.MSI].status == "MSS"
