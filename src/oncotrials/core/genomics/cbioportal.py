"""cBioPortal study directories: read (with the importer's validation rules) and write.

A study is a directory of ``meta_*.txt`` files (``key: value`` lines) each pointing at a
tab-separated data file through ``data_filename``. Read here: ``meta_study``, clinical patient and
sample files (four ``#`` header lines), mutations (MAF), discrete copy number in the LONG
(``DISCRETE_LONG``) and WIDE (``DISCRETE``) layouts, copy-number segments (``SEG``, read by
:mod:`oncotrials.core.genomics.seg`), structural variants (``SV``), timelines, gene panels with
their matrix, and ``case_lists/``. Other profiles (expression, methylation...) are reported as
notices and skipped.

Errors name the file, the line and the field: unknown patients of samples, patients without
samples, repeated ids, ids with forbidden characters, values of the wrong type, discrete CNA
values outside -2..2, genome builds that differ from ``reference_genome``, data of samples that
are not in the clinical sample file. Decisions on cBioPortal's warnings: a value that looks like
an Excel date in a non-date column is a warning, everything above is an error.

:func:`write_study` writes the same layout back (DISCRETE_LONG for copy number, SV for
fusions), so that ``read_study(write_study(read_study(d)))`` equals ``read_study(d)``.

References
----------
cBioPortal file formats, https://docs.cbioportal.org/file-formats/ and the validator
``scripts/importer/validateData.py`` of cBioPortal/cbioportal-core.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics._tabular import load_table, read_text_lines
from oncotrials.core.genomics.genes import normalise_gene
from oncotrials.core.genomics.issues import GenomicFileError, Issue, IssueLog, Severity
from oncotrials.core.genomics.maf import read_maf, write_maf
from oncotrials.core.genomics.model import (
    Biomarker,
    BiomarkerKind,
    CnaCall,
    CopyNumber,
    GenomeBuild,
    Mutation,
    Sample,
    Segment,
    StructuralVariant,
    exon_problem,
)
from oncotrials.core.genomics.seg import read_seg, write_seg

__all__ = [
    "CaseList",
    "ClinicalAttribute",
    "GenePanel",
    "Study",
    "TimelineEvent",
    "read_clinical",
    "read_cna",
    "read_cna_frame",
    "read_gene_panel",
    "read_meta",
    "read_structural_variants",
    "read_study",
    "read_timeline",
    "write_study",
]

ID_RE = re.compile(r"^[A-Za-z0-9._-]+$")
NULL_VALUES = frozenset(
    v.lower()
    for v in (
        "[Not Applicable]",
        "[Not Available]",
        "[Pending]",
        "[Discrepancy]",
        "[Completed]",
        "[null]",
        "NA",
        "",
    )
)
DATATYPES = ("STRING", "NUMBER", "BOOLEAN")
_EXCEL_DATE = re.compile(r"^(\d{1,2}-[A-Z][a-z]{2}|[A-Z][a-z]{2}-\d{1,2}|\d{1,2}-\d{1,2})$")
CNA_VALUES = {"-2": -2, "-1.5": -1, "-1": -1, "0": 0, "1": 1, "2": 2}
META_STUDY_REQUIRED = ("cancer_study_identifier", "type_of_cancer", "name", "description")


@dataclass(frozen=True, slots=True)
class ClinicalAttribute:
    attr_id: str
    display_name: str
    description: str
    datatype: str
    priority: str


@dataclass(frozen=True)
class TimelineEvent:
    patient_id: str
    start: int
    stop: int | None
    event_type: str
    attributes: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GenePanel:
    stable_id: str
    description: str
    genes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CaseList:
    stable_id: str
    name: str
    description: str
    sample_ids: tuple[str, ...]
    category: str | None = None


@dataclass(frozen=True)
class Study:
    """Everything read from a study directory."""

    meta: Mapping[str, str]
    patient_attributes: tuple[ClinicalAttribute, ...] = ()
    sample_attributes: tuple[ClinicalAttribute, ...] = ()
    patients: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    sample_data: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    samples: tuple[Sample, ...] = ()
    mutations: tuple[Mutation, ...] = ()
    copy_numbers: tuple[CopyNumber, ...] = ()
    structural_variants: tuple[StructuralVariant, ...] = ()
    timeline: tuple[TimelineEvent, ...] = ()
    gene_panels: Mapping[str, GenePanel] = field(default_factory=dict)
    panel_matrix: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    case_lists: tuple[CaseList, ...] = ()
    profiles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # datatype -> meta
    issues: tuple[Issue, ...] = ()
    segments: tuple[Segment, ...] = ()

    @property
    def study_id(self) -> str:
        return self.meta["cancer_study_identifier"]

    @property
    def genome_build(self) -> GenomeBuild:
        return GenomeBuild.parse(self.meta.get("reference_genome", "hg19")) or GenomeBuild.GRCH37

    @property
    def biomarkers(self) -> tuple[Biomarker, ...]:
        """TMB and MSI from the conventional sample attributes of MSK/GENIE studies.

        ``TMB_NONSYNONYMOUS`` (mutations per Mb) gives a TMB biomarker; ``MSI_SCORE`` and/or
        ``MSI_TYPE`` an MSI biomarker. Null spellings and non-numbers are skipped.
        """
        out: list[Biomarker] = []
        for sid, rec in self.sample_data.items():
            tmb = _number(rec.get("TMB_NONSYNONYMOUS"))
            if tmb is not None:
                out.append(Biomarker(sid, BiomarkerKind.TMB, tmb, unit="mut/Mb"))
            score = _number(rec.get("MSI_SCORE"))
            msi_type = rec.get("MSI_TYPE")
            if msi_type is not None and msi_type.lower() in NULL_VALUES:
                msi_type = None
            if score is not None or msi_type is not None:
                out.append(Biomarker(sid, BiomarkerKind.MSI, score, msi_type, name="MSI_SCORE"))
        return tuple(out)

    def covered_genes(self, sample_id: str, profile: str = "mutations") -> frozenset[str] | None:
        """Genes the sample was profiled for in ``profile``; None when not stated (WES/all)."""
        panel_id = self.panel_matrix.get(sample_id, {}).get(profile)
        if panel_id is None or panel_id not in self.gene_panels:
            return None
        return frozenset(self.gene_panels[panel_id].genes)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------- meta files
def read_meta(path: Path) -> dict[str, str]:
    """Parse a ``key: value`` meta file; errors name the line."""
    log = IssueLog.for_path(path)
    out: dict[str, str] = {}
    for i, raw in enumerate(read_text_lines(path, log), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if ":" not in line:
            log.error(
                i,
                None,
                "expected 'key: value', got %(line_no)s.",
                code="genomic_expected_key_value_got",
                line_no=repr(line[:60]),
            )
            continue
        key, value = line.split(":", 1)
        key = key.strip()
        if key in out:
            log.error(
                i, key, "key %(key)s is given twice.", code="genomic_key_given_twice", key=repr(key)
            )
        out[key] = value.strip()
    log.raise_if_errors()
    return out


# ---------------------------------------------------------------------------------- clinical
@dataclass(frozen=True)
class _Clinical:
    attributes: tuple[ClinicalAttribute, ...]
    rows: dict[str, dict[str, str | None]]
    lines: dict[str, int]
    patient_of: dict[str, str]  # sample files only


def read_clinical(path: Path, kind: str, log: IssueLog | None = None) -> _Clinical:
    """Read a clinical ``patient`` or ``sample`` file (four '#' lines, then the header).

    Errors are raised at the end; when the caller passes its own ``log`` they are left in it
    (so that cross-file checks can be added before raising).
    """
    own_log = log is None
    log = log or IssueLog.for_path(path)
    t = load_table(path, log, kind=f"clinical {kind} file")
    if len(t.comments) < 4:
        raise log.fatal(
            1,
            None,
            "a clinical file starts with four '#' lines (display names, descriptions, datatypes, priorities) before the header; found %(n_comments)s.",
            code="genomic_clinical_file_starts_with_four",
            n_comments=len(t.comments),
        )
    meta = [c[1:].split("\t") for c in t.comments[:4]]
    for i, parts in enumerate(meta, start=1):
        if len(parts) != len(t.header):
            log.error(
                i,
                None,
                "%(n_parts)s fields but the header has %(n_header)s.",
                code="genomic_fields_but_header_has",
                n_parts=len(parts),
                n_header=len(t.header),
            )
    log.raise_if_errors()
    attrs = tuple(
        ClinicalAttribute(
            h,
            meta[0][j].strip(),
            meta[1][j].strip(),
            meta[2][j].strip().upper(),
            meta[3][j].strip(),
        )
        for j, h in enumerate(t.header)
    )
    for a in attrs:
        if a.datatype not in DATATYPES:
            log.error(
                3,
                a.attr_id,
                "datatype %(datatype)s must be one of %(datatypes)s.",
                code="genomic_datatype_one",
                datatype=repr(a.datatype),
                datatypes=", ".join(DATATYPES),
            )
        if not re.fullmatch(r"-?\d+", a.priority):
            log.error(
                4,
                a.attr_id,
                "priority %(priority)s must be an integer.",
                code="genomic_priority_integer",
                priority=repr(a.priority),
            )
        if a.attr_id != a.attr_id.upper():
            log.error(
                t.header_line,
                a.attr_id,
                "attribute ids must be upper case.",
                code="genomic_attribute_ids_upper_case",
            )
    id_col = "SAMPLE_ID" if kind == "sample" else "PATIENT_ID"
    needed = ("SAMPLE_ID", "PATIENT_ID") if kind == "sample" else ("PATIENT_ID",)
    for c in needed:
        if c not in t.header:
            raise log.fatal(
                t.header_line,
                c,
                "the %(kind)s file needs a %(c)s column.",
                code="genomic_file_needs_column",
                kind=kind,
                c=c,
            )
    rows: dict[str, dict[str, str | None]] = {}
    lines: dict[str, int] = {}
    patient_of: dict[str, str] = {}
    types = {a.attr_id: a.datatype for a in attrs}
    for r, rec in enumerate(t.frame.iter_rows(named=True)):
        line = t.line_of(r)
        ident = rec[id_col]
        for c in needed:
            v = rec[c]
            if v is None:
                log.error(line, c, "%(column)s is empty.", code="genomic_column_empty", column=c)
            elif not ID_RE.match(v):
                log.error(
                    line,
                    c,
                    "%(v)s may contain only letters, digits, '.', '_' and '-'.",
                    code="genomic_may_contain_only_letters_digits",
                    v=repr(v),
                )
        if ident is None:
            continue
        if ident in rows:
            log.error(
                line,
                id_col,
                "%(ident)s is repeated (first on line %(lines)s).",
                code="genomic_repeated_first_line",
                ident=repr(ident),
                lines=lines[ident],
            )
            continue
        for key, value in rec.items():
            if value is None or key in needed:
                continue
            low = value.lower()
            if low in NULL_VALUES:
                continue
            dtype = types[key]
            if dtype == "NUMBER":
                try:
                    float(value)
                except ValueError:
                    log.error(
                        line,
                        key,
                        "%(value)s is not a number (datatype NUMBER).",
                        code="genomic_not_number_datatype_number",
                        value=repr(value),
                    )
            elif dtype == "BOOLEAN" and low not in {"true", "false"}:
                log.error(
                    line,
                    key,
                    "%(value)s is not TRUE or FALSE (datatype BOOLEAN).",
                    code="genomic_not_true_false_datatype_boolean",
                    value=repr(value),
                )
            if (
                key.endswith("_STATUS")
                and key[:-7] + "_MONTHS" in types
                and not re.match(r"^[01]:", value)
            ):
                log.error(
                    line,
                    key,
                    "%(value)s: survival status values start with '0:' or '1:'.",
                    code="genomic_survival_status_values_start_with",
                    value=repr(value),
                )
            if dtype == "STRING" and _EXCEL_DATE.match(value):
                log.warning(
                    line,
                    key,
                    "%(value)s looks like a spreadsheet date conversion; check the source value.",
                    code="genomic_looks_like_spreadsheet_date_conversion",
                    value=repr(value),
                )
        rows[ident] = {k: v for k, v in rec.items() if k != id_col}
        lines[ident] = line
        if kind == "sample" and rec["PATIENT_ID"]:
            patient_of[ident] = rec["PATIENT_ID"]
    if own_log:
        log.raise_if_errors()
    return _Clinical(attrs, rows, lines, patient_of)


# ---------------------------------------------------------------------------------- CNA
def read_cna_frame(
    path: Path,
    *,
    long: bool | None = None,
    known_samples: frozenset[str] | None = None,
    keep_neutral: bool = True,
) -> pl.DataFrame:
    """Discrete copy number, long (``Sample_Id``, ``Value``) or wide (one column per sample).

    Returns a polars frame with ``line``, ``gene``, ``sample_id`` and ``call`` (-2..2): the fast
    path for large GISTIC matrices (millions of cells); :func:`read_cna` gives model objects.

    ``long=None`` decides from the header. Values -2..2 (and -1.5, read as -1); ``NA`` in the
    wide layout means "not profiled" and yields no call.
    """
    log = IssueLog.for_path(path)
    t = load_table(path, log, kind="discrete CNA file")
    header = t.header
    gene_col = "Hugo_Symbol" if "Hugo_Symbol" in header else None
    if gene_col is None and "Entrez_Gene_Id" not in header:
        raise log.fatal(
            t.header_line,
            "Hugo_Symbol",
            "a CNA file needs Hugo_Symbol or Entrez_Gene_Id.",
            code="genomic_cna_file_needs_hugo_symbol",
        )
    if long is None:
        long = "Value" in header
    f = t.frame.with_row_index("row")
    if gene_col is None:
        gene_col = "Entrez_Gene_Id"
        log.warning(
            t.header_line,
            gene_col,
            "no Hugo_Symbol column: genes are Entrez ids.",
            code="genomic_no_hugo_symbol_column_genes",
        )
    if long:
        for c in ("Sample_Id", "Value"):
            if c not in header:
                raise log.fatal(
                    t.header_line,
                    c,
                    "the long CNA layout needs a %(c)s column.",
                    code="genomic_long_cna_layout_needs_column",
                    c=c,
                )
        cells = f.select(
            "row",
            pl.col(gene_col).alias("gene"),
            pl.col("Sample_Id").alias("sample"),
            pl.col("Value").alias("value"),
        )
    else:
        non_samples = {"Hugo_Symbol", "Entrez_Gene_Id", "Cytoband", "row"}
        sample_cols = [c for c in header if c not in non_samples]
        dup = f.filter(pl.col(gene_col).is_duplicated() & pl.col(gene_col).is_not_null())
        for r, g in dup.select("row", gene_col).iter_rows():
            log.error(
                t.line_of(r),
                gene_col,
                "gene %(g)s has more than one row.",
                code="genomic_gene_has_more_than_one",
                g=repr(g),
            )
        cells = f.select("row", pl.col(gene_col).alias("gene"), *sample_cols).unpivot(
            index=["row", "gene"], variable_name="sample", value_name="value"
        )
        cells = cells.filter(pl.col("value").is_null() | (pl.col("value") != "NA"))
    for r in cells.filter(pl.col("gene").is_null()).get_column("row").unique().to_list():
        log.error(t.line_of(r), gene_col, "the gene is empty.", code="genomic_gene_empty")
    bad = cells.filter(pl.col("value").is_null() | ~pl.col("value").is_in(list(CNA_VALUES)))
    for r, s, v in bad.select("row", "sample", "value").head(log.max_errors).iter_rows():
        where = "Value" if long else s
        log.error(
            t.line_of(r),
            where,
            "discrete CNA value %(v)s is not one of -2, -1, 0, 1, 2.",
            code="genomic_discrete_cna_value_not_one",
            v=repr(v),
        )
    if long:
        dup = cells.filter(pl.struct("gene", "sample").is_duplicated())
        for r, g, s in dup.select("row", "gene", "sample").head(log.max_errors).iter_rows():
            log.error(
                t.line_of(r),
                gene_col,
                "gene %(g)s is given twice for sample %(s)s.",
                code="genomic_gene_given_twice_sample",
                g=repr(g),
                s=repr(s),
            )
    if known_samples is not None:
        unknown = cells.filter(~pl.col("sample").is_in(list(known_samples)))
        seen: set[str] = set()
        for r, s in unknown.select("row", "sample").iter_rows():
            if s not in seen:
                seen.add(s)
                log.error(
                    t.line_of(r) if long else t.header_line,
                    "Sample_Id" if long else s,
                    "sample %(sample)s is not in the clinical sample file.",
                    code="genomic_sample_not_clinical_sample_file",
                    sample=repr(s),
                )
    log.raise_if_errors()
    genes = {g: normalise_gene(g) for g in cells.get_column("gene").unique().to_list()}
    frame = cells.sort("row", maintain_order=True).select(
        (pl.col("row").cast(pl.Int64) + t.header_line + 1).alias("line"),
        pl.col("gene").replace_strict(genes, return_dtype=pl.String),
        pl.col("sample").alias("sample_id"),
        pl.col("value").replace_strict(CNA_VALUES, return_dtype=pl.Int8).alias("call"),
    )
    if not keep_neutral:
        frame = frame.filter(pl.col("call") != 0)
    return frame


def read_cna(
    path: Path,
    *,
    long: bool | None = None,
    known_samples: frozenset[str] | None = None,
    keep_neutral: bool = True,
) -> tuple[CopyNumber, ...]:
    """Discrete copy number as :class:`CopyNumber` objects; see :func:`read_cna_frame`."""
    frame = read_cna_frame(path, long=long, known_samples=known_samples, keep_neutral=keep_neutral)
    calls = {c.value: c for c in CnaCall}
    return tuple(
        CopyNumber(sample_id=s, gene=g, call=calls[v])
        for g, s, v in zip(
            frame.get_column("gene").to_list(),
            frame.get_column("sample_id").to_list(),
            frame.get_column("call").to_list(),
            strict=True,
        )
    )


# ---------------------------------------------------------------------------------- SV
_SV_YES = {"yes": True, "no": False}
_FRAME = {"in_frame": True, "inframe": True, "frameshift": False, "out_of_frame": False}


def read_structural_variants(
    path: Path,
    *,
    known_samples: frozenset[str] | None = None,
    genome_build: GenomeBuild | None = None,
) -> tuple[StructuralVariant, ...]:
    """Structural variants in cBioPortal's SV format (``Sample_Id``, ``SV_Status``, sites 1/2)."""
    log = IssueLog.for_path(path)
    t = load_table(path, log, kind="structural variant file")
    h = set(t.header)
    for c in ("Sample_Id", "SV_Status"):
        if c not in h:
            raise log.fatal(
                t.header_line,
                c,
                "the SV file needs a %(c)s column.",
                code="genomic_sv_file_needs_column",
                c=c,
            )
    for site in ("Site1", "Site2"):
        if f"{site}_Hugo_Symbol" not in h and f"{site}_Entrez_Gene_Id" not in h:
            raise log.fatal(
                t.header_line,
                f"{site}_Hugo_Symbol",
                "the SV file needs %(site)s_Hugo_Symbol or %(site)s_Entrez_Gene_Id.",
                code="genomic_sv_file_needs_hugo_symbol",
                site=site,
            )
    out: list[StructuralVariant] = []

    def get(rec: dict[str, str | None], c: str) -> str | None:
        v = rec.get(c)
        return None if v is None or v.upper() == "NA" else v

    for r, rec in enumerate(t.frame.iter_rows(named=True)):
        line = t.line_of(r)
        sample = get(rec, "Sample_Id")
        if sample is None:
            log.error(line, "Sample_Id", "Sample_Id is empty.", code="genomic_sample_id_empty")
            continue
        if known_samples is not None and sample not in known_samples:
            log.error(
                line,
                "Sample_Id",
                "sample %(sample)s is not in the clinical sample file.",
                code="genomic_sample_not_clinical_sample_file",
                sample=repr(sample),
            )
        status = (get(rec, "SV_Status") or "").upper()
        if status not in {"SOMATIC", "GERMLINE"}:
            log.error(
                line,
                "SV_Status",
                "SV_Status %(status)s must be SOMATIC or GERMLINE.",
                code="genomic_sv_status_somatic_germline",
                status=repr(status),
            )
        pos: dict[str, int | None] = {}
        for c in ("Site1_Position", "Site2_Position"):
            v = get(rec, c)
            try:
                pos[c] = int(v) if v is not None else None
            except ValueError:
                log.error(
                    line,
                    c,
                    "%(v)s is not a whole number.",
                    code="genomic_not_whole_number",
                    v=repr(v),
                )
                pos[c] = None
        build_raw = get(rec, "NCBI_Build")
        build = GenomeBuild.parse(build_raw) if build_raw else None
        if build_raw and build is None:
            log.error(
                line,
                "NCBI_Build",
                "unknown genome build %(build_raw)s.",
                code="genomic_unknown_genome_build",
                build_raw=repr(build_raw),
            )
        if build and genome_build and build is not genome_build:
            log.error(
                line,
                "NCBI_Build",
                "genome build %(build_raw)s does not match the study's %(genome_build)s.",
                code="genomic_genome_build_does_not_match",
                build_raw=repr(build_raw),
                genome_build=genome_build.value,
            )
        g1 = get(rec, "Site1_Hugo_Symbol") or get(rec, "Site1_Entrez_Gene_Id")
        g2 = get(rec, "Site2_Hugo_Symbol") or get(rec, "Site2_Entrez_Gene_Id")
        if g1 is None and g2 is None:
            log.error(
                line,
                "Site1_Hugo_Symbol",
                "neither site names a gene.",
                code="genomic_neither_site_names_gene",
            )
        exons = {site: _site_exon(get, rec, site, line, log) for site in ("Site1", "Site2")}
        frame_raw = (get(rec, "Site2_Effect_On_Frame") or "").lower().replace("-", "_")
        dna = (get(rec, "DNA_Support") or "").lower()
        rna = (get(rec, "RNA_Support") or "").lower()
        out.append(
            StructuralVariant(
                sample_id=sample,
                gene1=normalise_gene(g1) if g1 else None,
                gene2=normalise_gene(g2) if g2 else None,
                chromosome1=get(rec, "Site1_Chromosome"),
                position1=pos["Site1_Position"],
                chromosome2=get(rec, "Site2_Chromosome"),
                position2=pos["Site2_Position"],
                in_frame=_FRAME.get(frame_raw),
                sv_class=get(rec, "Class"),
                event_info=get(rec, "Event_Info"),
                dna_support=_SV_YES.get(dna),
                rna_support=_SV_YES.get(rna),
                somatic=status != "GERMLINE",
                genome_build=build,
                site1_exon=exons["Site1"],
                site2_exon=exons["Site2"],
                site1_transcript=get(rec, "Site1_Ensembl_Transcript_Id"),
                site2_transcript=get(rec, "Site2_Ensembl_Transcript_Id"),
            )
        )
    log.raise_if_errors()
    return tuple(out)


