"""One entry point for every genomic file: :func:`read_any` tells its format and reads it.

The format comes from :func:`~oncotrials.core.genomics.detect.detect_format` (the name, then the
first lines). ``FORMATS`` maps each kind of file to its label, its reader and, for the kinds an
importer takes (MAF, VCF, JSON report, SEG segments, cBioPortal study directory), the function
that puts what was read into the normalised frames of
:class:`~oncotrials.core.genomics.normalised.Parsed`. It is the one place that decides which reader a file goes to: the command line and the importer
both read through :func:`read_any`.

>>> f = read_any("tcga_laml.maf.gz")                                     # doctest: +SKIP
>>> f.kind, f.label, len(f.content)                                     # doctest: +SKIP
(<FileKind.MAF: 'maf'>, 'MAF', 2207)
>>> f.normalised(assay="WXS").frames["mutations"].height                # doctest: +SKIP
2207
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.cbioportal import (
    GenePanel,
    Study,
    TimelineEvent,
    read_clinical,
    read_cna,
    read_gene_panel,
    read_meta,
    read_structural_variants,
    read_study,
    read_timeline,
)
from oncotrials.core.genomics.cbioportal import _Clinical as Clinical
from oncotrials.core.genomics.detect import FileKind, detect_format
from oncotrials.core.genomics.issues import Issue, IssueLog
from oncotrials.core.genomics.maf import MafTable, read_maf
from oncotrials.core.genomics.model import (
    CopyNumber,
    GenomeBuild,
    GenomicReport,
    StructuralVariant,
)
from oncotrials.core.genomics.normalised import (
    Parsed,
    parsed_from_maf,
    parsed_from_report,
    parsed_from_seg,
    parsed_from_study,
    parsed_from_vcf,
)
from oncotrials.core.genomics.report import read_report_json
from oncotrials.core.genomics.seg import SegTable, read_seg
from oncotrials.core.genomics.vcf import VcfResult, read_vcf

__all__ = [
    "FORMATS",
    "IMPORTABLE",
    "Clinical",
    "Content",
    "Format",
    "GenomicFile",
    "ReadOptions",
    "read_any",
]

#: What a reader returns, per kind: a MAF table, a VCF result, a report, a whole study, or one
#: file of a study (copy-number calls, structural variants, timeline events, a clinical file, a
#: gene panel, a meta file's keys).
Content = (
    MafTable
    | SegTable
    | VcfResult
    | GenomicReport
    | Study
    | tuple[CopyNumber, ...]
    | tuple[StructuralVariant, ...]
    | tuple[TimelineEvent, ...]
    | Clinical
    | GenePanel
    | dict[str, str]
)
C = TypeVar("C", bound=Content)


@dataclass(frozen=True)
class ReadOptions:
    """What the caller asks of the readers; each reader uses the options that apply to it."""

    strict: bool = False  # MAF: cBioPortal's stricter rules
    genome_build: GenomeBuild | str | None = None  # MAF, VCF: the expected build
    progress: Callable[[int], None] | None = None  # VCF: records read so far
    keep_neutral_cna: bool = True  # study, CNA file: keep the copy-number calls of 0
    vaf_unit: str | None = None  # MAF: 'fraction' or 'percent' (None: worked out)


@dataclass(frozen=True)
class Format(Generic[C]):
    """One kind of file: its label, its reader and (importable kinds) its normaliser."""

    label: str
    read: Callable[[Path, ReadOptions], tuple[C, tuple[Issue, ...]]]
    normalise: Callable[[Path, C, tuple[Issue, ...], str | None], Parsed] | None = None


# ------------------------------------------------------------------------------ the readers
def _maf(p: Path, o: ReadOptions) -> tuple[MafTable, tuple[Issue, ...]]:
    table = read_maf(p, strict=o.strict, genome_build=o.genome_build, vaf_unit=o.vaf_unit)
    return table, table.issues


def _vcf(p: Path, o: ReadOptions) -> tuple[VcfResult, tuple[Issue, ...]]:
    res = read_vcf(p, genome_build=o.genome_build, progress=o.progress)
    return res, res.issues


def _report(p: Path, o: ReadOptions) -> tuple[GenomicReport, tuple[Issue, ...]]:
    return read_report_json(p)


def _seg(p: Path, o: ReadOptions) -> tuple[SegTable, tuple[Issue, ...]]:
    table = read_seg(p, genome_build=o.genome_build)
    return table, table.issues


def _study(p: Path, o: ReadOptions) -> tuple[Study, tuple[Issue, ...]]:
    study = read_study(p, keep_neutral_cna=o.keep_neutral_cna)
    return study, study.issues


def _cna(long: bool) -> Callable[[Path, ReadOptions], tuple[tuple[CopyNumber, ...], tuple[()]]]:
    def read(p: Path, o: ReadOptions) -> tuple[tuple[CopyNumber, ...], tuple[()]]:
        return read_cna(p, long=long, keep_neutral=o.keep_neutral_cna), ()

    return read


def _sv(p: Path, o: ReadOptions) -> tuple[tuple[StructuralVariant, ...], tuple[()]]:
    return read_structural_variants(p), ()


def _timeline(p: Path, o: ReadOptions) -> tuple[tuple[TimelineEvent, ...], tuple[()]]:
    return read_timeline(p), ()


def _clinical(which: str) -> Callable[[Path, ReadOptions], tuple[Clinical, tuple[Issue, ...]]]:
    def read(p: Path, o: ReadOptions) -> tuple[Clinical, tuple[Issue, ...]]:
        log = IssueLog.for_path(p)
        clinical = read_clinical(p, which, log)
        log.raise_if_errors()
        return clinical, log.notices()

    return read


def _gene_panel(p: Path, o: ReadOptions) -> tuple[GenePanel, tuple[()]]:
    return read_gene_panel(p), ()


def _meta(p: Path, o: ReadOptions) -> tuple[dict[str, str], tuple[()]]:
    return read_meta(p), ()


def _study_file(kind: FileKind) -> str:
    return f"cBioPortal {kind.value.replace('_', ' ')}"


FORMATS: dict[FileKind, Format[Any]] = {
    FileKind.MAF: Format("MAF", _maf, parsed_from_maf),
    FileKind.VCF: Format("VCF", _vcf, parsed_from_vcf),
    FileKind.REPORT: Format("JSON report", _report, parsed_from_report),
    FileKind.STUDY: Format("cBioPortal study", _study, parsed_from_study),
    FileKind.SEG: Format("SEG copy-number segments", _seg, parsed_from_seg),
    FileKind.CNA_LONG: Format(_study_file(FileKind.CNA_LONG), _cna(long=True)),
    FileKind.CNA_WIDE: Format(_study_file(FileKind.CNA_WIDE), _cna(long=False)),
    FileKind.SV: Format(_study_file(FileKind.SV), _sv),
    FileKind.TIMELINE: Format(_study_file(FileKind.TIMELINE), _timeline),
    FileKind.CLINICAL_PATIENT: Format(_study_file(FileKind.CLINICAL_PATIENT), _clinical("patient")),
    FileKind.CLINICAL_SAMPLE: Format(_study_file(FileKind.CLINICAL_SAMPLE), _clinical("sample")),
    FileKind.GENE_PANEL: Format(_study_file(FileKind.GENE_PANEL), _gene_panel),
    FileKind.META: Format(_study_file(FileKind.META), _meta),
}
#: The kinds that normalise into frames, hence can be imported: one report per sample.
IMPORTABLE = frozenset(k for k, f in FORMATS.items() if f.normalise is not None)


def _not_accepted(p: Path, kind: FileKind) -> ValidationError:
    return ValidationError(
        f"{p.name} looks like a single {kind.value} file of a cBioPortal study; give the whole "
        "study directory instead, or a MAF, VCF, SEG or JSON report.",
        field="path",
    )


@dataclass(frozen=True)
class GenomicFile:
    """A file read by the reader of its kind: what it holds and the reader's notices."""

    path: Path
    kind: FileKind
    content: Content
    notices: tuple[Issue, ...]

    @property
    def label(self) -> str:
        """``MAF``, ``VCF``, ``JSON report``, ``cBioPortal study``, ``cBioPortal timeline``..."""
        return FORMATS[self.kind].label

    def normalised(self, *, assay: str | None = None) -> Parsed:
        """The alterations as frames, with per-sample metadata (MAF, VCF, report, study).

        ``assay`` names the assay of every sample (default: from the file).
        """
        normalise = FORMATS[self.kind].normalise
        if normalise is None:
            raise _not_accepted(self.path, self.kind)
        return normalise(self.path, self.content, self.notices, assay)


