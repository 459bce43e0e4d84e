"""Any supported genomic file in one normalised shape: polars frames per kind of alteration.

The core readers (MAF, VCF, JSON report, cBioPortal study) validate the file and name the file,
line and field of every problem. The functions here turn what they return into polars frames, one
per kind of alteration, plus per-sample metadata (:class:`Parsed`), so that an importer writes
every format the same way (and fast: a MAF never becomes a million Python objects).
:func:`oncotrials.core.genomics.reading.read_any` picks the reader and the normaliser of a file.

Also here: the patient map (research identifiers and sample metadata per sample or patient id of
the file) and the per-sample content hashes that recognise a report already imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.cbioportal import Study
from oncotrials.core.genomics.issues import GenomicFileError, Issue
from oncotrials.core.genomics.maf import MafTable
from oncotrials.core.genomics.model import (
    MUTATION_STATUSES,
    Biomarker,
    CopyNumber,
    GenomicReport,
    Mutation,
    Origin,
    Segment,
    StructuralVariant,
)
from oncotrials.core.genomics.seg import SegTable
from oncotrials.core.genomics.vcf import VcfResult

__all__ = [
    "BIOMARKER_COLUMNS",
    "CNA_COLUMNS",
    "KINDS",
    "MUTATION_COLUMNS",
    "SAMPLE_KINDS",
    "SEGMENT_COLUMNS",
    "SV_COLUMNS",
    "TIMEPOINTS",
    "Limits",
    "Parsed",
    "PatientMap",
    "ReportInfo",
    "SampleInfo",
    "check_limits",
    "content_hashes",
    "normals_of",
    "parsed_from_maf",
    "parsed_from_report",
    "parsed_from_seg",
    "parsed_from_study",
    "parsed_from_vcf",
    "with_origin",
]

MUTATION_COLUMNS: dict[str, Any] = {
    "sample_key": pl.String,
    "gene": pl.String,
    "variant_class": pl.String,
    "protein_change": pl.String,
    "protein_change_raw": pl.String,
    "hgvsc": pl.String,
    "chromosome": pl.String,
    "start": pl.Int64,
    "end": pl.Int64,
    "ref": pl.String,
    "alt": pl.String,
    "vaf": pl.Float64,
    "depth": pl.Int64,
    "alt_count": pl.Int64,
    "consequence": pl.String,
    "normal_sample_id": pl.String,
    "mutation_status": pl.String,
    "transcript_id": pl.String,
    "origin": pl.String,
    "oncogenicity": pl.String,
    "reported": pl.Boolean,
}
# Columns added after reports were first stored, in groups by when they were added: left out of
# a report's content hash when the file does not fill them, so that a file imported before they
# existed is still recognised. Each group hashes the rows that fill it, with the columns before
# it and its own.
_HASH_LATER: tuple[tuple[str, ...], ...] = (
    ("mutation_status", "transcript_id"),
    ("oncogenicity", "reported"),
    ("site1_exon", "site2_exon", "site1_transcript", "site2_transcript"),
)
# Worked out from other columns (``origin`` from ``mutation_status``): not hashed.
_HASH_DERIVED = frozenset({"origin"})
#: Matched_Norm_Sample_Barcode values that name no sample (vcf2maf's default, empty markers).
NORMAL_PLACEHOLDERS = frozenset({"NORMAL", "NA", "N/A", "none", "None", "-"})
CNA_COLUMNS: dict[str, Any] = {
    "sample_key": pl.String,
    "gene": pl.String,
    "call": pl.Int16,
    "copy_number": pl.Float64,
}
SV_COLUMNS: dict[str, Any] = {
    "sample_key": pl.String,
    "gene1": pl.String,
    "gene2": pl.String,
    "chromosome1": pl.String,
    "position1": pl.Int64,
    "chromosome2": pl.String,
    "position2": pl.Int64,
    "in_frame": pl.Boolean,
    "sv_class": pl.String,
    "event_info": pl.String,
    "dna_support": pl.Boolean,
    "rna_support": pl.Boolean,
    "somatic": pl.Boolean,
    "site1_exon": pl.Int64,
    "site2_exon": pl.Int64,
    "site1_transcript": pl.String,
    "site2_transcript": pl.String,
}
BIOMARKER_COLUMNS: dict[str, Any] = {
    "sample_key": pl.String,
    "kind": pl.String,
    "value": pl.Float64,
    "status": pl.String,
    "unit": pl.String,
    "name": pl.String,
}
SEGMENT_COLUMNS: dict[str, Any] = {
    "sample_key": pl.String,
    "chromosome": pl.String,
    "start": pl.Int64,
    "end": pl.Int64,
    "num_markers": pl.Int64,
    "log2_ratio": pl.Float64,
    "total_cn": pl.Int64,
    "minor_cn": pl.Int64,
    "loh": pl.Boolean,
}
KINDS = {
    "mutations": MUTATION_COLUMNS,
    "copy_numbers": CNA_COLUMNS,
    "structural_variants": SV_COLUMNS,
    "biomarkers": BIOMARKER_COLUMNS,
    "segments": SEGMENT_COLUMNS,
}
TIMEPOINTS = ("baseline", "on_treatment", "progression", "unknown")
SAMPLE_KINDS = ("tissue", "cfdna", "blood", "unknown")
# cBioPortal SAMPLE_TYPE values that tell the point of the treatment course.
_SAMPLE_TYPE_TIMEPOINT = {
    "primary": "baseline",
    "recurrence": "progression",
    "relapse": "progression",
    "progression": "progression",
}


@dataclass
class SampleInfo:
    """What the file (or the patient map) says about a sample."""

    file_patient: str | None = None
    kind: str | None = None
    timepoint: str | None = None
    collected_on: dt.date | None = None
    tumour_fraction: float | None = None
    oncotree_code: str | None = None
    therapy: str | None = None


@dataclass
class ReportInfo:
    assay: str
    panel: str = ""
    covered_genes: list[str] | None = None
    lab: str = ""
    reported_on: dt.date | None = None
    version: str = ""
    genome_build: str = ""
    # The sample id of the patient's matched normal; '' for a tumour-only report.
    normal_sample: str = ""
    limit_of_detection: float | None = None  # a VAF fraction, as the assay declares it


@dataclass
class Parsed:
    """One file read and normalised: samples, per-sample report metadata, alteration frames."""

    source: str
    fmt: str
    samples: dict[str, SampleInfo]
    reports: dict[str, ReportInfo]
    frames: dict[str, pl.DataFrame]
    notices: list[str] = field(default_factory=list)
    patient_field: str = "Tumor_Sample_Barcode"
    # The readers' notices as issues (the first ``len(notice_issues)`` of ``notices``), for the
    # app to word them in the user's language.
    notice_issues: tuple[Issue, ...] = ()
    # The file line of each row, per kind, when the reader knows it (MAF), and the file's name
    # of each column (``protein_change_raw`` -> ``HGVSp_Short``), for errors.
    lines: dict[str, pl.Series] = field(default_factory=dict)
    field_names: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class PatientMap:
    """``--patient-map``: research identifiers per sample id or per patient id of the file.

    A CSV with a header: ``research_id`` and ``sample_id`` and/or ``patient_id``; optional
    ``timepoint``, ``kind``, ``collected_on``, ``tumour_fraction``, ``therapy`` per sample.
    """

    by_sample: Mapping[str, str] = field(default_factory=dict)
    by_patient: Mapping[str, str] = field(default_factory=dict)
    sample_info: Mapping[str, SampleInfo] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | Path) -> PatientMap:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(
                f"{p.name}: cannot read the patient map ({exc}).",
                code="patient_map_unreadable",
                p=str(p.name),
                exc=str(exc),
            ) from None
        return cls.parse(text, name=p.name)

    @classmethod
    def parse(cls, text: str, *, name: str = "patient map") -> PatientMap:
        reader = csv.DictReader(text.splitlines())
        header = reader.fieldnames or []
        if "research_id" not in header or not ({"sample_id", "patient_id"} & set(header)):
            raise ValidationError(
                f"{name} line 1: the header needs research_id and sample_id or patient_id; "
                f"got {', '.join(header) or 'nothing'}.",
                code="patient_map_header",
                name=str(name),
                value=str(", ".join(header) or "nothing"),
                field="research_id",
            )
        by_sample: dict[str, str] = {}
        by_patient: dict[str, str] = {}
        info: dict[str, SampleInfo] = {}
        for n, row in enumerate(reader, start=2):
            rid = (row.get("research_id") or "").strip()
            sid = (row.get("sample_id") or "").strip()
            pid = (row.get("patient_id") or "").strip()
            if not rid or not (sid or pid):
                raise ValidationError(
                    f"{name} line {n}: research_id and a sample_id or patient_id are required.",
                    code="patient_map_ids_required",
                    name=str(name),
                    n=str(n),
                    field="research_id",
                )
            if sid:
                by_sample[sid] = rid
                info[sid] = _sample_info_from_row(row, name=name, line=n)
            if pid:
                by_patient[pid] = rid
        return cls(by_sample, by_patient, info)


def _sample_info_from_row(row: Mapping[str, str | None], *, name: str, line: int) -> SampleInfo:
    def val(key: str) -> str | None:
        v = (row.get(key) or "").strip()
        return v or None

    timepoint, kind = val("timepoint"), val("kind")
    if timepoint is not None and timepoint not in TIMEPOINTS:
        raise ValidationError(
            f"{name} line {line}: timepoint must be one of {', '.join(TIMEPOINTS)}; "
            f"got {timepoint!r}.",
            code="patient_map_timepoint",
            name=str(name),
            line=str(line),
            timepoints=str(", ".join(TIMEPOINTS)),
            timepoint=repr(timepoint),
            field="timepoint",
        )
    if kind is not None and kind not in SAMPLE_KINDS:
        raise ValidationError(
            f"{name} line {line}: kind must be one of {', '.join(SAMPLE_KINDS)}; got {kind!r}.",
            code="patient_map_kind",
            name=str(name),
            line=str(line),
            sample_kinds=str(", ".join(SAMPLE_KINDS)),
            kind=repr(kind),
            field="kind",
        )
    collected: dt.date | None = None
    if (c := val("collected_on")) is not None:
        try:
            collected = dt.date.fromisoformat(c)
        except ValueError:
            raise ValidationError(
                f"{name} line {line}: collected_on must be a date YYYY-MM-DD; got {c!r}.",
                code="patient_map_collected_on",
                name=str(name),
                line=str(line),
                c=repr(c),
                field="collected_on",
            ) from None
    tf: float | None = None
    if (t := val("tumour_fraction")) is not None:
        try:
            tf = float(t)
        except ValueError:
            tf = -1.0
        if not 0.0 <= tf <= 1.0:
            raise ValidationError(
                f"{name} line {line}: tumour_fraction must be a number in [0, 1]; got {t!r}.",
                code="patient_map_tumour_fraction",
                name=str(name),
                line=str(line),
                t=repr(t),
                field="tumour_fraction",
            )
    return SampleInfo(
        kind=kind,
        timepoint=timepoint,
        collected_on=collected,
        tumour_fraction=tf,
        therapy=val("therapy"),
    )


def _frame(records: Iterable[Mapping[str, Any]], schema: Mapping[str, Any]) -> pl.DataFrame:
    rows = list(records)
    if not rows:
        return pl.DataFrame(schema=dict(schema))
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=dict(schema))


def with_origin(frame: pl.DataFrame) -> pl.DataFrame:
    """The ``origin`` column worked out from ``mutation_status`` (see ``MUTATION_STATUSES``)."""
    origins = {k: v.value for k, v in MUTATION_STATUSES.items()}
    return frame.with_columns(
        pl.col("mutation_status")
        .replace_strict(origins, default=Origin.UNKNOWN.value, return_dtype=pl.String)
        .alias("origin")
    )


def normals_of(frame: pl.DataFrame, lines: pl.Series | None, source: str) -> dict[str, str]:
    """Each tumour sample's matched normal, from the rows' ``normal_sample_id``.

    Placeholders (``NORMAL``, empty) name no sample. A tumour sample whose rows name two
    normals, or that names itself, is an error naming the line.
    """
    pairs = (
        frame.select(pl.int_range(pl.len()).alias("_row"), "sample_key", "normal_sample_id")
        .filter(
            pl.col("normal_sample_id").is_not_null()
            & ~pl.col("normal_sample_id").is_in(sorted(NORMAL_PLACEHOLDERS))
        )
        .unique(subset=["sample_key", "normal_sample_id"], keep="first", maintain_order=True)
    )
    out: dict[str, str] = {}
    found: list[Issue] = []
    field_name = "Matched_Norm_Sample_Barcode"
    for row, tumour, normal in pairs.iter_rows():
        line = int(lines[row]) if lines is not None else None
        if normal == tumour:
            found.append(
                Issue(source, line, field_name, f"sample {tumour!r} is named as its own normal.")
            )
        elif tumour in out and out[tumour] != normal:
            found.append(
                Issue(
                    source,
                    line,
                    field_name,
                    f"sample {tumour!r} names two matched normals ({out[tumour]!r}, "
                    f"{normal!r}); one per tumour sample.",
                )
            )
        else:
            out[tumour] = normal
    if found:
        raise GenomicFileError(found[:50])
    return out


def _mutation_rows(mutations: Iterable[Mutation]) -> pl.DataFrame:
    def row(m: Mutation) -> dict[str, Any]:
        d = asdict(m)
        d["sample_key"] = m.sample_id
        d["variant_class"] = m.variant_class.value
        d["origin"] = m.origin.value
        d["oncogenicity"] = m.oncogenicity.value if m.oncogenicity is not None else None
        return d

    return _frame((row(m) for m in mutations), MUTATION_COLUMNS)


def _cna_rows(cnas: Iterable[CopyNumber]) -> pl.DataFrame:
    return _frame(
        (
            {
                "sample_key": c.sample_id,
                "gene": c.gene,
                "call": int(c.call.value),
                "copy_number": c.copy_number,
            }
            for c in cnas
        ),
        CNA_COLUMNS,
    )


def _sv_rows(svs: Iterable[StructuralVariant]) -> pl.DataFrame:
    def row(s: StructuralVariant) -> dict[str, Any]:
        d = asdict(s)
        d["sample_key"] = s.sample_id
        return d

    return _frame((row(s) for s in svs), SV_COLUMNS)


def _biomarker_rows(biomarkers: Iterable[Biomarker]) -> pl.DataFrame:
    def row(b: Biomarker) -> dict[str, Any]:
        d = asdict(b)
        d["sample_key"] = b.sample_id
        d["kind"] = b.kind.value
        return d

    return _frame((row(b) for b in biomarkers), BIOMARKER_COLUMNS)


def _segment_rows(segments: Iterable[Segment]) -> pl.DataFrame:
    def row(g: Segment) -> dict[str, Any]:
        d = asdict(g)
        d["sample_key"] = g.sample_id
        return d

    return _frame((row(g) for g in segments), SEGMENT_COLUMNS)


def _empty(kind: str) -> pl.DataFrame:
    return pl.DataFrame(schema=dict(KINDS[kind]))


def _notices(issues: Iterable[Issue]) -> list[str]:
    return [str(i) for i in issues]


def parsed_from_maf(
    p: Path, table: MafTable, notices: Iterable[Issue], assay: str | None = None
) -> Parsed:
    f = with_origin(table.frame.rename({"sample_id": "sample_key"}))
    f = f.select([pl.col(c).cast(t) for c, t in MUTATION_COLUMNS.items()])
    builds = [b for b in table.frame.get_column("genome_build").unique().to_list() if b]
    samples = {s: SampleInfo() for s in table.samples}
    normals = normals_of(f, table.frame.get_column("line"), p.name)
    reports = {
        s: ReportInfo(
            assay=assay or "MAF",
            genome_build=builds[0] if builds else "",
            normal_sample=normals.get(s, ""),
        )
        for s in samples
    }
    frames = {k: _empty(k) for k in KINDS}
    frames["mutations"] = f
    used = dict(table.columns_used)
    names = {k: used[k] for k in MUTATION_COLUMNS if k in used}
    if "protein_change" in used:
        names["protein_change_raw"] = used["protein_change"]
    names["sample_key"] = used.get("sample_id", "Tumor_Sample_Barcode")
    return Parsed(
        p.name,
        "MAF",
        samples,
        reports,
        frames,
        _notices(notices),
        notice_issues=tuple(notices),
        lines={"mutations": table.frame.get_column("line")},
        field_names={"mutations": names},
    )


def parsed_from_vcf(
    p: Path, res: VcfResult, notices: Iterable[Issue], assay: str | None = None
) -> Parsed:
    sid = res.tumour_sample
    build = res.genome_build.value if res.genome_build else ""
    frames = {k: _empty(k) for k in KINDS}
    frames["mutations"] = _mutation_rows(res.mutations)
    frames["structural_variants"] = _sv_rows(res.structural_variants)
    return Parsed(
        p.name,
        "VCF",
        {sid: SampleInfo()},
        {
            sid: ReportInfo(
                assay=assay or "VCF", genome_build=build, normal_sample=res.normal_sample or ""
            )
        },
        frames,
        _notices(notices),
        notice_issues=tuple(notices),
        patient_field="tumour sample column",
    )


def parsed_from_seg(
    p: Path, table: SegTable, notices: Iterable[Issue], assay: str | None = None
) -> Parsed:
    """A SEG file: one report of segments per sample (assay ``SEG`` unless named)."""
    build = table.genome_build.value if table.genome_build else ""
    samples = {s: SampleInfo() for s in table.samples}
    reports = {s: ReportInfo(assay=assay or "SEG", genome_build=build) for s in samples}
    frames = {k: _empty(k) for k in KINDS}
    frames["segments"] = table.frame.rename({"sample_id": "sample_key"}).select(
        [pl.col(c).cast(t) for c, t in SEGMENT_COLUMNS.items()]
    )
    names = dict(table.columns_used)
    names["sample_key"] = names.pop("sample_id", "ID")
    return Parsed(
        p.name,
        "SEG",
        samples,
        reports,
        frames,
        _notices(notices),
        notice_issues=tuple(notices),
        patient_field="ID",
        lines={"segments": table.frame.get_column("line")},
        field_names={"segments": names},
    )


def parsed_from_report(
    p: Path, report: GenomicReport, notices: Iterable[Issue], assay: str | None = None
) -> Parsed:
    """A JSON report; its own assay name is kept (``assay`` is not used)."""
    s = report.sample
    info = SampleInfo(
        file_patient=s.patient_id,
        kind=s.kind.value,
        timepoint=s.timepoint.value,
        collected_on=s.collected_on,
        tumour_fraction=s.tumour_fraction,
        oncotree_code=s.oncotree_code,
    )
    rinfo = ReportInfo(
        assay=report.assay,
        panel=report.panel or "",
        covered_genes=sorted(report.covered_genes) if report.covered_genes is not None else None,
        lab=report.lab or "",
        reported_on=report.reported_on,
        version=report.version or "",
        genome_build=report.genome_build.value if report.genome_build else "",
        normal_sample=report.normal_sample_id or "",
        limit_of_detection=report.limit_of_detection,
    )
    frames = {
        "mutations": _mutation_rows(report.mutations),
        "copy_numbers": _cna_rows(report.copy_numbers),
        "structural_variants": _sv_rows(report.structural_variants),
        "biomarkers": _biomarker_rows(report.biomarkers),
        "segments": _segment_rows(report.segments),
    }
    return Parsed(
        p.name,
        "JSON report",
        {s.sample_id: info},
        {s.sample_id: rinfo},
        frames,
        _notices(notices),
        notice_issues=tuple(notices),
        patient_field="sample.patient_id",
    )


def parsed_from_study(
    p: Path, study: Study, notices: Iterable[Issue], assay: str | None = None
) -> Parsed:
    build = study.genome_build.value
    samples: dict[str, SampleInfo] = {}
    reports: dict[str, ReportInfo] = {}
    mutations = _mutation_rows(study.mutations)
    normals = normals_of(mutations, None, p.name)
    for s in study.samples:
        rec = study.sample_data.get(s.sample_id, {})
        stype = (rec.get("SAMPLE_TYPE") or "").strip().lower()
        samples[s.sample_id] = SampleInfo(
            file_patient=s.patient_id,
            timepoint=_SAMPLE_TYPE_TIMEPOINT.get(stype),
            oncotree_code=s.oncotree_code,
        )
        covered = study.covered_genes(s.sample_id)
        panel = study.panel_matrix.get(s.sample_id, {}).get("mutations") or ""
        reports[s.sample_id] = ReportInfo(
            assay=assay or f"cBioPortal:{study.study_id}",
            panel=panel,
            covered_genes=sorted(covered) if covered is not None else None,
            genome_build=build,
            normal_sample=normals.get(s.sample_id, ""),
        )
    frames = {
        "mutations": mutations,
        "copy_numbers": _cna_rows(study.copy_numbers),
        "structural_variants": _sv_rows(study.structural_variants),
        "biomarkers": _biomarker_rows(study.biomarkers),
        "segments": _segment_rows(study.segments),
    }
    return Parsed(
        p.name,
        "cBioPortal study",
        samples,
        reports,
        frames,
        _notices(notices),
        notice_issues=tuple(notices),
        patient_field="PATIENT_ID",
    )


#: Per kind of alteration (and ``samples``, ``reports``), per column: the most characters a
#: text value may hold (an int), or the range of a whole number (a pair).
Limits = Mapping[str, Mapping[str, int | tuple[int, int]]]


def _breach(column: str, limit: int | tuple[int, int]) -> pl.Expr:
    """True where a value of ``column`` does not fit ``limit``."""
    if isinstance(limit, tuple):
        return (pl.col(column) < limit[0]) | (pl.col(column) > limit[1])
    return pl.col(column).str.len_chars() > limit


def check_limits(parsed: Parsed, limits: Limits, *, max_errors: int = 50) -> None:
    """Refuse, before anything is written, a value that would not fit its stored column.

    Every text value longer than its column allows and every whole number outside its
    column's range is named by file, line (or record) and field; one
    :class:`~oncotrials.core.genomics.issues.GenomicFileError` lists them all (up to
    ``max_errors``). Checked per column in one vectorised pass; only the failing columns are
    looked at row by row.
    """
    found: list[Issue] = []

    def add(line: int | None, where: str, message: str) -> None:
        if len(found) < max_errors:
            found.append(Issue(parsed.source, line, where, message))

    def describe(limit: int | tuple[int, int]) -> str:
        if isinstance(limit, tuple):
            return f"a whole number between {limit[0]} and {limit[1]}"
        return f"at most {limit} characters"

    for kind in KINDS:
        frame = parsed.frames[kind]
        wanted = limits.get(kind, {})
        cols = [c for c in frame.columns if c in wanted]
        if frame.height == 0 or not cols:
            continue

        probe = frame.select(_breach(c, wanted[c]).any().alias(c) for c in cols).row(0, named=True)
        lines = parsed.lines.get(kind)
        names = parsed.field_names.get(kind, {})
        for c in (c for c in cols if probe[c]):
            rows = (
                frame.select(
                    pl.int_range(pl.len()).alias("_row"),
                    pl.col(c),
                    _breach(c, wanted[c]).alias("_bad"),
                )
                .filter("_bad")
                .head(max_errors)
            )
            for r, value in rows.select("_row", c).iter_rows():
                text = str(value)
                shown = text if len(text) <= 40 else f"{text[:37]}..."
                if lines is not None:
                    line, where = int(lines[r]), names.get(c, c)
                else:
                    line, where = None, f"{kind} record {r + 1}, {names.get(c, c)}"
                size = f"{len(text)} characters" if isinstance(value, str) else "the value"
                add(
                    line,
                    where,
                    f"{shown!r}: {size} does not fit; the field holds {describe(wanted[c])}.",
                )
    for key, limit in limits.get("samples", {}).items():
        for sid, info in parsed.samples.items():
            value = sid if key == "sample_id" else getattr(info, key, None)
            if isinstance(value, str) and isinstance(limit, int) and len(value) > limit:
                add(
                    None,
                    f"sample {sid[:40]!r}, {key}",
                    f"{len(value)} characters; at most {limit}.",
                )
    for key, limit in limits.get("reports", {}).items():
        for sid, rinfo in parsed.reports.items():
            value = getattr(rinfo, key, None)
            if isinstance(value, str) and isinstance(limit, int) and len(value) > limit:
                add(
                    None,
                    f"report of sample {sid[:40]!r}, {key}",
                    f"{value[:40]!r}: {len(value)} characters; at most {limit}.",
                )
    if found:
        raise GenomicFileError(found)


def _feed(digests: Mapping[str, Any], label: str, f: pl.DataFrame) -> None:
    """Each sample's rows of ``f``, sorted on every column and rendered as CSV, to its digest."""
    # One sort and one CSV rendering for the whole file; each sample's rows are then a
    # contiguous run of lines (no field holds a newline: the readers split on lines), fed to
    # its digest as one slice of the rendering.
    f = f.sort(["sample_key", *[c for c in f.columns if c != "sample_key"]], nulls_last=True)
    buf = io.BytesIO()
    f.write_csv(buf, include_header=False)
    data = buf.getbuffer()
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    if ends.size != f.height:  # a newline inside a value after all: split the old way
        ends = np.cumsum([len(x) + 1 for x in bytes(data).split(b"\n")[: f.height]]) - 1
    runs = f.get_column("sample_key").rle()
    start = 0
    for key, n in zip(
        runs.struct.field("value").to_list(), runs.struct.field("len").to_list(), strict=True
    ):
        h = digests.get(str(key))
        if h is not None:
            h.update(label.encode())
            first = 0 if start == 0 else int(ends[start - 1]) + 1
            h.update(data[first : int(ends[start + n - 1])])
        start += n
    del data
    buf.close()