def _site_exon(
    get: Callable[[dict[str, str | None], str], str | None],
    rec: dict[str, str | None],
    site: str,
    line: int | None,
    log: IssueLog,
) -> int | None:
    """The exon of a breakpoint: ``SiteN_Region_Number`` when ``SiteN_Region`` is EXON (or not
    given), else the older ``SiteN_Exon`` column; an intronic breakpoint names no exon."""
    column = f"{site}_Region_Number"
    raw = get(rec, column)
    if raw is None:
        column = f"{site}_Exon"
        raw = get(rec, column)
    if raw is None:
        return None
    region = (get(rec, f"{site}_Region") or "EXON").strip().upper()
    try:
        value: object = int(raw)
    except ValueError:
        value = raw
    problem = exon_problem(value)
    if problem is not None:
        log.error(line, column, problem)
        return None
    if region != "EXON":
        log.info(
            line,
            column,
            "%(site)s lies in %(region)s %(value)s: no exon stored.",
            code="genomic_lies_no_exon_stored",
            site=site,
            region=region.lower(),
            value=value,
        )
        return None
    assert isinstance(value, int)
    return value


# ---------------------------------------------------------------------------------- timeline
TIMELINE_REQUIRED = ("PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE")


def read_timeline(
    path: Path, *, known_patients: frozenset[str] | None = None
) -> tuple[TimelineEvent, ...]:
    """A timeline file: the first four columns are PATIENT_ID, START_DATE, STOP_DATE, EVENT_TYPE."""
    log = IssueLog.for_path(path)
    t = load_table(path, log, kind="timeline file")
    if t.header[:4] != TIMELINE_REQUIRED:
        raise log.fatal(
            t.header_line,
            next((c for c in TIMELINE_REQUIRED if c not in t.header[:4]), TIMELINE_REQUIRED[0]),
            "a timeline starts with the columns %(timeline_required)s in this order; got %(header)s.",
            code="genomic_timeline_starts_with_columns_this",
            timeline_required=", ".join(TIMELINE_REQUIRED),
            header=", ".join(t.header[:4]),
        )
    out: list[TimelineEvent] = []
    for r, rec in enumerate(t.frame.iter_rows(named=True)):
        line = t.line_of(r)
        pid = rec["PATIENT_ID"]
        if pid is None:
            log.error(line, "PATIENT_ID", "PATIENT_ID is empty.", code="genomic_patient_id_empty")
            continue
        if known_patients is not None and pid not in known_patients:
            log.error(
                line,
                "PATIENT_ID",
                "patient %(pid)s is not in the clinical files.",
                code="genomic_patient_not_clinical_files",
                pid=repr(pid),
            )
        days: dict[str, int | None] = {}
        for c in ("START_DATE", "STOP_DATE"):
            v = rec[c]
            if v is None:
                if c == "START_DATE":
                    log.error(
                        line,
                        c,
                        "START_DATE is empty; give days since diagnosis.",
                        code="genomic_start_date_empty_give_days",
                    )
                days[c] = None
                continue
            try:
                days[c] = int(v)
            except ValueError:
                log.error(
                    line,
                    c,
                    "%(v)s is not a whole number of days since diagnosis.",
                    code="genomic_not_whole_number_days_since",
                    v=repr(v),
                )
                days[c] = None
        etype = rec["EVENT_TYPE"]
        if etype is None:
            log.error(line, "EVENT_TYPE", "EVENT_TYPE is empty.", code="genomic_event_type_empty")
            continue
        start = days["START_DATE"]
        if start is None:
            continue
        # a blank cell is no value: the event does not carry that attribute
        extra = {k: v for k, v in rec.items() if k not in TIMELINE_REQUIRED and v is not None}
        out.append(TimelineEvent(pid, start, days["STOP_DATE"], etype, extra))
    log.raise_if_errors()
    return tuple(out)


