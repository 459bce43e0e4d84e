"""The columnar MAF path: shape checked from the parse, checks evaluated in one pass.

The reader validates with vectorised checks and looks row by row only at a check that failed;
these tests pin that every such check still names the line and field of every offending row,
that blank lines and ragged lines are found wherever they are, and that blanks around values
are removed only where present but always when present.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oncotrials.core.genomics import read_maf
from oncotrials.core.genomics.genes import normalise_variant_class, variant_class_needs_type
from oncotrials.core.genomics.issues import GenomicFileError
from oncotrials.core.genomics.model import VariantClass

HEADER = "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\tt_depth\n"
ROW = "KRAS\tS1\tMissense_Mutation\tp.G12C\t100\n"


def _maf(tmp_path: Path, body: str, name: str = "x.maf", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(("#version 2.4\n" + HEADER + body).encode(encoding))
    return p


def _error(path: Path, **kwargs: object) -> GenomicFileError:
    with pytest.raises(GenomicFileError) as exc:
        read_maf(path, **kwargs)  # type: ignore[arg-type]
    return exc.value


def test_a_blank_line_inside_the_table_is_named(tmp_path: Path) -> None:
    err = _error(_maf(tmp_path, ROW + "\n" + ROW))
    assert (err.extra["line"], err.extra["field"]) == (4, None)
    assert "the line is empty" in err.message


def test_a_line_of_blanks_inside_the_table_is_named(tmp_path: Path) -> None:
    err = _error(_maf(tmp_path, ROW + ROW + "   \n" + ROW))
    assert err.extra["line"] == 5
    assert "the line is empty" in err.message


def test_trailing_newlines_are_not_rows(tmp_path: Path) -> None:
    assert len(read_maf(_maf(tmp_path, ROW + ROW + "\n\n\n"))) == 2


@pytest.mark.parametrize("where", [0, 2])  # first data line (the parser's model) or later
def test_a_line_with_extra_fields_is_named_wherever_it_is(tmp_path: Path, where: int) -> None:
    rows = [ROW] * 4
    rows[where] = ROW.rstrip("\n") + "\textra\n"
    err = _error(_maf(tmp_path, "".join(rows)))
    assert err.extra["line"] == 3 + where
    assert "6 tab-separated fields but the header has 5 (extra fields)" in err.message


def test_a_short_line_is_named_even_when_another_has_one_field_too_many(tmp_path: Path) -> None:
    # The tab count of the whole file is right; the per-line check still finds both lines.
    short = "KRAS\tS1\tMissense_Mutation\tp.G12C\n"
    long = "KRAS\tS1\tMissense_Mutation\tp.G12C\t100\tx\n"
    err = _error(_maf(tmp_path, ROW + short + long))
    assert [i.line for i in err.issues] == [4, 5]


def test_blanks_around_values_are_removed_and_a_blank_cell_is_empty(tmp_path: Path) -> None:
    table = read_maf(_maf(tmp_path, " KRAS \tS1 \tMissense_Mutation\t p.G12C\t 100 \n"))
    (m,) = table.to_mutations()
    assert (m.gene, m.sample_id, m.protein_change, m.depth) == ("KRAS", "S1", "p.G12C", 100)
    err = _error(_maf(tmp_path, ROW + "TP53\t   \tMissense_Mutation\tp.R175H\t80\n", "b.maf"))
    assert (err.extra["line"], err.extra["field"]) == (4, "Tumor_Sample_Barcode")
    assert "the sample barcode is empty" in err.message


def test_blanks_are_removed_in_a_file_that_is_not_ascii(tmp_path: Path) -> None:
    # A no-break space (U+00A0) around a gene symbol, in a Latin-1-free UTF-8 file.
    p = _maf(tmp_path, "\u00a0ERBB2\tS-é1\tMissense_Mutation\tp.S310F\t40\n")
    (m,) = read_maf(p).to_mutations()
    assert (m.gene, m.sample_id) == ("ERBB2", "S-é1")


def test_vertical_tab_and_form_feed_are_blanks_too(tmp_path: Path) -> None:
    p = _maf(tmp_path, "KRAS\x0b\tS1\x0c\tMissense_Mutation\tp.G12C\t100\n")
    (m,) = read_maf(p).to_mutations()
    assert (m.gene, m.sample_id) == ("KRAS", "S1")


def test_counts_written_with_a_decimal_point_are_whole_numbers(tmp_path: Path) -> None:
    (m,) = read_maf(_maf(tmp_path, "KRAS\tS1\tMissense_Mutation\tp.G12C\t100.0\n")).mutations()
    assert m.depth == 100
    err = _error(_maf(tmp_path, ROW + "KRAS\tS1\tMissense_Mutation\tp.G12C\t100.5\n", "b.maf"))
    assert (err.extra["line"], err.extra["field"]) == (4, "t_depth")
    assert "expected a whole number" in err.message


def test_every_failed_check_names_every_offending_line_in_file_order(tmp_path: Path) -> None:
    body = (
        ROW
        + "TP53\t\tMissense_Mutation\tp.R175H\t80\n"  # line 4: no sample
        + "\tS2\tMissense_Mutation\tp.R175H\t80\n"  # line 5: no gene
        + "EGFR\tS2\tBogus\tp.L858R\tmany\n"  # line 6: class and depth
        + "TP53\t\tMissense_Mutation\tp.R273H\t80\n"  # line 7: no sample
    )
    err = _error(_maf(tmp_path, body))
    assert [(i.line, i.field) for i in err.issues] == [
        (4, "Tumor_Sample_Barcode"),
        (5, "Hugo_Symbol"),
        (6, "Variant_Classification"),
        (6, "t_depth"),
        (7, "Tumor_Sample_Barcode"),
    ]
    assert err.message.startswith("x.maf, line 4, field Tumor_Sample_Barcode")
    assert "(4 more errors in the file)" in err.message


def test_vep_frameshifts_take_their_class_from_the_variant_type(tmp_path: Path) -> None:
    # vcf2maf's mapping of the Sequence Ontology term: DEL -> Frame_Shift_Del, INS -> _Ins.
    p = tmp_path / "vep.maf"
    p.write_text(
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tVariant_Type\n"
        "APC\tS1\tframeshift_variant\tDEL\n"
        "APC\tS1\tframeshift_variant\tINS\n"
        "KRAS\tS1\tmissense_variant\tSNP\n"
        "TP53\tS1\tMissense_Mutation\tSNP\n"
    )
    classes = [m.variant_class for m in read_maf(p).to_mutations()]
    assert classes == [
        VariantClass.FRAME_SHIFT_DEL,
        VariantClass.FRAME_SHIFT_INS,
        VariantClass.MISSENSE,
        VariantClass.MISSENSE,
    ]
    err = _error(p, strict=True)  # cBioPortal wants the MAF spellings
    assert {i.line for i in err.issues} == {2, 3, 4}


@pytest.mark.parametrize(
    "text",
    ["frameshift_variant", "Frameshift", "protein_altering_variant", "frameshift_variant&intron"],
)
def test_only_type_dependent_spellings_need_the_variant_type(text: str) -> None:
    assert variant_class_needs_type(text)
    assert normalise_variant_class(text, "INS") != normalise_variant_class(text, "DEL")


@pytest.mark.parametrize("text", ["Frame_Shift_Del", "Missense_Mutation", "stop_gained", "bogus"])
def test_other_spellings_do_not_need_the_variant_type(text: str) -> None:
    assert not variant_class_needs_type(text)
    assert normalise_variant_class(text, "INS") == normalise_variant_class(text, "DEL")