def content_hashes(parsed: Parsed) -> dict[str, str]:
    """SHA-256 per sample of its report metadata and its alterations, in a canonical order.

    Row order and the file's line numbers do not count: the same report re-exported in another
    order is the same report.
    """
    digests = {s: hashlib.sha256() for s in parsed.samples}
    for s, info in parsed.reports.items():
        meta = asdict(info)
        # The normal is the rows' normal_sample_id, hashed with them; a report stored before
        # the field existed keeps its digest.
        del meta["normal_sample"]
        meta["reported_on"] = info.reported_on.isoformat() if info.reported_on else None
        if info.limit_of_detection is None:  # added later: absent keeps the earlier digest
            del meta["limit_of_detection"]
        digests[s].update(json.dumps(meta, sort_keys=True).encode())
    for kind in KINDS:
        f = parsed.frames[kind]
        if f.height == 0:
            continue
        f = f.drop([c for c in f.columns if c in _HASH_DERIVED])
        groups = [[c for c in group if c in f.columns] for group in _HASH_LATER]
        later = [c for group in groups for c in group]
        _feed(digests, kind, f.drop(later))
        for group in (g for g in groups if g):
            # Values of the later columns, only for the rows that have some: a report without
            # them keeps the digest it had before they existed.
            others = [c for c in later if c not in group]
            filled = f.drop(others).filter(
                pl.any_horizontal(pl.col(c).is_not_null() for c in group)
            )
            if filled.height:
                _feed(digests, f"{kind}:{','.join(group)}", filled)
    return {s: h.hexdigest() for s, h in digests.items()}