# ---------------------------------------------------------------------------------- panels
def read_gene_panel(path: Path) -> GenePanel:
    meta = read_meta(path)
    log = IssueLog.for_path(path)
    for key in ("stable_id", "gene_list"):
        if key not in meta:
            raise log.fatal(
                None,
                key,
                "a gene panel file needs '%(key)s:'.",
                code="genomic_gene_panel_file_needs",
                key=key,
            )
    genes = tuple(normalise_gene(g) for g in re.split(r"[\t ]+", meta["gene_list"]) if g)
    return GenePanel(meta["stable_id"], meta.get("description", ""), genes)


def _read_case_list(path: Path) -> CaseList:
    meta = read_meta(path)
    log = IssueLog.for_path(path)
    for key in ("stable_id", "case_list_name", "case_list_description", "case_list_ids"):
        if key not in meta:
            raise log.fatal(
                None, key, "a case list needs '%(key)s:'.", code="genomic_case_list_needs", key=key
            )
    ids = tuple(s for s in re.split(r"[\t ]+", meta["case_list_ids"]) if s)
    return CaseList(
        meta["stable_id"],
        meta["case_list_name"],
        meta["case_list_description"],
        ids,
        meta.get("case_list_category"),
    )


# ---------------------------------------------------------------------------------- study
def _data_file(meta_path: Path, meta: Mapping[str, str]) -> Path:
    log = IssueLog.for_path(meta_path)
    name = meta.get("data_filename")
    if not name:
        raise log.fatal(
            None,
            "data_filename",
            "the meta file does not name its data file.",
            code="genomic_meta_file_does_not_name",
        )
    p = meta_path.parent / name
    if not p.is_file():
        raise log.fatal(
            None,
            "data_filename",
            "data file %(name)s does not exist beside the meta file.",
            code="genomic_data_file_does_not_exist",
            name=repr(name),
        )
    return p


