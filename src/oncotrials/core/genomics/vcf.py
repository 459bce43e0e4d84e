"""Somatic VCF reader (cyvcf2): tumour/normal columns by name, FILTER honoured, caller quirks.

Sample columns are mapped by name, never by position (MuTect, Strelka and VarScan write
NORMAL before TUMOR; vcf2maf and Delly the reverse). The tumour is the ``tumour`` argument, else a
column called TUMOR/TUMOUR, else the ``##tumor_sample=`` header, else the only sample.

Allele counts come from whichever the caller wrote: ``AD`` (ref, alt) as in GATK/MuTect/vcf2maf;
VarScan's ``RD``/``AD`` and ``FREQ`` ("48.7%"); Strelka's tier-1 ``AU/CU/GU/TU`` (SNVs) and
``TAR/TIR`` (indels). Gene, consequence and HGVS come from a VEP ``CSQ`` INFO field when present;
unannotated files give ``gene=""`` and ``variant_class=Unknown``. Symbolic structural variants
(``SVTYPE``) become :class:`StructuralVariant` records.
"""

from __future__ import annotations

import gzip
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from oncotrials.core.genomics.genes import normalise_gene, normalise_variant_class
from oncotrials.core.genomics.issues import Issue, IssueLog
from oncotrials.core.genomics.model import GenomeBuild, Mutation, StructuralVariant, VariantClass
from oncotrials.core.genomics.protein import normalise_protein_change

__all__ = ["VcfResult", "read_vcf"]

# Contig lengths tell the build when the header does not (GRC assembly reports).
_CONTIG_LENGTHS = {
    249250621: GenomeBuild.GRCH37,  # chr1
    248956422: GenomeBuild.GRCH38,
    81195210: GenomeBuild.GRCH37,  # chr17
    83257441: GenomeBuild.GRCH38,
    48129895: GenomeBuild.GRCH37,  # chr21
    46709983: GenomeBuild.GRCH38,
    51304566: GenomeBuild.GRCH37,  # chr22
    50818468: GenomeBuild.GRCH38,
}


@dataclass(frozen=True)
class VcfResult:
    file: str
    tumour_sample: str
    normal_sample: str | None
    genome_build: GenomeBuild | None
    mutations: tuple[Mutation, ...]
    structural_variants: tuple[StructuralVariant, ...]
    n_records: int
    n_filtered: int  # records dropped because FILTER was not PASS
    filter_counts: dict[str, int]
    issues: tuple[Issue, ...]


def _detect_build(raw_header: str) -> tuple[GenomeBuild | None, int | None]:
    for i, line in enumerate(raw_header.splitlines(), start=1):
        if line.startswith("##reference=") or line.startswith("##assembly="):
            low = line.lower()
            if re.search(r"grch38|hg38|b38", low):
                return GenomeBuild.GRCH38, i
            if re.search(r"grch37|hg19|b37|hs37d5", low):
                return GenomeBuild.GRCH37, i
        if line.startswith("##contig=<ID="):
            m = re.search(r"length=(\d+)", line)
            if m and int(m.group(1)) in _CONTIG_LENGTHS:
                return _CONTIG_LENGTHS[int(m.group(1))], i
    return None, None


def _pick(
    samples: list[str],
    wanted: str | None,
    default_names: tuple[str, ...],
    header_key: str,
    raw: str,
) -> str | None:
    if wanted is not None:
        return wanted
    upper = {s.upper(): s for s in samples}
    for name in default_names:
        if name in upper:
            return upper[name]
    m = re.search(rf"^##{header_key}=(?:<ID=\w+,SampleName=)?([^>\s]+)", raw, re.MULTILINE)
    if m and m.group(1) in samples:
        return m.group(1)
    return None


def _csq_fields(raw: str) -> list[str] | None:
    m = re.search(r'##INFO=<ID=CSQ,.*Format: ([^"]+)"', raw)
    return m.group(1).split("|") if m else None


def _file_header(path: Path) -> str:
    """The '#' lines at the top of the file, read from the file itself (plain or gzip/bgzip)."""
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    lines: list[str] = []
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            lines.append(line)
    return "".join(lines)


