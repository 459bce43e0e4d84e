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
    # line 2 of test_b38.vcf: ##contig=<ID=21,length=46709983>, the GRCh38 length of chr21
    assert (exc.value.extra["line"], exc.value.extra["field"]) == (2, "reference")


def test_truncated_vcf_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "t.vcf"
    p.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\n")
    with pytest.raises(GenomicFileError):
        read_vcf(p)


VEP_VCF = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=7,length=159345973>
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|HGVSc|HGVSp">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNORMAL\tTUMOUR
7\t55191822\t.\tT\tG\t.\tPASS\tCSQ=G|missense_variant|MODERATE|EGFR|ENST00000275493.7:c.2573T>G|ENSP00000275493.2:p.Leu858Arg\tGT:AD:DP\t0/0:60,0:60\t0/1:70,30:100
7\t55174772\t.\tGGAATTAAGAGAAGCA\tG\t.\tPASS\tCSQ=-|inframe_deletion|MODERATE|EGFR|ENST00000275493.7:c.2235_2249del|ENSP00000275493.2:p.Glu746_Ala750del\tGT:AD:DP\t0/0:50,0:50\t0/1:40,10:50
"""


def test_vep_annotated_vcf_gives_genes_and_protein_changes(tmp_path: Path) -> None:
    p = tmp_path / "vep.vcf"
    p.write_text(VEP_VCF)
    r = read_vcf(p)
    assert r.tumour_sample == "TUMOUR"
    assert r.genome_build is GenomeBuild.GRCH38
    assert [(m.gene, m.protein_change, m.variant_class.value) for m in r.mutations] == [
        ("EGFR", "p.L858R", "Missense_Mutation"),
        ("EGFR", "p.E746_A750del", "In_Frame_Del"),
    ]
    assert r.mutations[0].vaf == pytest.approx(0.3)
    assert r.mutations[0].hgvsc == "c.2573T>G"


def test_progress_callback_counts_records(fixtures: Path) -> None:
    seen: list[int] = []
    read_vcf(fixtures / "vcf2maf" / "test_mutect.vcf", progress=seen.append)
    assert seen == []  # called every 10,000 records; the file has 500


def test_vcf_cut_mid_record_names_the_last_line(fixtures: Path, tmp_path: Path) -> None:
    text = (fixtures / "vcf2maf" / "test_b38.vcf").read_text()
    p = tmp_path / "cut.vcf"
    p.write_text(text[: text.rindex("\t")])  # drop the end of the last record
    with pytest.raises(GenomicFileError, match="truncated") as exc:
        read_vcf(p)
    assert exc.value.extra["line"] == len(text.splitlines())