_Profile = tuple[Path, dict[str, str]]  # a meta file and its keys


def _study_meta(d: Path) -> tuple[dict[Path, dict[str, str]], dict[str, str], GenomeBuild]:
    """The meta files of the directory, the study's own (checked) and its reference genome."""
    metas: dict[Path, dict[str, str]] = {}
    for p in sorted(d.glob("meta*.txt")):
        metas[p] = read_meta(p)
    study_meta_path = next((p for p, m in metas.items() if "type_of_cancer" in m), None)
    if study_meta_path is None:
        raise ValidationError(f"{d.name}: no meta_study.txt (a meta file with type_of_cancer).")
    meta = metas.pop(study_meta_path)
    slog = IssueLog.for_path(study_meta_path)
    for key in META_STUDY_REQUIRED:
        if not meta.get(key):
            slog.error(
                None, key, "meta_study needs '%(key)s:'.", code="genomic_meta_study_needs", key=key
            )
    slog.raise_if_errors()
    build = GenomeBuild.parse(meta.get("reference_genome", "hg19"))
    if build is None:
        raise slog.fatal(
            None,
            "reference_genome",
            "reference_genome %(reference_genome)s must be hg19 or hg38.",
            code="genomic_reference_genome_hg_hg",
            reference_genome=repr(meta["reference_genome"]),
        )
    return metas, meta, build