def _ends_mid_line(path: Path) -> bool:
    """True for a plain-text VCF whose last byte is not a newline (bgzip has its own EOF)."""
    with path.open("rb") as fh:
        if fh.read(2) == b"\x1f\x8b":
            return False
        fh.seek(0, 2)
        if fh.tell() == 0:
            return False
        fh.seek(-1, 2)
        return fh.read(1) != b"\n"


def _first_int(v: Any) -> int | None:
    """First value of a FORMAT entry; undeclared tags come back as text such as '57,58'."""
    try:
        first = np.asarray(v).ravel()[0]
        if isinstance(first, str | bytes):
            text = first.decode() if isinstance(first, bytes) else first
            first = text.split(",")[0]
        x = int(first)
    except (TypeError, ValueError, IndexError):
        return None
    return x if x >= 0 else None


def _columns(
    samples: list[str],
    tumour: str | None,
    normal: str | None,
    raw: str,
    n_header_lines: int,
    log: IssueLog,
) -> tuple[str, str | None]:
    """The tumour and normal sample columns (see the module docstring)."""
    if not samples:
        raise log.fatal(
            n_header_lines,
            "#CHROM",
            "the VCF has no sample columns.",
            code="genomic_vcf_has_no_sample_columns",
        )
    t = _pick(samples, tumour, ("TUMOR", "TUMOUR"), "tumor_sample", raw)
    if t is None and len(samples) == 1:
        t = samples[0]
    if t is None or t not in samples:
        raise log.fatal(
            n_header_lines,
            "#CHROM",
            "tumour sample %(t)s not found; columns are %(samples)s. Name it with tumour=.",
            code="genomic_tumour_sample_not_found_columns",
            t=repr(t),
            samples=", ".join(samples),
        )
    n = _pick(samples, normal, ("NORMAL",), "normal_sample", raw)
    if n is not None and n not in samples:
        raise log.fatal(
            n_header_lines,
            "#CHROM",
            "normal sample %(n)s not found; columns are %(samples)s.",
            code="genomic_normal_sample_not_found_columns",
            n=repr(n),
            samples=", ".join(samples),
        )
    return t, n


def _build(raw: str, genome_build: GenomeBuild | str | None, log: IssueLog) -> GenomeBuild | None:
    """The build the header declares; an error when it is not the expected one."""
    build, build_line = _detect_build(raw)
    expected = GenomeBuild(genome_build) if isinstance(genome_build, str) else genome_build
    if expected is not None and build is not None and build is not expected:
        raise log.fatal(
            build_line,
            "reference",
            "the VCF declares %(build)s but %(expected)s was expected; lift it over first.",
            code="genomic_vcf_declares_but_was_expected",
            build=build.value,
            expected=expected.value,
        )
    return build


_SV_CLASSES = {
    "DEL": "DELETION",
    "DUP": "DUPLICATION",
    "INV": "INVERSION",
    "INS": "INSERTION",
    "BND": "TRANSLOCATION",
}


def _structural_variant(
    rec: Any, svtype: Any, sample: str, build: GenomeBuild | None
) -> StructuralVariant:
    """A symbolic (SVTYPE) record."""
    end = rec.INFO.get("END")
    chr2 = rec.INFO.get("CHR2") or rec.CHROM
    return StructuralVariant(
        sample_id=sample,
        gene1=None,
        gene2=None,
        chromosome1=rec.CHROM,
        position1=rec.POS,
        chromosome2=str(chr2),
        position2=int(end) if end is not None else None,
        sv_class=_SV_CLASSES.get(str(svtype), str(svtype)),
        event_info=str(svtype),
        dna_support=True,
        genome_build=build,
    )


def _annotation(
    rec: Any, csq: list[str] | None, ref: str, alt: str
) -> tuple[str, VariantClass, str | None, str | None, str | None]:
    """Gene, variant class, HGVSp, HGVSc and consequence from the first VEP CSQ entry."""
    if csq:
        ann = rec.INFO.get("CSQ")
        if ann:
            first = dict(zip(csq, str(ann).split(",")[0].split("|"), strict=False))
            consequence = first.get("Consequence") or None
            vt = "INS" if len(alt) > len(ref) else "DEL" if len(alt) < len(ref) else "SNP"
            return (
                normalise_gene(first.get("SYMBOL", "")),
                normalise_variant_class(consequence or "", vt) or VariantClass.UNKNOWN,
                (first.get("HGVSp") or "").split(":")[-1] or None,
                (first.get("HGVSc") or "").split(":")[-1] or None,
                consequence,
            )
    return "", VariantClass.UNKNOWN, None, None, None


