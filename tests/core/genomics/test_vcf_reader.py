"""Somatic VCFs from mskcc/vcf2maf tests/ (fixtures README gives the record counts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncotrials.core.genomics.issues import GenomicFileError
from oncotrials.core.genomics.model import GenomeBuild
from oncotrials.core.genomics.vcf import read_vcf


def _snv(m: object) -> bool:
    return len(m.ref) == 1 and len(m.alt) == 1  # type: ignore[attr-defined]


def test_b38_tumour_first(fixtures: Path) -> None:
    r = read_vcf(fixtures / "vcf2maf" / "test_b38.vcf")
    # fixtures README: 25 records, 22 SNV + 3 indel, columns TUMOR,NORMAL
    assert (r.n_records, len(r.mutations)) == (25, 25)
    assert sum(_snv(m) for m in r.mutations) == 22
    assert (r.tumour_sample, r.normal_sample) == ("TUMOR", "NORMAL")
    assert r.genome_build is GenomeBuild.GRCH38  # contig 21 length 46709983 is GRCh38
    first = r.mutations[0]
    # first record: GT:AD:DP 0/1:.,21:54 for TUMOR
    assert (first.alt_count, first.depth) == (21, 54)
    assert first.vaf == pytest.approx(21 / 54)


def test_mutect_filter_honoured_and_normal_first(fixtures: Path) -> None:
    r = read_vcf(fixtures / "vcf2maf" / "test_mutect.vcf")
    # fixtures README: 500 records, 495 REJECT, 5 PASS; NORMAL column first
    assert r.filter_counts == {"REJECT": 495, "PASS": 5}
    assert (len(r.mutations), r.n_filtered) == (5, 495)
    assert r.tumour_sample == "TUMOR"
    everything = read_vcf(fixtures / "vcf2maf" / "test_mutect.vcf", pass_only=False)
    assert len(everything.mutations) == 500
    # first record: NORMAL (first column) AD 160,31 DP 192; TUMOR (second column) AD 175,30 DP 206
    m = everything.mutations[0]
    assert (m.alt_count, m.depth) == (30, 206)


def test_strelka_tier1_counts(fixtures: Path) -> None:
    r = read_vcf(fixtures / "vcf2maf" / "test_strelka.vcf")
    # fixtures README: 240 records, 233 SNV, 7 indel
    assert len(r.mutations) == 240
    assert sum(_snv(m) for m in r.mutations) == 233
    assert all(m.alt_count is not None for m in r.mutations)


def test_varscan_percent_frequency(fixtures: Path) -> None:
    r = read_vcf(fixtures / "vcf2maf" / "test_varscan.vcf")
    # fixtures README: 500 records, 475 SNV, 25 indel; FREQ written as "48.7%"
    assert len(r.mutations) == 500
    assert sum(_snv(m) for m in r.mutations) == 475
    m = r.mutations[0]
    # first record TUMOR: DP 91, RD 56, AD 35, FREQ 38.46%
    assert (m.alt_count, m.depth) == (35, 91)
    assert m.vaf == pytest.approx(0.3846)


def test_delly_structural_variants(fixtures: Path) -> None:
    r = read_vcf(fixtures / "vcf2maf" / "test_delly.vcf")
    # fixtures README: 15 SV records, 10 PASS, 5 LowQual
    assert r.filter_counts == {"PASS": 10, "LowQual": 5}
    assert len(r.structural_variants) == 10
    assert r.mutations == ()


def test_samples_are_mapped_by_name(fixtures: Path) -> None:
    swapped = read_vcf(
        fixtures / "vcf2maf" / "test_mutect.vcf", tumour="NORMAL", normal="TUMOR", pass_only=False
    )
    assert swapped.mutations[0].alt_count == 31


def test_unknown_sample_name_lists_the_columns(fixtures: Path) -> None:
    with pytest.raises(GenomicFileError, match="columns are NORMAL, TUMOR") as exc:
        read_vcf(fixtures / "vcf2maf" / "test_mutect.vcf", tumour="T1")
    assert exc.value.extra["field"] == "#CHROM"


def test_mismatched_genome_build_names_the_header_line(fixtures: Path) -> None:
    with pytest.raises(GenomicFileError) as exc:
        read_vcf(fixtures / "vcf2maf" / "test_b38.vcf", genome_build="GRCh37")
    assert (exc.value.extra["line"], exc.value.extra["field"]) == (3, "reference")


def test_truncated_vcf_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "t.vcf"
    p.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\n")
    with pytest.raises(GenomicFileError):
        read_vcf(p)