def _by_kind(
    metas: Mapping[Path, dict[str, str]], study_id: str
) -> dict[tuple[str, str], list[_Profile]]:
    """The other meta files by (genetic_alteration_type, datatype); all of this study."""
    by_kind: dict[tuple[str, str], list[_Profile]] = {}
    for p, m in metas.items():
        mlog = IssueLog.for_path(p)
        if (
            m.get("genetic_alteration_type") not in {"CANCER_TYPE", None}
            and m.get("cancer_study_identifier") != study_id
        ):
            raise mlog.fatal(
                None,
                "cancer_study_identifier",
                "%(value)s differs from the study's %(study_id)s.",
                code="genomic_differs_from_study_s",
                value=repr(m.get("cancer_study_identifier")),
                study_id=repr(study_id),
            )
        kind = (m.get("genetic_alteration_type", ""), m.get("datatype", ""))
        by_kind.setdefault(kind, []).append((p, m))
    return by_kind


def _only(
    by_kind: Mapping[tuple[str, str], list[_Profile]], kind: tuple[str, str]
) -> _Profile | None:
    """The one meta file of a kind (a second is an error), or None."""
    found = by_kind.get(kind, [])
    if len(found) > 1:
        raise IssueLog.for_path(found[1][0]).fatal(
            None, "datatype", f"a second {kind[1]} file; one per study."
        )
    return found[0] if found else None


def _study_clinical(
    d: Path, by_kind: Mapping[tuple[str, str], list[_Profile]], notices: list[Issue]
) -> tuple[_Clinical, tuple[ClinicalAttribute, ...], dict[str, dict[str, str | None]]]:
    """The sample file (required) and the patient file (optional), cross-checked."""
    samp = _only(by_kind, ("CLINICAL", "SAMPLE_ATTRIBUTES"))
    if samp is None:
        raise ValidationError(
            f"{d.name}: no clinical sample file (datatype SAMPLE_ATTRIBUTES); it is required."
        )
    sample_path = _data_file(*samp)
    sample_log = IssueLog.for_path(sample_path)
    sc = read_clinical(sample_path, "sample", sample_log)
    pat = _only(by_kind, ("CLINICAL", "PATIENT_ATTRIBUTES"))
    patient_attrs: tuple[ClinicalAttribute, ...] = ()
    patients: dict[str, dict[str, str | None]] = {}
    if pat is not None:
        patient_path = _data_file(*pat)
        plog = IssueLog.for_path(patient_path)
        pc = read_clinical(patient_path, "patient", plog)
        patient_attrs, patients = pc.attributes, pc.rows
        sampled = set(sc.patient_of.values())
        for pid, line in pc.lines.items():
            if pid not in sampled:
                plog.error(
                    line,
                    "PATIENT_ID",
                    "patient %(pid)s has no sample in the sample file.",
                    code="genomic_patient_has_no_sample_sample",
                    pid=repr(pid),
                )
        for sid, pid in sc.patient_of.items():
            if pid not in patients:
                sample_log.error(
                    sc.lines[sid],
                    "PATIENT_ID",
                    "sample %(sid)s belongs to patient %(pid)s, who is not in the patient file.",
                    code="genomic_sample_belongs_patient_who_not",
                    sid=repr(sid),
                    pid=repr(pid),
                )
        notices.extend(plog.notices())
        plog.raise_if_errors()
    else:
        patients = {pid: {} for pid in dict.fromkeys(sc.patient_of.values())}
    notices.extend(sample_log.notices())
    sample_log.raise_if_errors()
    return sc, patient_attrs, patients


@dataclass
class _Profiles:
    """The molecular profiles of a study as they are read, with their meta keys."""

    by_kind: Mapping[tuple[str, str], list[_Profile]]
    known: frozenset[str]  # the samples of the clinical sample file
    build: GenomeBuild
    notices: list[Issue]
    meta: dict[str, dict[str, str]] = field(default_factory=dict)

    def mutations(self) -> tuple[Mutation, ...]:
        mut = _only(self.by_kind, ("MUTATION_EXTENDED", "MAF"))
        if mut is None:
            return ()
        table = read_maf(_data_file(*mut), genome_build=self.build, known_samples=self.known)
        self.notices.extend(table.issues)
        self.meta["MAF"] = mut[1]
        return table.to_mutations()

    def copy_numbers(self, keep_neutral: bool) -> tuple[CopyNumber, ...]:
        cnas: tuple[CopyNumber, ...] = ()
        for dt_name, long in (("DISCRETE_LONG", True), ("DISCRETE", False)):
            cna = _only(self.by_kind, ("COPY_NUMBER_ALTERATION", dt_name))
            if cna is not None:
                cnas = read_cna(
                    _data_file(*cna), long=long, known_samples=self.known, keep_neutral=keep_neutral
                )
                self.meta[dt_name] = cna[1]
        return cnas

    def structural_variants(self) -> tuple[StructuralVariant, ...]:
        sv = _only(self.by_kind, ("STRUCTURAL_VARIANT", "SV"))
        if sv is None:
            return ()
        svs = read_structural_variants(
            _data_file(*sv), known_samples=self.known, genome_build=self.build
        )
        self.meta["SV"] = sv[1]
        return svs

    def segments(self) -> tuple[Segment, ...]:
        seg = _only(self.by_kind, ("COPY_NUMBER_ALTERATION", "SEG"))
        if seg is None:
            return ()
        ref = seg[1].get("reference_genome_id")
        if ref and GenomeBuild.parse(ref) is not self.build:
            raise IssueLog.for_path(seg[0]).fatal(
                None,
                "reference_genome_id",
                f"{ref!r} differs from the study's reference genome ({self.build.value}).",
            )
        table = read_seg(_data_file(*seg), genome_build=self.build, known_samples=self.known)
        self.notices.extend(table.issues)
        self.meta["SEG"] = seg[1]
        return table.to_segments()

    def timeline(self, patients: frozenset[str]) -> tuple[TimelineEvent, ...]:
        timeline: list[TimelineEvent] = []
        for p, m in self.by_kind.get(("CLINICAL", "TIMELINE"), []):
            timeline.extend(read_timeline(_data_file(p, m), known_patients=patients))
            self.meta.setdefault("TIMELINE", m)
        # one order whatever the files: by patient, day and type (stable within a file)
        return tuple(sorted(timeline, key=lambda e: (e.patient_id, e.start, e.event_type)))

    def panel_matrix(self, panels: Mapping[str, GenePanel]) -> dict[str, dict[str, str | None]]:
        """Per sample, the gene panel of each profile; every sample and panel must be known."""
        matrix: dict[str, dict[str, str | None]] = {}
        gpm = _only(self.by_kind, ("GENE_PANEL_MATRIX", "GENE_PANEL_MATRIX"))
        if gpm is None:
            return matrix
        mpath = _data_file(*gpm)
        mlog = IssueLog.for_path(mpath)
        t = load_table(mpath, mlog, kind="gene panel matrix")
        if "SAMPLE_ID" not in t.header:
            raise mlog.fatal(
                t.header_line,
                "SAMPLE_ID",
                "the gene panel matrix needs SAMPLE_ID.",
                code="genomic_gene_panel_matrix_needs_sample",
            )
        for r, rec in enumerate(t.frame.iter_rows(named=True)):
            sid = rec.pop("SAMPLE_ID")
            if sid is None:
                mlog.error(
                    t.line_of(r),
                    "SAMPLE_ID",
                    "SAMPLE_ID is empty.",
                    code="genomic_sample_id_upper_empty",
                )
                continue
            if sid not in self.known:
                mlog.error(
                    t.line_of(r),
                    "SAMPLE_ID",
                    "sample %(sample)s is not in the clinical sample file.",
                    code="genomic_sample_not_clinical_sample_file",
                    sample=repr(sid),
                )
            for profile, panel_id in rec.items():
                if panel_id is not None and panel_id != "NA" and panel_id not in panels:
                    mlog.error(
                        t.line_of(r),
                        profile,
                        "gene panel %(panel_id)s has no data_gene_panel file.",
                        code="genomic_gene_panel_has_no_data",
                        panel_id=repr(panel_id),
                    )
            matrix[sid] = {k: (None if v in (None, "NA") else v) for k, v in rec.items()}
        mlog.raise_if_errors()
        self.meta["GENE_PANEL_MATRIX"] = gpm[1]
        return matrix