@dataclass
class _Records:
    """What the record loop gathers."""

    mutations: list[Mutation] = field(default_factory=list)
    svs: list[StructuralVariant] = field(default_factory=list)
    n_records: int = 0
    n_filtered: int = 0
    filter_counts: dict[str, int] = field(default_factory=dict)


def read_vcf(
    path: str | Path,
    *,
    tumour: str | None = None,
    normal: str | None = None,
    pass_only: bool = True,
    genome_build: GenomeBuild | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> VcfResult:
    """Read a somatic VCF (plain or bgzipped).

    Parameters
    ----------
    tumour, normal
        Sample column names; see the module docstring for the defaults.
    pass_only
        Keep only records whose FILTER is PASS (or ``.``); the rest are counted per filter.
    genome_build
        When given, a header that declares another build is an error naming its line.
    progress
        Called with the number of records read so far, every 10,000 records.
    """
    from cyvcf2 import VCF  # imported here: the binding loads htslib

    p = Path(path)
    log = IssueLog.for_path(p)
    try:
        vcf = VCF(str(p))
    except Exception as exc:  # cyvcf2 raises bare Exceptions for malformed headers
        raise log.fatal(
            1, None, "not a readable VCF (%(exc)s).", code="genomic_not_readable_vcf", exc=exc
        ) from None
    raw = _file_header(p)  # as written: htslib's raw_header adds lines (e.g. FILTER=PASS)
    n_header_lines = raw.rstrip("\n").count("\n") + 1
    samples = list(vcf.samples)
    t, n = _columns(samples, tumour, normal, raw, n_header_lines, log)
    build = _build(raw, genome_build, log)
    got = _read_records(
        vcf,
        log,
        n_header_lines,
        _Sample(t, samples.index(t), n, build, _csq_fields(raw)),
        pass_only=pass_only,
        progress=progress,
    )
    if got.n_records and _ends_mid_line(p):
        log.error(
            n_header_lines + got.n_records,
            None,
            "the file ends in the middle of this line (no final newline): truncated?",
            code="genomic_file_ends_middle_this_line",
        )
    log.raise_if_errors()
    return VcfResult(
        file=p.name,
        tumour_sample=t,
        normal_sample=n,
        genome_build=build,
        mutations=tuple(got.mutations),
        structural_variants=tuple(got.svs),
        n_records=got.n_records,
        n_filtered=got.n_filtered,
        filter_counts=got.filter_counts,
        issues=log.notices(),
    )


@dataclass(frozen=True)
class _Sample:
    """The tumour column (name and index), the normal's name, the build, the CSQ fields."""

    name: str
    index: int
    normal: str | None
    build: GenomeBuild | None
    csq: list[str] | None


def _read_records(
    vcf: Any,
    log: IssueLog,
    n_header_lines: int,
    s: _Sample,
    *,
    pass_only: bool,
    progress: Callable[[int], None] | None,
) -> _Records:
    """Every record: counted per FILTER, then read as a structural variant or a mutation."""
    got = _Records()
    filter_counts = got.filter_counts
    records = iter(vcf)
    for idx in itertools.count():
        try:
            rec = next(records)
        except StopIteration:
            break
        except Exception as exc:  # htslib refuses the record (cut short, malformed)
            vcf.close()
            raise log.fatal(
                n_header_lines + 1 + idx,
                None,
                "the record cannot be parsed (%(exc)s); truncated?",
                code="genomic_record_cannot_parsed_truncated",
                exc=exc,
            ) from None
        got.n_records += 1
        if progress is not None and got.n_records % 10_000 == 0:
            progress(got.n_records)
        flt = rec.FILTER or "PASS"
        filter_counts[flt] = filter_counts.get(flt, 0) + 1
        if pass_only and flt != "PASS":
            got.n_filtered += 1
            continue
        svtype = rec.INFO.get("SVTYPE")
        if svtype:
            got.svs.append(_structural_variant(rec, svtype, s.name, s.build))
            continue
        line = n_header_lines + 1 + idx
        if not rec.ALT:
            log.error(
                line,
                "ALT",
                "the record has no ALT allele.",
                code="genomic_record_has_no_alt_allele",
            )
            continue
        got.mutations.append(_mutation(rec, s, line, log))
    vcf.close()
    return got


def _mutation(rec: Any, s: _Sample, line: int, log: IssueLog) -> Mutation:
    """A short variant: its first ALT allele, counts of the tumour column, VEP annotation."""
    alt = rec.ALT[0]
    ref = rec.REF
    ref_count, alt_count, depth, vaf = _counts(rec, s.index, ref, alt, set(rec.FORMAT), line, log)
    gene, vclass, hgvsp, hgvsc, consequence = _annotation(rec, s.csq, ref, alt)
    if depth is None and ref_count is not None and alt_count is not None:
        depth = ref_count + alt_count
    if vaf is None and alt_count is not None and depth:
        vaf = alt_count / depth
    return Mutation(
        sample_id=s.name,
        gene=gene,
        variant_class=vclass,
        protein_change=normalise_protein_change(hgvsp),
        protein_change_raw=hgvsp,
        hgvsc=hgvsc,
        chromosome=rec.CHROM,
        start=rec.POS,
        end=rec.end,
        ref=ref,
        alt=alt,
        vaf=vaf,
        depth=depth,
        alt_count=alt_count,
        consequence=consequence,
        genome_build=s.build,
        normal_sample_id=s.normal,
    )


def _counts(
    rec: Any, ti: int, ref: str, alt: str, formats: set[str], line: int, log: IssueLog
) -> tuple[int | None, int | None, int | None, float | None]:
    """Reference and alternate reads, depth and VAF of the tumour, from whichever the caller
    wrote: DP, AD (or VarScan's AD and RD), FREQ, Strelka's tier-1 counts."""
    depth = _format_int(rec, "DP", ti) if "DP" in formats else None
    ref_count, alt_count = _allele_depths(rec, ti, formats) if "AD" in formats else (None, None)
    vaf = _freq(rec, ti, line, log) if "FREQ" in formats else None
    if alt_count is None and len(ref) == 1 and len(alt) == 1 and f"{alt}U" in formats:
        ref_count, alt_count, depth = _tier1(rec, ti, f"{ref}U", f"{alt}U", depth)  # SNV
    if alt_count is None and "TIR" in formats:
        ref_count, alt_count, depth = _tier1(rec, ti, "TAR", "TIR", depth)  # indel
    return ref_count, alt_count, depth, vaf


def _format_int(rec: Any, tag: str, ti: int) -> int | None:
    values = rec.format(tag)
    return _first_int(values[ti]) if values is not None else None


def _allele_depths(rec: Any, ti: int, formats: set[str]) -> tuple[int | None, int | None]:
    """AD as (ref, alt); VarScan writes AD = alt reads and RD = ref reads."""
    ad = rec.format("AD")
    if ad is None:
        return None, None
    row = np.asarray(ad[ti]).ravel()
    if row.size >= 2:
        ref_count, alt_count = (int(x) if x >= 0 else None for x in row[:2])
        return ref_count, alt_count
    if row.size == 1 and "RD" in formats:
        alt_count = _first_int(row)
        return _format_int(rec, "RD", ti), alt_count
    return None, None


def _freq(rec: Any, ti: int, line: int, log: IssueLog) -> float | None:
    """VarScan's FREQ percentage ("48.7%") as a fraction."""
    freq = rec.format("FREQ")
    if freq is None:
        return None
    text = str(freq[ti]).strip().rstrip("%")
    try:
        return float(text) / 100.0
    except ValueError:
        log.error(
            line,
            "FREQ",
            "%(freq)s is not a percentage.",
            code="genomic_not_percentage",
            freq=repr(freq[ti]),
        )
        return None


def _tier1(
    rec: Any, ti: int, ref_tag: str, alt_tag: str, depth: int | None
) -> tuple[int | None, int | None, int | None]:
    """Strelka's tier-1 counts (AU/CU/GU/TU for SNVs, TAR/TIR for indels) and their sum."""
    alt_count = _format_int(rec, alt_tag, ti)
    ref_count = _format_int(rec, ref_tag, ti)
    if alt_count is not None and ref_count is not None:
        depth = ref_count + alt_count
    return ref_count, alt_count, depth
