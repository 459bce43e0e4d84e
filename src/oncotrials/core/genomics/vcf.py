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
from dataclasses import dataclass
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
        raise log.fatal(1, None, f"not a readable VCF ({exc}).") from None
    raw = _file_header(p)  # as written: htslib's raw_header adds lines (e.g. FILTER=PASS)
    n_header_lines = raw.rstrip("\n").count("\n") + 1
    samples = list(vcf.samples)
    if not samples:
        raise log.fatal(n_header_lines, "#CHROM", "the VCF has no sample columns.")
    t = _pick(samples, tumour, ("TUMOR", "TUMOUR"), "tumor_sample", raw)
    if t is None and len(samples) == 1:
        t = samples[0]
    if t is None or t not in samples:
        raise log.fatal(
            n_header_lines,
            "#CHROM",
            f"tumour sample {t!r} not found; columns are {', '.join(samples)}. "
            "Name it with tumour=.",
        )
    n = _pick(samples, normal, ("NORMAL",), "normal_sample", raw)
    if n is not None and n not in samples:
        raise log.fatal(
            n_header_lines,
            "#CHROM",
            f"normal sample {n!r} not found; columns are {', '.join(samples)}.",
        )
    ti = samples.index(t)

    build, build_line = _detect_build(raw)
    expected = GenomeBuild(genome_build) if isinstance(genome_build, str) else genome_build
    if expected is not None and build is not None and build is not expected:
        raise log.fatal(
            build_line,
            "reference",
            f"the VCF declares {build.value} but {expected.value} was expected; "
            "lift it over first.",
        )
    csq = _csq_fields(raw)

    mutations: list[Mutation] = []
    svs: list[StructuralVariant] = []
    n_records = 0
    n_filtered = 0
    filter_counts: dict[str, int] = {}
    records = iter(vcf)
    for idx in itertools.count():
        try:
            rec = next(records)
        except StopIteration:
            break
        except Exception as exc:  # htslib refuses the record (cut short, malformed)
            vcf.close()
            raise log.fatal(
                n_header_lines + 1 + idx, None, f"the record cannot be parsed ({exc}); truncated?"
            ) from None
        n_records += 1
        if progress is not None and n_records % 10_000 == 0:
            progress(n_records)
        line = n_header_lines + 1 + idx
        flt = rec.FILTER or "PASS"
        filter_counts[flt] = filter_counts.get(flt, 0) + 1
        if pass_only and flt != "PASS":
            n_filtered += 1
            continue
        svtype = rec.INFO.get("SVTYPE")
        if svtype:
            end = rec.INFO.get("END")
            chr2 = rec.INFO.get("CHR2") or rec.CHROM
            svs.append(
                StructuralVariant(
                    sample_id=t,
                    gene1=None,
                    gene2=None,
                    chromosome1=rec.CHROM,
                    position1=rec.POS,
                    chromosome2=str(chr2),
                    position2=int(end) if end is not None else None,
                    sv_class={
                        "DEL": "DELETION",
                        "DUP": "DUPLICATION",
                        "INV": "INVERSION",
                        "INS": "INSERTION",
                        "BND": "TRANSLOCATION",
                    }.get(str(svtype), str(svtype)),
                    event_info=str(svtype),
                    dna_support=True,
                    genome_build=build,
                )
            )
            continue
        if not rec.ALT:
            log.error(line, "ALT", "the record has no ALT allele.")
            continue
        alt = rec.ALT[0]
        ref = rec.REF
        ref_count, alt_count, depth, vaf = _counts(rec, ti, ref, alt, set(rec.FORMAT), line, log)
        gene, vclass, hgvsp, hgvsc, consequence = "", VariantClass.UNKNOWN, None, None, None
        if csq:
            ann = rec.INFO.get("CSQ")
            if ann:
                first = dict(zip(csq, str(ann).split(",")[0].split("|"), strict=False))
                gene = normalise_gene(first.get("SYMBOL", ""))
                consequence = first.get("Consequence") or None
                vt = "INS" if len(alt) > len(ref) else "DEL" if len(alt) < len(ref) else "SNP"
                vclass = normalise_variant_class(consequence or "", vt) or VariantClass.UNKNOWN
                hgvsp = (first.get("HGVSp") or "").split(":")[-1] or None
                hgvsc = (first.get("HGVSc") or "").split(":")[-1] or None
        if depth is None and ref_count is not None and alt_count is not None:
            depth = ref_count + alt_count
        if vaf is None and alt_count is not None and depth:
            vaf = alt_count / depth
        mutations.append(
            Mutation(
                sample_id=t,
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
                genome_build=build,
                normal_sample_id=n,
            )
        )
    vcf.close()
    if n_records and _ends_mid_line(p):
        log.error(
            n_header_lines + n_records,
            None,
            "the file ends in the middle of this line (no final newline): truncated?",
        )
    log.raise_if_errors()
    return VcfResult(
        file=p.name,
        tumour_sample=t,
        normal_sample=n,
        genome_build=build,
        mutations=tuple(mutations),
        structural_variants=tuple(svs),
        n_records=n_records,
        n_filtered=n_filtered,
        filter_counts=filter_counts,
        issues=log.notices(),
    )


def _counts(
    rec: Any, ti: int, ref: str, alt: str, formats: set[str], line: int, log: IssueLog
) -> tuple[int | None, int | None, int | None, float | None]:
    ref_count = alt_count = depth = None
    vaf: float | None = None
    if "DP" in formats:
        dp = rec.format("DP")
        if dp is not None:
            depth = _first_int(dp[ti])
    if "AD" in formats:
        ad = rec.format("AD")
        if ad is not None:
            row = np.asarray(ad[ti]).ravel()
            if row.size >= 2:
                ref_count, alt_count = (int(x) if x >= 0 else None for x in row[:2])
            elif row.size == 1 and "RD" in formats:  # VarScan: AD = alt reads, RD = ref reads
                alt_count = _first_int(row)
                rd = rec.format("RD")
                ref_count = _first_int(rd[ti]) if rd is not None else None
    if "FREQ" in formats:
        freq = rec.format("FREQ")
        if freq is not None:
            text = str(freq[ti]).strip().rstrip("%")
            try:
                vaf = float(text) / 100.0
            except ValueError:
                log.error(line, "FREQ", f"{freq[ti]!r} is not a percentage.")
    if alt_count is None and len(ref) == 1 and len(alt) == 1 and f"{alt}U" in formats:
        a = rec.format(f"{alt}U")  # Strelka SNV: tier1, tier2
        r = rec.format(f"{ref}U")
        alt_count = _first_int(a[ti]) if a is not None else None
        ref_count = _first_int(r[ti]) if r is not None else None
        if alt_count is not None and ref_count is not None:
            depth = ref_count + alt_count
    if alt_count is None and "TIR" in formats:
        a = rec.format("TIR")  # Strelka indel
        r = rec.format("TAR")
        alt_count = _first_int(a[ti]) if a is not None else None
        ref_count = _first_int(r[ti]) if r is not None else None
        if alt_count is not None and ref_count is not None:
            depth = ref_count + alt_count
    return ref_count, alt_count, depth, vaf
