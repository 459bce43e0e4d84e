"""Copy-number segments: the IGV/cBioPortal SEG format, read with validation and written back.

A SEG file is tab-separated with the header ``ID chrom loc.start loc.end num.mark seg.mean``
(cBioPortal requires these six columns in this order; they are read here in any order and
case). ``seg.mean`` is the segment's mean log2 copy ratio. Allele-specific callers add integer
copy numbers, read when present:

- ``tcn`` (or FACETS' ``tcn.em``): total copy number;
- ``lcn`` (or FACETS' ``lcn.em``): minor (lesser) allele copy number; ``NA`` when unknown;
- ``loh``: an explicit loss-of-heterozygosity flag (``true``/``false``, ``yes``/``no``,
  ``1``/``0``).

A segment is LOH when the file says so, else when ``lcn == 0`` and ``tcn > 0``
(:func:`~oncotrials.core.genomics.model.segment_loh`). Other columns are reported and ignored.

Every problem is named by file, line and field, and the file is refused as a whole: a
chromosome outside ``1``-``22``, ``X``, ``Y`` (``chr`` prefixes and ``23``/``24`` are read as
the same chromosomes), a position that is not a whole number, ``loc.start`` not below
``loc.end``, an end beyond the chromosome's length in the genome build, a marker count that is
not a whole number, a log2 ratio that is not a number or lies outside [-20, 20], copy numbers
that are not whole numbers or a minor copy number above the total, segments of one sample that
overlap, and samples the caller does not know.

References
----------
IGV, "SEG file format", https://igv.org/doc/desktop/#FileFormats/DataTracks/#seg ;
cBioPortal, "Segmented data", https://docs.cbioportal.org/file-formats/#segmented-data and the
``SegValidator`` of ``scripts/importer/validateData.py`` (cbioportal-core).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import polars as pl

from oncotrials.core.genomics._tabular import load_table
from oncotrials.core.genomics.issues import Issue, IssueLog
from oncotrials.core.genomics.model import GenomeBuild, Segment

__all__ = [
    "CHROMOSOMES",
    "LOG2_LIMIT",
    "SEG_HEADER",
    "SegTable",
    "chromosome_sizes",
    "normalise_chromosome",
    "read_seg",
    "write_seg",
]

#: The header cBioPortal requires, in its order (also what :func:`write_seg` writes).
SEG_HEADER = ("ID", "chrom", "loc.start", "loc.end", "num.mark", "seg.mean")
#: A log2 copy ratio beyond this (a million-fold change) is not a measurement: the column
#: holds another quantity (a copy number, a percentage).
LOG2_LIMIT = 20.0
CHROMOSOMES = (*(str(i) for i in range(1, 23)), "X", "Y")

# Our name of each column -> the spellings read (lower case).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "sample_id": ("id",),
    "chromosome": ("chrom",),
    "start": ("loc.start",),
    "end": ("loc.end",),
    "num_markers": ("num.mark",),
    "log2_ratio": ("seg.mean",),
    "total_cn": ("tcn", "tcn.em"),
    "minor_cn": ("lcn", "lcn.em"),
    "loh": ("loh",),
}
_REQUIRED = ("sample_id", "chromosome", "start", "end", "num_markers", "log2_ratio")
_NULLS = ("NA", "NaN", "nan", "N/A")
_TRUE = {"true", "yes", "1", "t", "y"}
_FALSE = {"false", "no", "0", "f", "n"}
_BUILD_IN_NAME = re.compile(r"(hg19|hg38|grch37|grch38)", re.IGNORECASE)


@lru_cache(maxsize=1)
def chromosome_sizes() -> dict[GenomeBuild, dict[str, int]]:
    """Length of each primary chromosome per build (UCSC ``hg19``/``hg38.chrom.sizes``)."""
    text = resources.files("oncotrials.core.genomics").joinpath("data/chromosome_sizes.csv")
    out: dict[GenomeBuild, dict[str, int]] = {b: {} for b in GenomeBuild}
    for row in csv.DictReader(text.read_text(encoding="utf-8").splitlines()):
        for b in GenomeBuild:
            out[b][row["chromosome"]] = int(row[b.value])
    return out


@lru_cache(maxsize=1)
def _chromosome_names() -> dict[str, str]:
    """Every accepted spelling, lower case -> the stored name (``chr7``, ``7`` -> ``7``)."""
    names = {c.lower(): c for c in CHROMOSOMES}
    names.update({"23": "X", "24": "Y"})
    return {**names, **{f"chr{k}": v for k, v in names.items()}}


def normalise_chromosome(text: str) -> str | None:
    """``chr7``, ``Chr7``, ``7`` -> ``7``; ``23``/``chrX`` -> ``X``; None when not a primary
    chromosome (``MT``, unplaced contigs)."""
    return _chromosome_names().get(text.strip().lower())


@dataclass(frozen=True)
class SegTable:
    """A SEG file read and checked: one row per segment, in file order.

    ``frame`` columns: ``line``, ``sample_id``, ``chromosome``, ``start``, ``end``,
    ``num_markers``, ``log2_ratio``, ``total_cn``, ``minor_cn``, ``loh``.
    """

    frame: pl.DataFrame
    issues: tuple[Issue, ...] = ()
    genome_build: GenomeBuild | None = None
    columns_used: Mapping[str, str] = field(default_factory=dict)

    @property
    def samples(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.frame.get_column("sample_id").to_list()))

    def to_segments(self) -> tuple[Segment, ...]:
        return tuple(
            Segment(
                sample_id=r["sample_id"],
                chromosome=r["chromosome"],
                start=r["start"],
                end=r["end"],
                log2_ratio=r["log2_ratio"],
                num_markers=r["num_markers"],
                total_cn=r["total_cn"],
                minor_cn=r["minor_cn"],
                loh=r["loh"],
            )
            for r in self.frame.iter_rows(named=True)
        )


def _build_of(path: Path, genome_build: GenomeBuild | str | None) -> GenomeBuild | None:
    if isinstance(genome_build, GenomeBuild):
        return genome_build
    if genome_build:
        return GenomeBuild.parse(genome_build)
    m = _BUILD_IN_NAME.search(path.name)
    return GenomeBuild.parse(m[1]) if m else None


def _whole(column: str) -> pl.Expr:
    """The column as a whole number (``1e+05`` too, as cBioPortal reads it); null otherwise."""
    as_float = pl.col(column).cast(pl.Float64, strict=False)
    ok = as_float.is_finite() & (as_float == as_float.round(0)) & (as_float.abs() < 2**62)
    return pl.when(ok).then(as_float.cast(pl.Int64)).otherwise(None)


def read_seg(
    path: str | Path,
    *,
    genome_build: GenomeBuild | str | None = None,
    known_samples: Iterable[str] | None = None,
) -> SegTable:
    """Read and validate a SEG file (plain or gzipped).

    Parameters
    ----------
    genome_build
        Positions are checked against this build's chromosome lengths; without it, the build
        named in the file name (``data_cna_hg19.seg``), else the longer of GRCh37 and GRCh38.
    known_samples
        When given, a segment of any other sample is an error (a study's clinical samples).

    Raises
    ------
    GenomicFileError
        Naming file, line and field of every problem (up to 50).
    """
    p = Path(path)
    log = IssueLog.for_path(p)
    t = load_table(p, log, kind="SEG file", null_values=_NULLS)
    by_lower = {h.lower(): h for h in t.header}
    used: dict[str, str] = {}
    for ours, spellings in _COLUMNS.items():
        found = next((by_lower[s] for s in spellings if s in by_lower), None)
        if found is not None:
            used[ours] = found
    missing = [SEG_HEADER[i] for i, c in enumerate(_REQUIRED) if c not in used]
    if missing:
        raise log.fatal(
            t.header_line,
            missing[0],
            "a SEG file needs the columns %(seg_header)s; missing %(missing)s.",
            code="genomic_seg_file_needs_columns_missing",
            seg_header=", ".join(SEG_HEADER),
            missing=", ".join(missing),
        )
    for h in t.header:
        if h not in used.values():
            log.info(
                t.header_line,
                h,
                "column %(h)s is not read.",
                code="genomic_column_not_read",
                h=repr(h),
            )
    build = _build_of(p, genome_build)
    sizes = chromosome_sizes()
    if build is not None:
        lengths = sizes[build]
    else:
        lengths = {c: max(s[c] for s in sizes.values()) for c in CHROMOSOMES}
    where = f"the length of the chromosome in {build.value}" if build else "the chromosome length"

    f = t.frame.with_row_index("_row")
    raw = {ours: pl.col(col) for ours, col in used.items()}
    lower_names = _chromosome_names()
    cols: list[pl.Expr] = [
        pl.col("_row"),
        raw["sample_id"].alias("sample_id"),
        raw["chromosome"].alias("chromosome_raw"),
        raw["chromosome"]
        .str.to_lowercase()
        .replace_strict(lower_names, default=None, return_dtype=pl.String)
        .alias("chromosome"),
        _whole(used["start"]).alias("start"),
        _whole(used["end"]).alias("end"),
        _whole(used["num_markers"]).alias("num_markers"),
        raw["log2_ratio"].cast(pl.Float64, strict=False).alias("log2_ratio"),
    ]
    for name in ("total_cn", "minor_cn"):
        cols.append((_whole(used[name]) if name in used else pl.lit(None, pl.Int64)).alias(name))
    if "loh" in used:
        flag = raw["loh"].str.to_lowercase()
        cols.append(
            pl.when(flag.is_in(list(_TRUE)))
            .then(True)
            .when(flag.is_in(list(_FALSE)))
            .then(False)
            .otherwise(None)
            .alias("loh")
        )
    else:
        cols.append(pl.lit(None, pl.Boolean).alias("loh"))
    g = f.select(cols).with_columns(
        pl.col("chromosome")
        .replace_strict(lengths, default=None, return_dtype=pl.Int64)
        .alias("_length")
    )

    def report(mask: pl.Expr, column: str, message: object) -> None:
        """Log ``message`` (a text, or a function of the row) for each row where ``mask``."""
        for rec in g.filter(mask).head(log.max_errors).iter_rows(named=True):
            text = message(rec) if callable(message) else str(message)
            log.error(t.line_of(rec["_row"]), used.get(column, column), text)

    def text_of(column: str) -> pl.Expr:
        return pl.col(used[column]) if column in used else pl.lit(None, pl.String)

    src = f.select("_row", *(text_of(c).alias(f"_raw_{c}") for c in _COLUMNS))
    g = g.join(src, on="_row", how="left")

    report(pl.col("sample_id").is_null(), "sample_id", "the sample id is empty.")
    report(
        pl.col("chromosome").is_null(),
        "chromosome",
        lambda r: (
            f"chromosome {r['chromosome_raw']!r} is not one of 1-22, X, Y "
            "(chr-prefixed names and 23, 24 for X, Y are read too)."
        ),
    )
    for c in ("start", "end", "num_markers"):
        report(
            pl.col(c).is_null(),
            c,
            lambda r, c=c: f"{r[f'_raw_{c}']!r} is not a whole number.",
        )
    report(
        pl.col("num_markers") < 0,
        "num_markers",
        lambda r: f"{r['num_markers']} markers: the count cannot be negative.",
    )
    report(
        pl.col("start") < 0, "start", lambda r: f"position {r['start']} is before the chromosome."
    )
    report(
        pl.col("start") >= pl.col("end"),
        "end",
        lambda r: (
            f"loc.end {r['end']} is not after loc.start {r['start']}; a segment ends "
            "after it starts."
        ),
    )
    report(
        pl.col("end") > pl.col("_length"),
        "end",
        lambda r: (
            f"loc.end {r['end']} lies beyond {where} {r['chromosome']} ({r['_length']:,} bp)."
        ),
    )
    report(
        pl.col("log2_ratio").is_null() | pl.col("log2_ratio").is_nan(),
        "log2_ratio",
        lambda r: f"{r['_raw_log2_ratio']!r} is not a number; seg.mean is the log2 copy ratio.",
    )
    report(
        pl.col("log2_ratio").abs() > LOG2_LIMIT,
        "log2_ratio",
        lambda r: (
            f"log2 ratio {r['log2_ratio']:g} lies outside [-{LOG2_LIMIT:g}, "
            f"{LOG2_LIMIT:g}]; is the column a copy number or a percentage rather than a log2 "
            "ratio?"
        ),
    )
    for c in ("total_cn", "minor_cn"):
        if c in used:
            report(
                pl.col(f"_raw_{c}").is_not_null() & pl.col(c).is_null(),
                c,
                lambda r, c=c: f"{r[f'_raw_{c}']!r} is not a whole number of copies.",
            )
            report(pl.col(c) < 0, c, lambda r, c=c: f"{r[c]} copies: cannot be negative.")
    if "total_cn" in used and "minor_cn" in used:
        report(
            (pl.col("minor_cn") > pl.col("total_cn")) & (pl.col("total_cn") >= 0),
            "minor_cn",
            lambda r: f"minor copy number {r['minor_cn']} exceeds the total {r['total_cn']}.",
        )
    if "loh" in used:
        report(
            pl.col("_raw_loh").is_not_null() & pl.col("loh").is_null(),
            "loh",
            lambda r: f"{r['_raw_loh']!r} is not true or false.",
        )
    if known_samples is not None:
        known = sorted(set(known_samples))
        report(
            pl.col("sample_id").is_not_null() & ~pl.col("sample_id").is_in(known),
            "sample_id",
            lambda r: f"sample {r['sample_id']!r} is not in the clinical sample file.",
        )
    # Overlaps within a sample and chromosome: each segment must start at or after the end
    # of the one before it (positions as in the file; adjacent segments may share a base).
    ordered = (
        g.filter(
            pl.col("sample_id").is_not_null()
            & pl.col("chromosome").is_not_null()
            & pl.col("start").is_not_null()
            & pl.col("end").is_not_null()
        )
        .sort("sample_id", "chromosome", "start", "_row")
        .with_columns(
            pl.col("end").shift(1).over("sample_id", "chromosome").alias("_prev_end"),
            pl.col("_row").shift(1).over("sample_id", "chromosome").alias("_prev_row"),
        )
        .filter(pl.col("start") < pl.col("_prev_end"))
        .sort("_row")
    )
    for rec in ordered.head(log.max_errors).iter_rows(named=True):
        log.error(
            t.line_of(rec["_row"]),
            used["start"],
            "the segment %(chromosome)s:%(start)s-%(end)s of sample %(sample_id)s overlaps the one on line %(other_line)s.",
            code="genomic_segment_sample_overlaps_one_line",
            chromosome=rec["chromosome"],
            start=rec["start"],
            end=rec["end"],
            sample_id=repr(rec["sample_id"]),
            other_line=t.line_of(rec["_prev_row"]),
        )
    log.raise_if_errors()
    frame = g.sort("_row").select(
        (pl.col("_row").cast(pl.Int64) + t.header_line + 1).alias("line"),
        "sample_id",
        "chromosome",
        "start",
        "end",
        "num_markers",
        "log2_ratio",
        "total_cn",
        "minor_cn",
        "loh",
    )
    return SegTable(frame, log.notices(), build, dict(used))


def _number(value: float) -> str:
    return f"{value:.6g}"


def write_seg(segments: Sequence[Segment], path: str | Path) -> Path:
    """Write ``segments`` as a SEG file with cBioPortal's six columns, in their order.

    Allele-specific copy numbers and LOH flags are not written: cBioPortal's validator refuses
    any column beyond the six.
    """
    p = Path(path)
    lines = ["\t".join(SEG_HEADER)]
    lines += [
        "\t".join(
            (
                s.sample_id,
                s.chromosome,
                str(s.start),
                str(s.end),
                str(s.num_markers if s.num_markers is not None else 0),
                _number(s.log2_ratio),
            )
        )
        for s in segments
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p
