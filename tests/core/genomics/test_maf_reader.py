"""MAF reader against the genomics fixtures and their known counts (tests/fixtures/README.md)."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.issues import GenomicFileError, Severity
from oncotrials.core.genomics.maf import read_maf, write_maf
from oncotrials.core.genomics.model import Mutation, VariantClass


def test_tcga_laml_per_gene_mutated_sample_counts(fixtures: Path) -> None:
    maf = read_maf(fixtures / "maftools" / "tcga_laml.maf.gz")
    # fixtures README (maftools::read.maf(tcga_laml.maf.gz) gene summary): 2207 rows, 193 samples
    assert len(maf) == 2207
    assert len(maf.samples) == 193
    counts = maf.mutated_samples_per_gene()
    expected = {
        "FLT3": 52,
        "DNMT3A": 48,
        "NPM1": 33,
        "IDH2": 20,
        "IDH1": 18,
        "TET2": 17,
        "RUNX1": 16,
        "NRAS": 15,
        "TP53": 15,
        "CEBPA": 13,
        "WT1": 12,
        "PTPN11": 9,
    }
    assert {g: counts[g] for g in expected} == expected


def test_tcga_laml_variant_classes_and_top_protein_changes(fixtures: Path) -> None:
    maf = read_maf(fixtures / "maftools" / "tcga_laml.maf.gz")
    # fixtures README: VC counts of tcga_laml.maf.gz
    assert maf.variant_class_counts() == {
        "Missense_Mutation": 1342,
        "Silent": 449,
        "Nonsense_Mutation": 103,
        "Splice_Site": 92,
        "Frame_Shift_Ins": 91,
        "Frame_Shift_Del": 52,
        "In_Frame_Ins": 42,
        "RNA": 10,
        "In_Frame_Del": 10,
        "Intron": 8,
        "IGR": 5,
        "5'Flank": 3,
    }
    f = maf.frame
    top = dict(
        f.group_by("gene", "protein_change")
        .len()
        .select(pl.concat_str("gene", "protein_change", separator=" "), "len")
        .iter_rows()
    )
    # fixtures README: NPM1 p.WQ288fs 26, IDH2 p.R140Q 16, IDH1 p.R132C 12, FLT3 p.D835Y 10
    assert top["NPM1 p.WQ288fs"] == 26
    assert top["IDH2 p.R140Q"] == 16
    assert top["IDH1 p.R132C"] == 12
    assert top["FLT3 p.D835Y"] == 10


def test_nonstandard_columns_are_reported(fixtures: Path) -> None:
    maf = read_maf(fixtures / "maftools" / "tcga_laml.maf.gz")
    assert set(maf.nonstandard_columns) == {"i_TumorVAF_WU", "i_transcript_name"}
    assert maf.columns_used["protein_change"] == "Protein_Change"
    assert any("i_TumorVAF_WU" in i.message for i in maf.issues)
    # VAF from the WashU percentage column: first row 45.66 %
    assert maf.frame["vaf"][0] == pytest.approx(0.4566)


def test_apl_files_with_old_mac_line_endings_and_bare_protein_changes(fixtures: Path) -> None:
    primary = read_maf(fixtures / "maftools" / "APL_primary.maf.gz")
    relapse = read_maf(fixtures / "maftools" / "APL_relapse.maf.gz")
    # fixtures README: primary 269 rows / 124 samples, relapse 161 rows / 58 samples
    assert (len(primary), len(primary.samples)) == (269, 124)
    assert (len(relapse), len(relapse.samples)) == (161, 58)
    pml = relapse.frame.filter(pl.col("gene") == "PML")
    assert pml.filter(pl.col("protein_change") == "p.A216V").height == 6  # README: A216V x6
    # FLT3_ITD pseudo-symbol and the non-standard "ITD" class are normalised and reported
    assert "FLT3_ITD" not in set(primary.frame["gene"])
    assert any("FLT3_ITD" in i.message for i in primary.issues)
    assert (
        primary.frame.filter(pl.col("protein_change_raw") == ".E546K")["protein_change"][0]
        == "p.E546K"
    )


def test_vcf2maf_output_both_protein_styles_agree(fixtures: Path) -> None:
    maf = read_maf(fixtures / "vcf2maf" / "test_b38_output.maf")
    assert len(maf) == 25
    rows = maf.frame.filter(pl.col("protein_change") == "p.L429R")
    assert rows.height == 1
    muts = maf.to_mutations()
    assert all(m.genome_build is not None and m.genome_build.value == "GRCh38" for m in muts)
    by_gene = maf.frame.group_by("gene").len()
    counts = dict(by_gene.iter_rows())
    # fixtures README: RUNX1 7, ERG 6, TMPRSS2 4, ICOSLG 3, U2AF1 2 rows
    assert {g: counts[g] for g in ("RUNX1", "ERG", "TMPRSS2", "ICOSLG", "U2AF1")} == {
        "RUNX1": 7,
        "ERG": 6,
        "TMPRSS2": 4,
        "ICOSLG": 3,
        "U2AF1": 2,
    }
    vaf = maf.frame.filter(pl.col("depth") > 0)
    assert (vaf["vaf"] == vaf["alt_count"] / vaf["depth"]).all()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


HEADER = (
    "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\tt_depth\tt_alt_count\n"
)


def test_any_column_order_and_three_letter_style(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "x.maf",
        "HGVSp\tVariant_Classification\tTumor_Sample_Barcode\tHugo_Symbol\n"
        "p.Gly12Cys\tMissense_Mutation\tS1\tKRAS\n",
    )
    (m,) = read_maf(p).to_mutations()
    assert (m.gene, m.sample_id, m.protein_change, m.protein_change_raw) == (
        "KRAS",
        "S1",
        "p.G12C",
        "p.Gly12Cys",
    )
    assert m.variant_class is VariantClass.MISSENSE


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    p = _write(tmp_path, "x.maf", "Hugo_Symbol\tVariant_Classification\nKRAS\tMissense_Mutation\n")
    with pytest.raises(GenomicFileError) as exc:
        read_maf(p)
    assert exc.value.extra["line"] == 1
    assert exc.value.extra["field"] == "Tumor_Sample_Barcode"
    assert "x.maf, line 1, field Tumor_Sample_Barcode" in exc.value.message


def test_truncated_file_names_the_short_line(tmp_path: Path) -> None:
    body = "KRAS\tS1\tMissense_Mutation\tp.G12C\t100\t10\n" * 3 + "TP53\tS2\tMissense"
    p = _write(tmp_path, "cut.maf", "#version 2.4\n" + HEADER + body)
    with pytest.raises(GenomicFileError) as exc:
        read_maf(p)
    assert exc.value.extra["line"] == 6
    assert "3 tab-separated fields but the header has 6" in exc.value.message


def test_wrong_delimiter_is_named(tmp_path: Path) -> None:
    p = _write(
        tmp_path, "comma.maf", HEADER.replace("\t", ",") + "KRAS,S1,Missense_Mutation,p.G12C,1,1\n"
    )
    with pytest.raises(GenomicFileError, match="','-separated"):
        read_maf(p)


def test_bad_values_name_line_and_field(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "bad.maf",
        HEADER
        + "KRAS\tS1\tMissense_Mutation\tp.G12C\t100\t10\n"
        + "TP53\t\tBogus\tp.R175H\tmany\t3\n",
    )
    with pytest.raises(GenomicFileError) as exc:
        read_maf(p)
    issues = {(i.line, i.field) for i in exc.value.issues}
    assert {(3, "Tumor_Sample_Barcode"), (3, "Variant_Classification"), (3, "t_depth")} <= issues


def test_mismatched_genome_build(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "b.maf",
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tNCBI_Build\n"
        "KRAS\tS1\tMissense_Mutation\tGRCh37\nTP53\tS1\tMissense_Mutation\tGRCh38\n",
    )
    with pytest.raises(GenomicFileError) as exc:
        read_maf(p, genome_build="GRCh37")
    assert (exc.value.extra["line"], exc.value.extra["field"]) == (3, "NCBI_Build")
    with pytest.raises(GenomicFileError, match="mixes genome builds"):
        read_maf(p)


def test_unknown_samples_are_rejected_when_the_clinical_file_is_known(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.maf", HEADER + "KRAS\tS9\tMissense_Mutation\tp.G12C\t100\t10\n")
    with pytest.raises(GenomicFileError, match="'S9' is not in the clinical sample file"):
        read_maf(p, known_samples={"S1"})


def test_gzip_and_write_round_trip(fixtures: Path, tmp_path: Path) -> None:
    original = read_maf(fixtures / "vcf2maf" / "test_b38_output.maf").to_mutations()
    out = tmp_path / "out.maf"
    write_maf(original, out)
    gz = tmp_path / "out.maf.gz"
    gz.write_bytes(gzip.compress(out.read_bytes()))
    assert read_maf(gz).to_mutations() == original


def test_validation_error_is_the_shared_hierarchy(tmp_path: Path) -> None:
    p = _write(tmp_path, "e.maf", "")
    with pytest.raises(ValidationError):
        read_maf(p)


class TestCbioportalNegativeMafs:
    """cbioportal-core's deliberately broken MAFs (fixtures cbioportal_negative/)."""

    def test_invalid_utf8_names_the_line(self, fixtures: Path) -> None:
        with pytest.raises(GenomicFileError) as exc:
            read_maf(fixtures / "cbioportal_negative" / "data_mutations_invalid_utf8.maf")
        assert exc.value.extra["line"] == 2
        assert "UTF-8" in exc.value.message

    def test_invalid_variant_classification(self, fixtures: Path) -> None:
        path = (
            fixtures / "cbioportal_negative" / "data_mutations_invalid_variant_classification.maf"
        )
        with pytest.raises(GenomicFileError) as exc:
            read_maf(path)
        # an empty class and a case-mangled one are errors even when lenient, the latter
        # naming the canonical spelling
        assert all(i.field == "Variant_Classification" for i in exc.value.issues)
        assert any(
            "Missense_mUtAtioN" in i.message and "'Missense_Mutation'" in i.message
            for i in exc.value.issues
        )
        with pytest.raises(GenomicFileError) as strict:
            read_maf(path, strict=True)
        assert any("Missense_mUtAtioN" in i.message for i in strict.value.issues)

    def test_missing_amino_acid_change_column_is_a_warning(self, fixtures: Path) -> None:
        maf = read_maf(
            fixtures / "cbioportal_negative" / "data_mutations_missing_aa_change_column.maf"
        )
        assert any(
            i.severity is Severity.WARNING and "no protein-change column" in i.message
            for i in maf.issues
        )
        assert "HGVSp_Shor" in maf.nonstandard_columns
        assert maf.frame["protein_change"].is_null().all()

    def test_wrong_amino_acid_change_is_an_error_in_strict_mode(self, fixtures: Path) -> None:
        path = fixtures / "cbioportal_negative" / "data_mutations_wrong_aa_change.maf"
        lenient = read_maf(path)
        assert any("not recognised" in i.message for i in lenient.issues)
        with pytest.raises(GenomicFileError) as exc:
            read_maf(path, strict=True)
        assert {i.field for i in exc.value.issues} == {"Amino_Acid_Change"}
        assert {i.line for i in exc.value.issues} >= {3, 5, 6}

    def test_too_long_hgvsp_short_is_an_error_in_strict_mode(self, fixtures: Path) -> None:
        path = fixtures / "cbioportal_negative" / "data_mutations_too_long_hgvsp_short.maf"
        with pytest.raises(GenomicFileError) as exc:
            read_maf(path, strict=True)
        assert exc.value.extra["line"] == 3
        assert "255" in exc.value.message


