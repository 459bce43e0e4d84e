"""``read_any``: one dispatch from a file's kind to its reader and its normaliser."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.cbioportal import GenePanel, Study
from oncotrials.core.genomics.detect import FileKind
from oncotrials.core.genomics.issues import GenomicFileError
from oncotrials.core.genomics.maf import MafTable, read_maf
from oncotrials.core.genomics.model import CopyNumber, GenomicReport, StructuralVariant
from oncotrials.core.genomics.normalised import KINDS
from oncotrials.core.genomics.reading import FORMATS, IMPORTABLE, Clinical, read_any
from oncotrials.core.genomics.seg import SegTable
from oncotrials.core.genomics.vcf import VcfResult

STUDY = "cbioportal_study_es_0"
LAML = "maftools/tcga_laml.maf.gz"
REPORT = Path(__file__).resolve().parents[3] / "docs" / "formats" / "genomic-report.example.json"


def test_every_kind_has_a_reader_and_the_importable_ones_a_normaliser() -> None:
    assert set(FORMATS) == set(FileKind)
    assert {FileKind.MAF, FileKind.VCF, FileKind.REPORT, FileKind.STUDY, FileKind.SEG} == IMPORTABLE


@pytest.mark.parametrize(
    ("relative", "kind", "label", "content"),
    [
        (STUDY, FileKind.STUDY, "cBioPortal study", Study),
        (f"{STUDY}/data_mutations_extended.maf", FileKind.MAF, "MAF", MafTable),
        (LAML, FileKind.MAF, "MAF", MafTable),
        ("vcf2maf/test_strelka.vcf", FileKind.VCF, "VCF", VcfResult),
        (f"{STUDY}/data_cna_discrete.txt", FileKind.CNA_LONG, "cBioPortal cna long", tuple),
        (f"{STUDY}/legacy_wide_cna/data_cna_discrete.txt", FileKind.CNA_WIDE, None, tuple),
        (f"{STUDY}/data_structural_variants.txt", FileKind.SV, None, tuple),
        (f"{STUDY}/timeline/data_timeline.txt", FileKind.TIMELINE, None, tuple),
        (f"{STUDY}/data_clinical_samples.txt", FileKind.CLINICAL_SAMPLE, None, Clinical),
        (f"{STUDY}/data_clinical_patients.txt", FileKind.CLINICAL_PATIENT, None, Clinical),
        (f"{STUDY}/data_gene_panel_testpanel1.txt", FileKind.GENE_PANEL, None, GenePanel),
        (f"{STUDY}/meta_study.txt", FileKind.META, "cBioPortal meta", dict),
        (f"{STUDY}/data_cna_hg19.seg", FileKind.SEG, "SEG copy-number segments", SegTable),
    ],
)
def test_each_kind_goes_to_its_reader(
    fixtures: Path, relative: str, kind: FileKind, label: str | None, content: type
) -> None:
    read = read_any(fixtures / relative)
    assert read.kind is kind
    assert read.label == (label or FORMATS[kind].label)
    assert isinstance(read.content, content)
    assert read.path == fixtures / relative


def test_a_report_is_read_with_its_notices() -> None:
    read = read_any(REPORT)
    assert read.kind is FileKind.REPORT
    assert isinstance(read.content, GenomicReport)
    parsed = read.normalised(assay="ignored")
    sid = read.content.sample.sample_id
    assert parsed.fmt == "JSON report"
    assert parsed.reports[sid].assay == read.content.assay  # a report names its own assay
    assert parsed.samples[sid].file_patient == read.content.sample.patient_id
    assert parsed.notices == [str(i) for i in read.notices]


def test_the_options_reach_the_readers(fixtures: Path) -> None:
    with pytest.raises(GenomicFileError, match="does not match the expected GRCh38"):
        read_any(fixtures / LAML, genome_build="GRCh38")
    every = read_any(fixtures / STUDY)
    changed = read_any(fixtures / STUDY, keep_neutral_cna=False)
    assert isinstance(every.content, Study)
    assert isinstance(changed.content, Study)
    assert any(c.call.value == 0 for c in every.content.copy_numbers)
    assert all(c.call.value != 0 for c in changed.content.copy_numbers)
    cna = read_any(fixtures / STUDY / "data_cna_discrete.txt", keep_neutral_cna=False)
    assert all(isinstance(c, CopyNumber) and c.call.value != 0 for c in cna.content)
    svs = read_any(fixtures / STUDY / "data_structural_variants.txt")
    assert all(isinstance(s, StructuralVariant) for s in svs.content)


def test_a_single_study_file_is_refused_before_it_is_read(fixtures: Path) -> None:
    broken = fixtures / "cbioportal_negative" / "data_clin_repeated_sample.txt"
    with pytest.raises(GenomicFileError):
        read_any(broken)  # read on its own, it has errors
    with pytest.raises(ValidationError, match="looks like a single clinical_sample file") as info:
        read_any(broken, accept=IMPORTABLE)
    assert info.value.extra["field"] == "path"
    panel = read_any(fixtures / STUDY / "data_gene_panel_testpanel1.txt")
    with pytest.raises(ValidationError, match="give the whole study directory instead"):
        panel.normalised()


def test_a_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"^nothing\.maf: no such file or directory\.$"):
        read_any(tmp_path / "nothing.maf")


@pytest.mark.parametrize(
    "relative", [STUDY, LAML, "vcf2maf/test_strelka.vcf", "vcf2maf/test_delly.vcf"]
)
def test_normalised_frames_have_one_schema_per_kind(fixtures: Path, relative: str) -> None:
    read = read_any(fixtures / relative, keep_neutral_cna=False)
    parsed = read.normalised(assay="panel-x")
    assert parsed.source == (fixtures / relative).name
    assert parsed.fmt == read.label
    for kind, schema in KINDS.items():
        assert dict(parsed.frames[kind].schema) == schema
    assert parsed.notices == [str(i) for i in read.notices]
    assert {r.assay for r in parsed.reports.values()} == {"panel-x"}
    assert set(parsed.reports) == set(parsed.samples)


def test_a_maf_normalises_to_its_reader_rows(fixtures: Path) -> None:
    table = read_maf(fixtures / LAML)
    parsed = read_any(fixtures / LAML).normalised()
    assert parsed.frames["mutations"].height == len(table)
    assert list(parsed.samples) == list(table.samples)
    assert {r.assay for r in parsed.reports.values()} == {"MAF"}
    assert parsed.patient_field == "Tumor_Sample_Barcode"