def _gene_panels(d: Path) -> dict[str, GenePanel]:
    panels: dict[str, GenePanel] = {}
    for p in sorted(d.glob("*gene_panel*.txt")):
        if p.name.startswith("meta") or "matrix" in p.name:
            continue
        panel = read_gene_panel(p)
        panels[panel.stable_id] = panel
    return panels


def _outside_panels(
    mutations: Sequence[Mutation],
    matrix: Mapping[str, Mapping[str, str | None]],
    panels: dict[str, GenePanel],
) -> Issue | None:
    """Mutations outside the panel their sample was profiled with: a warning, as in cBioPortal."""
    outside: Counter[tuple[str, str]] = Counter()
    for mu in mutations:
        panel_id = matrix.get(mu.sample_id, {}).get("mutations")
        if panel_id in panels and mu.gene not in panels[panel_id].genes:
            outside[(mu.sample_id, mu.gene)] += 1
    if not outside:
        return None
    (first_sample, first_gene), _ = next(iter(outside.items()))
    return Issue(
        "data_gene_panel_matrix.txt",
        None,
        "mutations",
        f"{len(outside)} sample/gene pair(s) with mutations outside the sample's gene "
        f"panel, e.g. {first_gene} in {first_sample}.",
        Severity.WARNING,
    )


def _case_lists(d: Path, known: frozenset[str]) -> tuple[CaseList, ...]:
    case_lists: list[CaseList] = []
    for p in sorted((d / "case_lists").glob("*.txt")) if (d / "case_lists").is_dir() else []:
        cl = _read_case_list(p)
        clog = IssueLog.for_path(p)
        unknown = [s for s in cl.sample_ids if s not in known]
        if unknown:
            clog.error(
                None,
                "case_list_ids",
                "%(n_unknown)s sample(s) not in the clinical sample file, e.g. %(unknown)s.",
                code="genomic_sample_s_not_clinical_sample",
                n_unknown=len(unknown),
                unknown=repr(unknown[0]),
            )
        clog.raise_if_errors()
        case_lists.append(cl)
    return tuple(case_lists)


def _skipped(by_kind: Mapping[tuple[str, str], list[_Profile]]) -> list[Issue]:
    """A notice for every data file of a kind the reader does not read."""
    out: list[Issue] = []
    for (gat, dt_name), found in by_kind.items():
        if gat in {"CLINICAL", "MUTATION_EXTENDED", "STRUCTURAL_VARIANT", "GENE_PANEL_MATRIX"}:
            continue
        if gat == "COPY_NUMBER_ALTERATION" and dt_name in {"DISCRETE", "DISCRETE_LONG", "SEG"}:
            continue
        for p, _ in found:
            out.append(
                Issue(
                    p.name,
                    None,
                    "datatype",
                    f"{gat}/{dt_name} is not read; skipped.",
                    Severity.INFO,
                )
            )
    return out


def read_study(directory: str | Path, *, keep_neutral_cna: bool = True) -> Study:
    """Read and cross-check a cBioPortal study directory.

    ``keep_neutral_cna=False`` drops copy-number calls of 0 (diploid), which are most of a
    GISTIC matrix.

    Raises
    ------
    GenomicFileError
        Naming file, line and field of the first problem (all are in ``extra['issues']``).
    """
    d = Path(directory)
    if not d.is_dir():
        raise ValidationError(
            f"{d} is not a directory; a cBioPortal study is a directory of meta_*.txt files."
        )
    metas, meta, build = _study_meta(d)
    by_kind = _by_kind(metas, meta["cancer_study_identifier"])
    notices: list[Issue] = []
    sc, patient_attrs, patients = _study_clinical(d, by_kind, notices)
    known = frozenset(sc.rows)
    samples = tuple(
        Sample(sample_id=sid, patient_id=sc.patient_of[sid], oncotree_code=rec.get("ONCOTREE_CODE"))
        for sid, rec in sc.rows.items()
    )
    sample_data = {
        sid: {k: v for k, v in rec.items() if k != "PATIENT_ID"} for sid, rec in sc.rows.items()
    }
    profiles = _Profiles(by_kind, known, build, notices)
    mutations = profiles.mutations()
    cnas = profiles.copy_numbers(keep_neutral_cna)
    svs = profiles.structural_variants()
    segments = profiles.segments()
    timeline = profiles.timeline(frozenset(patients))
    panels = _gene_panels(d)
    matrix = profiles.panel_matrix(panels)
    outside = _outside_panels(mutations, matrix, panels)
    if outside is not None:
        notices.append(outside)
    case_lists = _case_lists(d, known)
    notices.extend(_skipped(by_kind))
    return Study(
        meta=meta,
        patient_attributes=patient_attrs,
        sample_attributes=sc.attributes,
        patients=patients,
        sample_data=sample_data,
        samples=samples,
        mutations=mutations,
        copy_numbers=cnas,
        structural_variants=svs,
        timeline=timeline,
        gene_panels=panels,
        panel_matrix=matrix,
        case_lists=case_lists,
        profiles=profiles.meta,
        issues=tuple(notices),
        segments=segments,
    )


# ---------------------------------------------------------------------------------- writer
def _cell(v: object) -> str:
    return "" if v is None else str(v)


def _write_meta(path: Path, items: Mapping[str, str]) -> None:
    path.write_text("".join(f"{k}: {v}\n" for k, v in items.items()), encoding="utf-8")