def test_core_columns_follow_the_mutation_fields() -> None:
    # MafTable.mutations() builds Mutation positionally from these columns.
    import dataclasses

    from oncotrials.core.genomics.maf import CORE_SCHEMA
    from oncotrials.core.genomics.model import Mutation

    assert [c for c in CORE_SCHEMA if c != "line"] == [f.name for f in dataclasses.fields(Mutation)]


def test_unknown_genes_are_rejected_against_a_gene_list(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "g.maf",
        HEADER
        + "KRAS\tS1\tMissense_Mutation\tp.G12C\t100\t10\nKRASS\tS1\tMissense_Mutation\tp.G12C\t100\t10\n"
        "HER2\tS1\tMissense_Mutation\tp.S310F\t100\t10\n",
    )
    with pytest.raises(GenomicFileError) as exc:
        read_maf(p, known_genes={"KRAS", "ERBB2"})  # HER2 is an alias of ERBB2: accepted
    assert [(i.line, i.field) for i in exc.value.issues] == [(3, "Hugo_Symbol")]
    assert "'KRASS'" in exc.value.message


def test_truncated_gzip_names_the_line(fixtures: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.maf.gz"
    cut.write_bytes((fixtures / "maftools" / "tcga_laml.maf.gz").read_bytes()[:30000])
    with pytest.raises(GenomicFileError, match="cut short") as exc:
        read_maf(cut)
    assert exc.value.extra["line"] > 1


def test_windows_line_endings(tmp_path: Path) -> None:
    p = tmp_path / "crlf.maf"
    p.write_bytes(
        (HEADER + "KRAS\tS1\tMissense_Mutation\tp.G12C\t100\t10\n").replace("\n", "\r\n").encode()
    )
    (m,) = read_maf(p).to_mutations()
    assert (m.gene, m.alt_count, m.vaf) == ("KRAS", 10, 0.1)


_NULLISH = {"NA", "N/A", "na", "nan", "NaN", "."}
_words = st.text(alphabet="ACGTacgtXYZ0123456789_.-:>", min_size=1, max_size=12).filter(
    lambda s: s not in _NULLISH
)


@st.composite
def _mutations(draw: st.DrawFn) -> Mutation:
    from oncotrials.core.genomics.model import GenomeBuild

    depth = draw(st.none() | st.integers(1, 5000))
    alt_count = None if depth is None else draw(st.integers(0, depth))
    vaf = (alt_count / depth) if depth else draw(st.none() | st.floats(0, 1, allow_nan=False))
    protein = draw(st.none() | st.sampled_from(["p.G12C", "p.V600E", "p.E746_A750del", "p.R175*"]))
    start = draw(st.none() | st.integers(1, 250_000_000))
    return Mutation(
        # (ids spelled like a null value, such as "NA", are read as empty: not generated)
        sample_id=draw(
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}", fullmatch=True).filter(
                lambda s: s not in _NULLISH
            )
        ),
        gene=draw(st.sampled_from(["KRAS", "EGFR", "TP53", "BRAF"])),
        variant_class=draw(st.sampled_from(list(VariantClass))),
        protein_change=protein,
        protein_change_raw=protein,
        hgvsc=draw(st.none() | _words),
        chromosome=draw(st.none() | st.sampled_from(["1", "7", "17", "X"])),
        start=start,
        end=start,
        ref=draw(st.none() | st.sampled_from(["A", "C", "GT", "-"])),
        alt=draw(st.none() | st.sampled_from(["T", "G", "-", "AC"])),
        vaf=vaf,
        depth=depth,
        alt_count=alt_count,
        consequence=draw(st.none() | _words),
        genome_build=draw(st.none() | st.just(GenomeBuild.GRCH38)),
        normal_sample_id=draw(
            st.none()
            | st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True).filter(lambda s: s not in _NULLISH)
        ),
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_mutations(), min_size=1, max_size=8))
def test_write_then_read_gives_the_same_mutations(tmp_path: Path, muts: list[Mutation]) -> None:
    # one genome build per file
    build = next((m.genome_build for m in muts if m.genome_build), None)
    muts = [dataclasses.replace(m, genome_build=build) for m in muts]
    out = tmp_path / "rt.maf"
    write_maf(muts, out)
    assert read_maf(out).to_mutations() == tuple(muts)
