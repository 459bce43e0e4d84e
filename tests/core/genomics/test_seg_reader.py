"""The SEG reader: cBioPortal's test study segments, allele-specific columns, LOH, bad lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncotrials.core.genomics.detect import FileKind, detect_format
from oncotrials.core.genomics.issues import GenomicFileError
from oncotrials.core.genomics.model import GenomeBuild, Segment, segment_loh
from oncotrials.core.genomics.normalised import content_hashes
from oncotrials.core.genomics.reading import IMPORTABLE, read_any
from oncotrials.core.genomics.seg import (
    SEG_HEADER,
    chromosome_sizes,
    normalise_chromosome,
    read_seg,
    write_seg,
)

HEADER = "\t".join(SEG_HEADER)


def _seg(tmp_path: Path, rows: list[str], header: str = HEADER, name: str = "x.seg") -> Path:
    p = tmp_path / name
    p.write_text("\n".join([header, *rows]) + "\n")
    return p


def _errors(exc: pytest.ExceptionInfo[GenomicFileError]) -> list[tuple[int | None, str | None]]:
    return [(i.line, i.field) for i in exc.value.issues]


def test_the_study_segments_are_read_with_their_build_from_the_file_name(fixtures: Path) -> None:
    # fixtures README: data_cna_hg19.seg of cBioPortal's study_es_0, 9 segments of one sample
    table = read_seg(fixtures / "cbioportal_study_es_0" / "data_cna_hg19.seg")
    assert table.genome_build is GenomeBuild.GRCH37
    assert table.samples == ("TCGA-A2-A04P-01",)
    segs = table.to_segments()
    assert len(segs) == 9
    assert segs[0] == Segment("TCGA-A2-A04P-01", "1", 3218610, 95674710, 0.0055, 53225)
    assert segs[1].log2_ratio == pytest.approx(-1.6636)
    assert table.frame.get_column("line").to_list() == list(range(2, 11))
    assert all(s.is_loh is None for s in segs)  # no allele-specific columns: not assessed
    assert read_any(fixtures / "cbioportal_study_es_0" / "data_cna_hg19.seg").kind is FileKind.SEG
    assert FileKind.SEG in IMPORTABLE


def test_a_seg_file_is_recognised_by_its_header_whatever_its_name(tmp_path: Path) -> None:
    p = _seg(tmp_path, ["S1\t1\t100\t200\t5\t0.1"], name="segments.txt")
    assert detect_format(p) is FileKind.SEG


def test_facets_style_copy_numbers_give_loh(tmp_path: Path) -> None:
    p = _seg(
        tmp_path,
        [
            "S1\tchr17\t1\t22000000\t900\t-0.05\t2\t0",  # copy-neutral LOH
            "S1\tchr9\t21000000\t23000000\t80\t-3.5\t0\t0",  # homozygous deletion: not LOH
            "S1\t12\t1\t30000000\t1200\t0.6\t4\t1",  # gain, both alleles
            "S1\t23\t1\t50000000\t300\t-0.4\t1\t0",  # X (23), one copy left: LOH
            "S1\t3\t1\t60000000\t700\t0.0\t2\tNA",  # minor allele undetermined
        ],
        header=HEADER + "\ttcn.em\tlcn.em",
    )
    segs = read_seg(p, genome_build="GRCh37").to_segments()
    assert [s.chromosome for s in segs] == ["17", "9", "12", "X", "3"]
    assert [s.is_loh for s in segs] == [True, False, False, True, None]
    assert (segs[0].total_cn, segs[0].minor_cn) == (2, 0)


def test_an_explicit_loh_column_wins(tmp_path: Path) -> None:
    p = _seg(
        tmp_path,
        ["S1\t1\t1\t100\t3\t0.0\t2\t1\tTRUE", "S1\t2\t1\t100\t3\t0.0\t2\t0\tno"],
        header=HEADER + "\ttcn\tlcn\tloh",
    )
    assert [s.is_loh for s in read_seg(p).to_segments()] == [True, False]


def test_the_loh_rule() -> None:
    assert segment_loh(None, 2, 0) is True
    assert segment_loh(None, 0, 0) is False  # nothing left is a deletion, not LOH
    assert segment_loh(None, 3, 1) is False
    assert segment_loh(None, None, 0) is None
    assert segment_loh(False, 2, 0) is False


def test_every_bad_line_is_named_with_its_field_and_nothing_is_returned(tmp_path: Path) -> None:
    p = _seg(
        tmp_path,
        [
            "S1\t1\t100\t200\t5\t0.1",  # line 2: fine
            "S1\tchrUn_gl000220\t1\t100\t5\t0.1",  # 3: not a primary chromosome
            "S1\t2\t500\t400\t5\t0.1",  # 4: ends before it starts
            "S1\t3\t1.5\t400\t5\t0.1",  # 5: position not whole
            "S1\t4\t1\t400\tmany\t0.1",  # 6: marker count not a number
            "S1\t5\t1\t400\t5\thigh",  # 7: log2 not a number
            "S1\t6\t1\t400\t5\t45.2",  # 8: a copy number in the log2 column
            "S1\t7\t1\t999999999\t5\t0.1",  # 9: beyond chromosome 7
            "\t8\t1\t400\t5\t0.1",  # 10: no sample
            "S1\t1\t150\t300\t5\t0.1",  # 11: overlaps line 2
        ],
    )
    with pytest.raises(GenomicFileError) as exc:
        read_seg(p)
    assert _errors(exc) == [
        (3, "chrom"),
        (4, "loc.end"),
        (5, "loc.start"),
        (6, "num.mark"),
        (7, "seg.mean"),
        (8, "seg.mean"),
        (9, "loc.end"),
        (10, "ID"),
        (11, "loc.start"),
    ]
    text = "\n".join(exc.value.extra["issues"])
    assert "x.seg, line 3, field chrom: chromosome 'chrUn_gl000220' is not one of" in text
    assert "loc.end 400 is not after loc.start 500" in text
    assert "log2 ratio 45.2 lies outside [-20, 20]" in text
    assert "overlaps the one on line 2" in text
    assert exc.value.message.startswith("x.seg, line 3, field chrom")


def test_positions_are_checked_against_the_build(tmp_path: Path) -> None:
    # chromosome 17 is 81,195,210 bp in GRCh37 and 83,257,441 bp in GRCh38 (UCSC chrom.sizes)
    assert chromosome_sizes()[GenomeBuild.GRCH37]["17"] == 81_195_210
    assert chromosome_sizes()[GenomeBuild.GRCH38]["17"] == 83_257_441
    p = _seg(tmp_path, ["S1\t17\t80000000\t82000000\t5\t0.1"])
    assert len(read_seg(p, genome_build="GRCh38").frame) == 1
    with pytest.raises(GenomicFileError) as exc:
        read_seg(p, genome_build="GRCh37")
    assert "beyond the length of the chromosome in GRCh37 17 (81,195,210 bp)" in exc.value.message


def test_copy_numbers_and_flags_are_checked(tmp_path: Path) -> None:
    p = _seg(
        tmp_path,
        [
            "S1\t1\t1\t100\t3\t0.0\t2\t3\tTRUE",  # minor above total
            "S1\t2\t1\t100\t3\t0.0\t-1\t0\tFALSE",  # negative total
            "S1\t3\t1\t100\t3\t0.0\t2.5\t1\tFALSE",  # not whole
            "S1\t4\t1\t100\t3\t0.0\t2\t1\tmaybe",  # not a flag
        ],
        header=HEADER + "\ttcn\tlcn\tloh",
    )
    with pytest.raises(GenomicFileError) as exc:
        read_seg(p)
    assert _errors(exc) == [(2, "lcn"), (3, "tcn"), (4, "tcn"), (5, "loh")]


def test_missing_columns_and_unknown_samples_are_refused(tmp_path: Path) -> None:
    p = _seg(tmp_path, ["S1\t1\t1\t100\t0.1"], header="ID\tchrom\tloc.start\tloc.end\tseg.mean")
    with pytest.raises(GenomicFileError, match=r"missing num\.mark"):
        read_seg(p)
    q = _seg(tmp_path, ["S1\t1\t1\t100\t3\t0.1", "S9\t1\t1\t100\t3\t0.1"], name="y.seg")
    with pytest.raises(GenomicFileError) as exc:
        read_seg(q, known_samples={"S1"})
    assert _errors(exc) == [(3, "ID")]
    assert "sample 'S9' is not in the clinical sample file" in exc.value.message


def test_chromosome_names() -> None:
    assert [normalise_chromosome(c) for c in ("chr7", "Chr7", "7", "23", "chrx", "MT")] == [
        "7",
        "7",
        "7",
        "X",
        "X",
        None,
    ]


def test_written_segments_read_back_the_same(fixtures: Path, tmp_path: Path) -> None:
    segs = read_seg(fixtures / "cbioportal_study_es_0" / "data_cna_hg19.seg").to_segments()
    out = write_seg(segs, tmp_path / "data_cna_hg19.seg")
    assert out.read_text().splitlines()[0] == "ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean"
    assert read_seg(out).to_segments() == segs


def test_a_seg_file_normalises_into_one_report_per_sample(tmp_path: Path) -> None:
    p = _seg(
        tmp_path,
        ["S1\t1\t1\t100\t3\t0.1", "S2\t1\t1\t100\t3\t-0.2", "S1\t2\t1\t100\t3\t0.3"],
        name="run_hg38.seg",
    )
    parsed = read_any(p).normalised(assay="WGS-CNV")
    assert parsed.fmt == "SEG"
    assert sorted(parsed.samples) == ["S1", "S2"]
    assert {r.assay for r in parsed.reports.values()} == {"WGS-CNV"}
    assert {r.genome_build for r in parsed.reports.values()} == {"GRCh38"}
    assert parsed.frames["segments"].height == 3
    assert parsed.frames["mutations"].height == 0
    # the same segments in another order are the same report
    q = _seg(
        tmp_path,
        ["S1\t2\t1\t100\t3\t0.3", "S2\t1\t1\t100\t3\t-0.2", "S1\t1\t1\t100\t3\t0.1"],
        name="again_hg38.seg",
    )
    assert content_hashes(parsed) == content_hashes(read_any(q).normalised(assay="WGS-CNV"))