def _write_tsv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    comments: Sequence[str] = (),
) -> None:
    lines = [*comments, "\t".join(header), *("\t".join(_cell(v) for v in r) for r in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _default_attrs(ids: Sequence[str]) -> tuple[ClinicalAttribute, ...]:
    return tuple(
        ClinicalAttribute(
            i, i.replace("_", " ").title(), i.replace("_", " ").title(), "STRING", "1"
        )
        for i in ids
    )


_REAL_DATE = re.compile(r"\b(1[89]|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")


def timeline_file_stem(event_type: str) -> str:
    """``data_timeline_<stem>.txt`` for an event type: lower case, other characters as '_'."""
    return re.sub(r"[^a-z0-9]+", "_", event_type.lower()).strip("_") or "event"


def _write_timeline(d: Path, sid: str, events: Sequence[TimelineEvent]) -> None:
    """One timeline file per event type (``data_timeline_treatment.txt``...), each with its
    meta file, as cBioPortal's public studies do; the columns after the four required ones are
    those the events of that type use.

    Timeline dates are whole days from a per-patient anchor; a value that reads as a calendar
    date (``2024-03-01``) anywhere in an event is refused, so that no real date leaves.
    """
    by_type: dict[str, list[TimelineEvent]] = {}
    for e in events:
        for k, v in e.attributes.items():
            if v is not None and _REAL_DATE.search(str(v)):
                raise ValidationError(
                    f"Timeline event {e.event_type} of patient {e.patient_id}: {k} holds a "
                    f"calendar date ({v!r}); timelines carry days from the patient's anchor only.",
                    field=k,
                )
        by_type.setdefault(e.event_type, []).append(e)
    for etype, group in by_type.items():
        stem = timeline_file_stem(etype)
        extra_cols = list(dict.fromkeys(k for e in group for k in e.attributes))
        rows: list[list[object]] = [
            [
                e.patient_id,
                e.start,
                e.stop,
                e.event_type,
                *(e.attributes.get(k) for k in extra_cols),
            ]
            for e in group
        ]
        name = f"data_timeline_{stem}.txt"
        _write_tsv(d / name, [*TIMELINE_REQUIRED, *extra_cols], rows)
        _write_meta(
            d / f"meta_timeline_{stem}.txt",
            {
                "cancer_study_identifier": sid,
                "genetic_alteration_type": "CLINICAL",
                "datatype": "TIMELINE",
                "data_filename": name,
            },
        )


def write_study(study: Study, directory: str | Path, *, complete_case_lists: bool = True) -> Path:
    """Write ``study`` as a cBioPortal study directory (created if needed); returns it.

    With ``complete_case_lists`` the case lists cBioPortal requires are added when missing:
    ``<study>_all`` (every sample, unless ``meta_study.txt`` asks the importer to add it with
    ``add_global_case_list: true``: a second list of the same id would be refused),
    ``<study>_sequenced`` when there are mutations (the samples profiled for
    mutations in the gene-panel matrix and those with mutations, else every sample),
    ``<study>_cna`` when there is copy number, ``<study>_cnaseq`` when there are both,
    ``<study>_sv`` when there are structural variants; each with its ``case_list_category``.
    Timeline events are written one file per event type (``data_timeline_treatment.txt``...).
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    sid = study.study_id
    _write_meta(d / "meta_study.txt", study.meta)

    def clinical(
        kind: str,
        attrs: tuple[ClinicalAttribute, ...],
        id_cols: tuple[str, ...],
        rows: Sequence[Sequence[object]],
    ) -> None:
        comments = [
            "#" + "\t".join(a.display_name for a in attrs),
            "#" + "\t".join(a.description for a in attrs),
            "#" + "\t".join(a.datatype for a in attrs),
            "#" + "\t".join(a.priority for a in attrs),
        ]
        name = f"data_clinical_{kind}s.txt"
        _write_tsv(d / name, [a.attr_id for a in attrs], rows, comments)
        _write_meta(
            d / f"meta_clinical_{kind}s.txt",
            {
                "cancer_study_identifier": sid,
                "genetic_alteration_type": "CLINICAL",
                "datatype": f"{kind.upper()}_ATTRIBUTES",
                "data_filename": name,
            },
        )

    s_attrs = study.sample_attributes or _default_attrs(["PATIENT_ID", "SAMPLE_ID"])
    patient_of = {s.sample_id: s.patient_id for s in study.samples}
    s_rows: list[list[object]] = []
    for s in study.samples:
        rec = study.sample_data.get(s.sample_id, {})
        row: list[object] = []
        for a in s_attrs:
            if a.attr_id == "SAMPLE_ID":
                row.append(s.sample_id)
            elif a.attr_id == "PATIENT_ID":
                row.append(patient_of[s.sample_id])
            else:
                row.append(rec.get(a.attr_id))
        s_rows.append(row)
    clinical("sample", s_attrs, ("SAMPLE_ID", "PATIENT_ID"), s_rows)
    if study.patient_attributes:
        p_attrs = study.patient_attributes
        p_rows: list[list[object]] = [
            [pid if a.attr_id == "PATIENT_ID" else rec.get(a.attr_id) for a in p_attrs]
            for pid, rec in study.patients.items()
        ]
        clinical("patient", p_attrs, ("PATIENT_ID",), p_rows)

    def profile_meta(key: str, defaults: dict[str, str]) -> dict[str, str]:
        base = dict(study.profiles.get(key, {}))
        base.update(
            {
                k: v
                for k, v in defaults.items()
                if k in {"genetic_alteration_type", "datatype", "data_filename"}
            }
        )
        for k, v in defaults.items():
            base.setdefault(k, v)
        base["cancer_study_identifier"] = sid
        return base

    if study.mutations:
        write_maf(study.mutations, d / "data_mutations.txt")
        _write_meta(
            d / "meta_mutations.txt",
            profile_meta(
                "MAF",
                {
                    "genetic_alteration_type": "MUTATION_EXTENDED",
                    "datatype": "MAF",
                    "stable_id": "mutations",
                    "show_profile_in_analysis_tab": "true",
                    "profile_name": "Mutations",
                    "profile_description": "Mutations",
                    "data_filename": "data_mutations.txt",
                },
            ),
        )
    if study.copy_numbers:
        rows: list[list[object]] = [[c.gene, c.sample_id, c.call.value] for c in study.copy_numbers]
        _write_tsv(d / "data_cna.txt", ["Hugo_Symbol", "Sample_Id", "Value"], rows)
        m = profile_meta(
            "DISCRETE_LONG" if "DISCRETE_LONG" in study.profiles else "DISCRETE",
            {
                "genetic_alteration_type": "COPY_NUMBER_ALTERATION",
                "datatype": "DISCRETE_LONG",
                "stable_id": "gistic",
                "show_profile_in_analysis_tab": "true",
                "profile_name": "Putative copy-number alterations",
                "profile_description": "Discrete copy number: -2 deep deletion .. 2 amplification",
                "data_filename": "data_cna.txt",
            },
        )
        m.pop("pd_annotations_filename", None)
        m.pop("namespaces", None)
        _write_meta(d / "meta_cna.txt", m)
    if study.structural_variants:
        header = [
            "Sample_Id",
            "Site1_Hugo_Symbol",
            "Site1_Ensembl_Transcript_Id",
            "Site1_Region",
            "Site1_Region_Number",
            "Site1_Chromosome",
            "Site1_Position",
            "Site2_Hugo_Symbol",
            "Site2_Ensembl_Transcript_Id",
            "Site2_Region",
            "Site2_Region_Number",
            "Site2_Chromosome",
            "Site2_Position",
            "Site2_Effect_On_Frame",
            "NCBI_Build",
            "DNA_Support",
            "RNA_Support",
            "Event_Info",
            "Class",
            "SV_Status",
        ]
        yes = {True: "yes", False: "no", None: None}
        frame = {True: "IN_FRAME", False: "FRAMESHIFT", None: None}
        sv_rows: list[list[object]] = [
            [
                v.sample_id,
                v.gene1,
                v.site1_transcript,
                "EXON" if v.site1_exon is not None else None,
                v.site1_exon,
                v.chromosome1,
                v.position1,
                v.gene2,
                v.site2_transcript,
                "EXON" if v.site2_exon is not None else None,
                v.site2_exon,
                v.chromosome2,
                v.position2,
                frame[v.in_frame],
                v.genome_build.value if v.genome_build else None,
                yes[v.dna_support],
                yes[v.rna_support],
                v.event_info,
                v.sv_class,
                "SOMATIC" if v.somatic else "GERMLINE",
            ]
            for v in study.structural_variants
        ]
        _write_tsv(d / "data_sv.txt", header, sv_rows)
        m = profile_meta(
            "SV",
            {
                "genetic_alteration_type": "STRUCTURAL_VARIANT",
                "datatype": "SV",
                "stable_id": "structural_variants",
                "show_profile_in_analysis_tab": "true",
                "profile_name": "Structural variants",
                "profile_description": "Structural variants and fusions",
                "data_filename": "data_sv.txt",
            },
        )
        m.pop("namespaces", None)
        _write_meta(d / "meta_sv.txt", m)
    if study.segments:
        # cBioPortal's names: data_cna_hg19.seg with meta_cna_hg19_seg.txt (hg38 likewise).
        ref = "hg38" if study.genome_build is GenomeBuild.GRCH38 else "hg19"
        name = f"data_cna_{ref}.seg"
        write_seg(study.segments, d / name)
        m = profile_meta(
            "SEG",
            {
                "genetic_alteration_type": "COPY_NUMBER_ALTERATION",
                "datatype": "SEG",
                "reference_genome_id": ref,
                "description": "Copy-number segments (mean log2 copy ratio per segment)",
                "data_filename": name,
            },
        )
        m["reference_genome_id"] = ref
        _write_meta(d / f"meta_cna_{ref}_seg.txt", m)
    _write_timeline(d, sid, study.timeline)
    for panel in study.gene_panels.values():
        (d / f"data_gene_panel_{panel.stable_id.lower()}.txt").write_text(
            f"stable_id: {panel.stable_id}\ndescription: {panel.description}\n"
            f"gene_list: {chr(9).join(panel.genes)}\n",
            encoding="utf-8",
        )
    if study.panel_matrix:
        profiles = list(dict.fromkeys(k for rec in study.panel_matrix.values() for k in rec))
        rows = [
            [s, *(rec.get(p) or "NA" for p in profiles)] for s, rec in study.panel_matrix.items()
        ]
        _write_tsv(d / "data_gene_panel_matrix.txt", ["SAMPLE_ID", *profiles], rows)
        _write_meta(
            d / "meta_gene_panel_matrix.txt",
            {
                "cancer_study_identifier": sid,
                "genetic_alteration_type": "GENE_PANEL_MATRIX",
                "datatype": "GENE_PANEL_MATRIX",
                "data_filename": "data_gene_panel_matrix.txt",
            },
        )
    case_lists = list(study.case_lists)
    if complete_case_lists:
        case_lists.extend(_required_case_lists(study))
    if case_lists:
        cl_dir = d / "case_lists"
        cl_dir.mkdir(exist_ok=True)
        for cl in case_lists:
            items = {
                "cancer_study_identifier": sid,
                "stable_id": cl.stable_id,
                "case_list_name": cl.name,
                "case_list_description": cl.description,
                "case_list_ids": "\t".join(cl.sample_ids),
            }
            if cl.category:
                items["case_list_category"] = cl.category
            _write_meta(cl_dir / f"cases_{cl.stable_id.removeprefix(sid + '_')}.txt", items)
    return d


def _required_case_lists(study: Study) -> list[CaseList]:
    sid = study.study_id
    have = {cl.stable_id for cl in study.case_lists}
    every = tuple(s.sample_id for s in study.samples)
    out: list[CaseList] = []
    # The study's "all samples" list: cBioPortal's validator wants it written out, or
    # add_global_case_list: true in meta_study.txt (the importer then adds it).
    global_list = study.meta.get("add_global_case_list", "").strip().lower() == "true"
    if f"{sid}_all" not in have and not global_list:
        out.append(
            CaseList(
                f"{sid}_all",
                "All samples",
                "All samples of the study.",
                every,
                "all_cases_in_study",
            )
        )
    # Per-type lists with cBioPortal's categories (validateData.py VALID_CATEGORIES); each
    # holds the samples profiled for that data type and never one without data in the study.
    with_mutations = {m.sample_id for m in study.mutations}
    if study.panel_matrix:
        on_panel = {s for s, rec in study.panel_matrix.items() if rec.get("mutations") is not None}
        sequenced = tuple(s for s in every if s in on_panel or s in with_mutations)
    else:
        sequenced = every
    if study.mutations and f"{sid}_sequenced" not in have:
        out.append(
            CaseList(
                f"{sid}_sequenced",
                "Samples profiled for mutations",
                "Samples profiled for mutations.",
                sequenced,
                "all_cases_with_mutation_data",
            )
        )
    cna_samples = {c.sample_id for c in study.copy_numbers}
    with_cna = tuple(s for s in every if s in cna_samples)
    if study.copy_numbers and f"{sid}_cna" not in have:
        out.append(
            CaseList(
                f"{sid}_cna",
                "Samples profiled for CNAs",
                "Samples profiled for copy-number alterations.",
                with_cna,
                "all_cases_with_cna_data",
            )
        )
    if study.mutations and study.copy_numbers and f"{sid}_cnaseq" not in have:
        listed = next(
            (cl.sample_ids for cl in study.case_lists if cl.stable_id == f"{sid}_sequenced"),
            sequenced,
        )
        out.append(
            CaseList(
                f"{sid}_cnaseq",
                "Samples profiled for mutations and CNAs",
                "Samples profiled for mutations and copy-number alterations.",
                tuple(s for s in listed if s in cna_samples),
                "all_cases_with_mutation_and_cna_data",
            )
        )
    # The validator does not require ``_sv``: it is added to studies built here (no lists of
    # their own), and a study read from disk keeps the lists it came with.
    sv_samples = {v.sample_id for v in study.structural_variants}
    if study.structural_variants and not study.case_lists:
        out.append(
            CaseList(
                f"{sid}_sv",
                "Samples profiled for structural variants",
                "Samples profiled for structural variants and fusions.",
                tuple(s for s in every if s in sv_samples),
                "all_cases_with_sv_data",
            )
        )
    return out


def count_values(study: Study, attribute: str, *, patients: bool = True) -> Counter[str | None]:
    """Counts of one clinical attribute's raw values (None for blank)."""
    table = study.patients if patients else study.sample_data
    return Counter(rec.get(attribute) for rec in table.values())


__all__ += ["GenomicFileError", "count_values"]
