"""Importing genomic files: known counts of the fixtures, idempotency, all or nothing."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import pytest
from genomics_helpers import (
    FIXTURES,
    LAML,
    STUDY,
    identity_map,
    make_patients,
    make_study_patients,
    study_patient_map,
)

from oncotrials.core.errors import PermissionDeniedError, ValidationError

NEGATIVE = FIXTURES / "cbioportal_negative"


def _counts() -> dict[str, int]:
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.genomics.models import (
        Biomarker,
        CopyNumberAlteration,
        GenomicReport,
        Mutation,
        Sample,
        StructuralVariant,
    )

    return {
        "samples": Sample.objects.count(),
        "reports": GenomicReport.objects.count(),
        "mutations": Mutation.objects.count(),
        "cnas": CopyNumberAlteration.objects.count(),
        "svs": StructuralVariant.objects.count(),
        "biomarkers": Biomarker.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def _laml_samples() -> tuple[str, ...]:
    from oncotrials.core.genomics import read_maf

    return read_maf(LAML).samples


@pytest.fixture
def laml(unit: Any) -> tuple[str, ...]:
    samples = _laml_samples()
    make_patients(unit.main, samples, diagnosis="AML")
    return samples


@pytest.fixture
def study_patients(unit: Any) -> None:
    make_study_patients(unit.main)


def test_tcga_laml_maf_imports_every_row_with_maftools_gene_counts(unit, biologist, laml):
    from django.db.models import Count

    from oncotrials.apps.genomics.models import Mutation
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics import VariantClass

    result = genomics_import(path=LAML, by=biologist, patient_map=identity_map(laml))
    # fixtures README (maftools tcga_laml.maf.gz): 2207 rows, 193 samples
    assert (result.mutations, result.reports_created, result.samples_created) == (2207, 193, 193)
    per_gene = dict(
        Mutation.objects.filter(
            variant_class__in=[v.value for v in VariantClass if v.is_protein_altering]
        )
        .values_list("gene")
        .annotate(n=Count("sample_id", distinct=True))
        .filter(gene__in=["FLT3", "DNMT3A", "NPM1", "IDH2", "IDH1", "TET2"])
    )
    # fixtures README: samples mutated (non-silent), as maftools' gene summary
    assert per_gene == {"FLT3": 52, "DNMT3A": 48, "NPM1": 33, "IDH2": 20, "IDH1": 18, "TET2": 17}
    # fixtures README: top protein changes; p.R140Q in IDH2 is in 16 rows
    assert Mutation.objects.filter(gene="IDH2", protein_change="p.R140Q").count() == 16


def test_study_import_has_the_known_clinical_and_alteration_counts(unit, biologist, study_patients):
    from oncotrials.apps.genomics.models import CopyNumberAlteration, Sample
    from oncotrials.apps.genomics.services import genomics_import

    result = genomics_import(path=STUDY, by=biologist, patient_map=study_patient_map())
    # fixtures README (study_es_0): 845 samples of 841 patients; MAF 36 rows; SV 48 rows;
    # CNA long values -1:1491, 1:189, 2:49, -2:14 (neutral calls are not stored); the MAF names
    # the blood normal (TCGA "-10") of tumours of 11 patients: one more sample each
    assert result.samples_created == 845 + 11
    assert Sample.objects.values("patient").distinct().count() == 841
    assert (result.mutations, result.structural_variants) == (36, 48)
    assert result.copy_numbers == 1491 + 189 + 49 + 14
    calls = {c: CopyNumberAlteration.objects.filter(call=c).count() for c in (-2, -1, 1, 2)}
    assert calls == {-2: 14, -1: 1491, 1: 189, 2: 49}


def test_one_audit_event_per_report_not_per_row(unit, biologist, laml):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.genomics.services import genomics_import

    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    result = genomics_import(path=LAML, by=biologist, patient_map=identity_map(laml))
    events = AuditEvent.objects.filter(id__gt=before)
    assert events.count() == result.reports_created == 193
    assert set(events.values_list("action", flat=True)) == {"import"}
    assert sum(e.changes["mutations"][1] for e in events) == 2207


def test_reimporting_the_same_file_changes_nothing(unit, biologist, laml):
    from oncotrials.apps.genomics.services import genomics_import

    genomics_import(path=LAML, by=biologist, patient_map=identity_map(laml))
    before = _counts()
    again = genomics_import(path=LAML, by=biologist, patient_map=identity_map(laml))
    assert (again.reports_created, again.reports_unchanged, again.mutations) == (0, 193, 0)
    assert _counts() == before


def test_a_small_file_is_hashed_without_a_thread_and_to_the_same_digests(
    unit, biologist, laml, monkeypatch
):
    from oncotrials.apps.genomics import services

    threads: list[int] = []
    pool = services.ThreadPoolExecutor

    def counted(*args: Any, **kwargs: Any) -> Any:
        threads.append(1)
        return pool(*args, **kwargs)

    monkeypatch.setattr(services, "ThreadPoolExecutor", counted)
    first = services.genomics_import(path=LAML, by=biologist, patient_map=identity_map(laml))
    assert (first.reports_created, threads) == (193, [])
    # The same file hashed in a thread (as a large one is) is recognised as already stored.
    monkeypatch.setattr(services, "HASH_IN_THREAD_ROWS", 0)
    again = services.genomics_import(path=LAML, by=biologist, patient_map=identity_map(laml))
    assert (again.reports_created, again.reports_unchanged, threads) == (0, 193, [1])


def test_reordered_rows_are_the_same_report(unit, biologist, laml, tmp_path: Path):
    from oncotrials.apps.genomics.services import genomics_import

    genomics_import(path=LAML, by=biologist, patient_map=identity_map(laml))
    lines = gzip.decompress(LAML.read_bytes()).decode().splitlines()
    shuffled = tmp_path / "laml_reversed.maf"
    shuffled.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    before = _counts()
    again = genomics_import(path=shuffled, by=biologist, patient_map=identity_map(laml))
    assert again.reports_created == 0
    assert _counts() == before


def test_changed_content_supersedes_only_that_samples_report(unit, biologist, laml, tmp_path):
    from oncotrials.apps.genomics.models import GenomicReport, Mutation
    from oncotrials.apps.genomics.selectors import CohortQuery, cohort_query
    from oncotrials.apps.genomics.services import genomics_import

    genomics_import(path=LAML, by=biologist, patient_map=identity_map(laml))
    lines = gzip.decompress(LAML.read_bytes()).decode().splitlines()
    first_sample = lines[1].split("\t")[13]
    kept = [ln for ln in lines[1:] if ln.split("\t")[13] != first_sample]
    dropped = [ln for ln in lines[1:] if ln.split("\t")[13] == first_sample]
    amended = tmp_path / "laml_amended.maf"
    amended.write_text("\n".join([lines[0], *kept, *dropped[1:]]) + "\n")
    result = genomics_import(path=amended, by=biologist, patient_map=identity_map(laml))
    assert (result.reports_created, result.reports_superseded) == (1, 1)
    assert result.mutations == len(dropped) - 1
    old = GenomicReport.objects.get(sample__sample_id=first_sample, superseded=True)
    assert Mutation.objects.filter(report=old).count() == len(dropped)  # kept for the record
    gene = dropped[0].split("\t")[0]
    found = cohort_query(
        user=unit.users["admin"], query=CohortQuery(gene=gene, include_silent=True)
    )
    current = [ln for ln in [*kept, *dropped[1:]] if ln.split("\t")[0] == gene]
    assert found.n_alterations == len(current)


@pytest.mark.parametrize(
    ("name", "replaces"),
    [
        ("data_mutations_invalid_utf8.maf", "data_mutations_extended.maf"),
        ("data_mutations_invalid_variant_classification.maf", "data_mutations_extended.maf"),
        ("data_cna_long_invalid_values.txt", "data_cna_discrete.txt"),
        ("data_cna_long_duplicated_gene.txt", "data_cna_discrete.txt"),
        ("data_cna_long_genecol_no_sample_id.txt", "data_cna_discrete.txt"),
        ("data_clinical_pat_no_hdr.txt", "data_clinical_patients.txt"),
    ],
)
def test_a_study_with_a_broken_file_imports_nothing_and_names_file_line_field(
    unit, biologist, study_patients, tmp_path, name, replaces
):
    from oncotrials.apps.genomics.services import genomics_import

    study = tmp_path / "study"
    shutil.copytree(STUDY, study)
    shutil.copy(NEGATIVE / name, study / replaces)
    before = _counts()
    with pytest.raises(ValidationError) as info:
        genomics_import(path=study, by=biologist, patient_map=study_patient_map())
    assert replaces in info.value.message
    assert "line" in info.value.message
    assert _counts() == before


def test_truncated_gzip_and_wrong_delimiter_are_refused(unit, biologist, laml, tmp_path):
    from oncotrials.apps.genomics.services import genomics_import

    truncated = tmp_path / "cut.maf.gz"
    truncated.write_bytes(LAML.read_bytes()[:20_000])
    csv_maf = tmp_path / "comma.maf"
    lines = gzip.decompress(LAML.read_bytes()).decode().splitlines()[:5]
    csv_maf.write_text("\n".join(ln.replace("\t", ",") for ln in lines) + "\n")
    before = _counts()
    for bad in (truncated, csv_maf):
        with pytest.raises(ValidationError) as info:
            genomics_import(path=bad, by=biologist, patient_map=identity_map(laml))
        assert bad.name in info.value.message
    assert _counts() == before


def test_unknown_patient_is_a_clear_error_and_nothing_is_written(unit, biologist, laml):
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics.normalised import PatientMap

    pmap = PatientMap.parse(
        "sample_id,research_id\n" + "\n".join(f"{s},{s}" for s in laml[:-1]) + f"\n{laml[-1]},NOPE"
    )
    before = _counts()
    with pytest.raises(ValidationError) as info:
        genomics_import(path=LAML, by=biologist, patient_map=pmap)
    assert "NOPE" in info.value.message
    assert "Tumor_Sample_Barcode" in info.value.message
    assert _counts() == before
    with pytest.raises(ValidationError, match="no patient"):
        genomics_import(path=LAML, by=biologist)  # a MAF names no patient: a map is needed
    assert _counts() == before


def test_patients_of_another_site_are_unknown_and_readers_may_not_import(unit, biologist):
    from oncotrials.apps.genomics.services import genomics_import

    samples = _laml_samples()
    make_patients(unit.partner, samples, diagnosis="AML")
    before = _counts()
    with pytest.raises(ValidationError):  # the biologist may not see partner patients
        genomics_import(path=LAML, by=biologist, patient_map=identity_map(samples))
    with pytest.raises(PermissionDeniedError):  # sees them, but an investigator does not import
        genomics_import(
            path=LAML, by=unit.users["partner_investigator"], patient_map=identity_map(samples)
        )
    assert _counts() == before


def test_a_failure_while_writing_rolls_everything_back(unit, biologist, laml, monkeypatch):
    from oncotrials.apps.genomics import services

    calls = {"n": 0}
    real = services.audit_record

    def failing(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 150:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(services, "audit_record", failing)
    before = _counts()
    with pytest.raises(RuntimeError):
        services.genomics_import(path=LAML, by=biologist, patient_map=identity_map(laml))
    assert _counts() == before


def test_patient_map_sets_sample_facts_and_their_correction_is_audited(unit, biologist, laml):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.genomics.models import Sample
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.core.genomics.normalised import PatientMap

    rows = "\n".join(f"{s},{s},baseline,tissue,2026-01-0{1 + i % 9}" for i, s in enumerate(laml))
    header = "sample_id,research_id,timepoint,kind,collected_on\n"
    genomics_import(path=LAML, by=biologist, patient_map=PatientMap.parse(header + rows))
    s = Sample.objects.get(sample_id=laml[0])
    assert (s.timepoint, s.kind, str(s.collected_on)) == ("baseline", "tissue", "2026-01-01")
    corrected = rows.replace(f"{laml[0]},{laml[0]},baseline", f"{laml[0]},{laml[0]},progression")
    last_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    genomics_import(path=LAML, by=biologist, patient_map=PatientMap.parse(header + corrected))
    s.refresh_from_db()
    assert s.timepoint == "progression"
    event = AuditEvent.objects.get(id__gt=last_id)
    assert event.action == "update"
    assert event.changes["timepoint"] == ["baseline", "progression"]