def read_any(
    path: str | Path,
    *,
    accept: Collection[FileKind] | None = None,
    strict: bool = False,
    genome_build: GenomeBuild | str | None = None,
    progress: Callable[[int], None] | None = None,
    keep_neutral_cna: bool = True,
    vaf_unit: str | None = None,
) -> GenomicFile:
    """Read a MAF (plain or gzipped), a VCF, a JSON report, a cBioPortal study directory or any
    single file of a study, with the reader of its kind (the readers validate).

    Parameters
    ----------
    accept
        The kinds the caller takes (e.g. :data:`IMPORTABLE`); another kind is refused before
        the file is read.
    strict, genome_build, progress, keep_neutral_cna, vaf_unit
        See :class:`ReadOptions`.

    Raises
    ------
    ValidationError
        The path does not exist, or its kind is not accepted.
    GenomicFileError
        With the file, line and field of every problem the reader found.
    """
    p = Path(path)
    if not p.exists():
        raise ValidationError(f"{p.name}: no such file or directory.", field="path")
    kind = detect_format(p)
    if accept is not None and kind not in accept:
        raise _not_accepted(p, kind)
    options = ReadOptions(
        strict=strict,
        genome_build=genome_build,
        progress=progress,
        keep_neutral_cna=keep_neutral_cna,
        vaf_unit=vaf_unit,
    )
    content, notices = FORMATS[kind].read(p, options)
    return GenomicFile(p, kind, content, tuple(notices))
