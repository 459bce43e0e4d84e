"""MAF reader: any column order, both protein-change styles, non-standard columns reported.

Columns are matched case-insensitively. Required: ``Hugo_Symbol``, ``Tumor_Sample_Barcode``,
``Variant_Classification`` (the cBioPortal validator's ``REQUIRED_HEADERS``). The protein change
is taken from the first present of ``HGVSp_Short``, ``HGVSp``, ``Protein_Change``,
``Amino_Acid_Change`` (any style, normalised to ``p.G12C``; the raw text is kept). VAF is
``t_alt_count / t_depth`` (or ``t_alt_count / (t_ref_count + t_alt_count)``), else a ``tumor_f``
/ ``VAF`` / ``tumor_vaf`` column (unit declared, or worked out: see ``_MafColumns.vaf``), else
the WashU ``i_TumorVAF_WU`` percentage.
``Mutation_Status`` (germline or somatic) and ``Transcript_ID`` are kept; a ``Mutation_Status``
outside the GDC vocabulary is an error (a few known spellings, such as ``SOMATIC``, are mapped
with a warning). OncoKB's annotator column ``ONCOGENIC`` gives each row's oncogenicity (same
rule: OncoKB's spelling, a few mapped spellings, else an error), and a ``Reported`` column
(``yes``/``no``) or a ``FILTER`` other than ``PASS`` says whether the laboratory reported it.

Columns outside the GDC/vcf2maf MAF specification and cBioPortal's documented extras are
reported as notices (``MafTable.nonstandard_columns``), never dropped silently from the report.

With ``strict=True`` the reader applies cBioPortal's stricter rules: an unparseable protein
change, a variant class that only matches case-insensitively, an HGVSp_Short longer than 255
characters, and sample ids with characters other than letters, digits, ``.``, ``_``, ``-`` are
errors instead of notices.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import polars as pl

from oncotrials.core.genomics._tabular import TextTable, load_table
from oncotrials.core.genomics.genes import (
    canonical_spelling,
    normalise_gene,
    normalise_variant_class,
    variant_class_needs_type,
)
from oncotrials.core.genomics.issues import Issue, IssueLog
from oncotrials.core.genomics.model import (
    MUTATION_STATUS_ALIASES,
    MUTATION_STATUSES,
    ONCOGENICITY_ALIASES,
    GenomeBuild,
    Mutation,
    Oncogenicity,
    VariantClass,
)
from oncotrials.core.genomics.protein import THREE_TO_ONE, normalise_protein_change

_T = TypeVar("_T")

__all__ = ["MafTable", "read_maf", "read_mutations", "write_maf"]

REQUIRED = ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification")
PROTEIN_COLUMNS = ("HGVSp_Short", "HGVSp", "Protein_Change", "Amino_Acid_Change")
SAMPLE_ID_RE = re.compile(r"^[A-Za-z0-9._-]+$")

# GDC MAF / vcf2maf output columns (the 114 of vcf2maf's test_b38_output.maf) and the extras
# cBioPortal documents for MUTATION_EXTENDED files.
STANDARD_COLUMNS = frozenset(
    c.lower()
    for c in [
        "Hugo_Symbol",
        "Entrez_Gene_Id",
        "Center",
        "NCBI_Build",
        "Chromosome",
        "Start_Position",
        "End_Position",
        "Strand",
        "Variant_Classification",
        "Variant_Type",
        "Reference_Allele",
        "Tumor_Seq_Allele1",
        "Tumor_Seq_Allele2",
        "dbSNP_RS",
        "dbSNP_Val_Status",
        "Tumor_Sample_Barcode",
        "Matched_Norm_Sample_Barcode",
        "Match_Norm_Seq_Allele1",
        "Match_Norm_Seq_Allele2",
        "Tumor_Validation_Allele1",
        "Tumor_Validation_Allele2",
        "Match_Norm_Validation_Allele1",
        "Match_Norm_Validation_Allele2",
        "Verification_Status",
        "Validation_Status",
        "Mutation_Status",
        "Sequencing_Phase",
        "Sequence_Source",
        "Validation_Method",
        "Score",
        "BAM_File",
        "Sequencer",
        "Tumor_Sample_UUID",
        "Matched_Norm_Sample_UUID",
        "HGVSc",
        "HGVSp",
        "HGVSp_Short",
        "Transcript_ID",
        "Exon_Number",
        "t_depth",
        "t_ref_count",
        "t_alt_count",
        "n_depth",
        "n_ref_count",
        "n_alt_count",
        "all_effects",
        "Allele",
        "Gene",
        "Feature",
        "Feature_type",
        "Consequence",
        "cDNA_position",
        "CDS_position",
        "Protein_position",
        "Amino_acids",
        "Codons",
        "Existing_variation",
        "ALLELE_NUM",
        "DISTANCE",
        "STRAND_VEP",
        "SYMBOL",
        "SYMBOL_SOURCE",
        "HGNC_ID",
        "BIOTYPE",
        "CANONICAL",
        "CCDS",
        "ENSP",
        "SWISSPROT",
        "TREMBL",
        "UNIPARC",
        "RefSeq",
        "SIFT",
        "PolyPhen",
        "EXON",
        "INTRON",
        "DOMAINS",
        "AF",
        "AFR_AF",
        "AMR_AF",
        "ASN_AF",
        "EAS_AF",
        "EUR_AF",
        "SAS_AF",
        "AA_AF",
        "EA_AF",
        "CLIN_SIG",
        "SOMATIC",
        "PUBMED",
        "MOTIF_NAME",
        "MOTIF_POS",
        "HIGH_INF_POS",
        "MOTIF_SCORE_CHANGE",
        "IMPACT",
        "PICK",
        "VARIANT_CLASS",
        "TSL",
        "HGVS_OFFSET",
        "PHENO",
        "MINIMISED",
        "GENE_PHENO",
        "FILTER",
        "flanking_bps",
        "vcf_id",
        "vcf_qual",
        "gnomADe_AF",
        "gnomADe_AFR_AF",
        "gnomADe_AMR_AF",
        "gnomADe_ASJ_AF",
        "gnomADe_EAS_AF",
        "gnomADe_FIN_AF",
        "gnomADe_NFE_AF",
        "gnomADe_OTH_AF",
        "gnomADe_SAS_AF",
        "vcf_pos",
        "Amino_Acid_Change",
        "cbp_driver",
        "cbp_driver_annotation",
        "cbp_driver_tiers",
        "cbp_driver_tiers_annotation",
        "End_position",
        "tumor_f",
        "ONCOGENIC",
        "Reported",
    ]
)

_INT_FIELDS = {
    "start": "Start_Position",
    "end": "End_Position",
    "depth": "t_depth",
    "alt_count": "t_alt_count",
    "ref_count": "t_ref_count",
}
_STR_FIELDS = {
    "hgvsc": "HGVSc",
    "chromosome": "Chromosome",
    "ref": "Reference_Allele",
    "alt": "Tumor_Seq_Allele2",
    "consequence": "Consequence",
    "normal_sample_id": "Matched_Norm_Sample_Barcode",
    "mutation_status": "Mutation_Status",
    "transcript_id": "Transcript_ID",
    "variant_type": "Variant_Type",
    "build": "NCBI_Build",
}
_NULLS = ["NA", "N/A", "na", "nan", "NaN", "[Not Available]", "."]

CORE_SCHEMA: dict[str, type[pl.DataType]] = {
    "line": pl.Int64,
    "sample_id": pl.String,
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
    "genome_build": pl.String,
    "normal_sample_id": pl.String,
    "mutation_status": pl.String,
    "transcript_id": pl.String,
    "oncogenicity": pl.String,
    "reported": pl.Boolean,
}


@dataclass(frozen=True)
class MafTable:
    """A MAF read into a narrow, normalised polars frame (one row per mutation).

    ``frame`` has the columns of ``CORE_SCHEMA``: ``line`` (the file line), ``sample_id``,
    ``gene``, ``variant_class`` (MAF spelling), ``protein_change`` (``p.G12C``), the raw protein
    text, positions, alleles, VAF and depths, ``genome_build``.
    """

    file: str
    frame: pl.DataFrame
    columns_used: dict[str, str]
    nonstandard_columns: tuple[str, ...]
    issues: tuple[Issue, ...]

    def __len__(self) -> int:
        return self.frame.height

    @property
    def samples(self) -> tuple[str, ...]:
        return tuple(self.frame.get_column("sample_id").unique(maintain_order=True).to_list())

    def mutations(self) -> Iterator[Mutation]:
        """Mutations one at a time, as model objects (the frame is the fast path)."""
        names = [c for c in CORE_SCHEMA if c != "line"]
        columns = [self.frame.get_column(c).to_list() for c in names]
        classes = {vc.value: vc for vc in VariantClass}
        builds: dict[str | None, GenomeBuild | None] = {b.value: b for b in GenomeBuild}
        builds[None] = None
        i_vc, i_build = names.index("variant_class"), names.index("genome_build")
        i_onc = names.index("oncogenicity")
        for values in zip(*columns, strict=True):
            row = list(values)
            row[i_vc] = classes[row[i_vc]]
            row[i_build] = builds[row[i_build]]
            row[i_onc] = Oncogenicity(row[i_onc]) if row[i_onc] is not None else None
            yield Mutation(*row)

    def to_mutations(self) -> tuple[Mutation, ...]:
        return tuple(self.mutations())

    def mutated_samples_per_gene(self, *, protein_altering_only: bool = True) -> dict[str, int]:
        """Number of distinct samples with a mutation in each gene (maftools' gene summary)."""
        f = self.frame
        if protein_altering_only:
            keep = [vc.value for vc in VariantClass if vc.is_protein_altering]
            f = f.filter(pl.col("variant_class").is_in(keep))
        counts = f.group_by("gene").agg(pl.col("sample_id").n_unique().alias("n"))
        counts = counts.sort(["n", "gene"], descending=[True, False])
        return dict(zip(counts["gene"].to_list(), counts["n"].to_list(), strict=True))

    def variant_class_counts(self) -> dict[str, int]:
        c = self.frame.get_column("variant_class").value_counts(sort=True)
        return dict(zip(c["variant_class"].to_list(), c["count"].to_list(), strict=True))


_VAF_COLUMNS = ("tumor_f", "VAF", "tumor_vaf", "i_TumorVAF_WU")
_FLAG_COLUMNS = ("ONCOGENIC", "Reported", "FILTER")
_YES = frozenset({"yes", "true", "1", "y"})
_NO = frozenset({"no", "false", "0", "n"})


def _wanted_columns(header: tuple[str, ...]) -> list[str]:
    """The columns the reader uses (case-insensitive); the rest of the file is not parsed."""
    lower = {h.lower(): h for h in header}
    names = [
        *REQUIRED,
        *_INT_FIELDS.values(),
        "End_position",
        *_STR_FIELDS.values(),
        *_VAF_COLUMNS,
        *_FLAG_COLUMNS,
    ]
    protein = next((lower[c.lower()] for c in PROTEIN_COLUMNS if c.lower() in lower), None)
    out = [lower[n.lower()] for n in names if n.lower() in lower]
    if protein:
        out.append(protein)
    return list(dict.fromkeys(out))


def _map_unique(col: pl.Series, fn: Callable[[str], _T]) -> dict[str, _T]:
    uniques = col.drop_nulls().unique().to_list()
    return {u: fn(u) for u in uniques}


class _MafColumns:
    """The reading of one MAF, one method per group of columns.

    Each method returns the expression that builds its output column(s) and declares its checks.
    Checks are evaluated together at the end (:meth:`run_checks`), in one pass over the frame;
    only a check that fails is looked at row by row, to name its lines. Notices (gene aliases,
    unparsed protein changes) are logged as they are met.
    """

    def __init__(self, table: TextTable, log: IssueLog, *, strict: bool) -> None:
        self.table = table
        self.log = log
        self.strict = strict
        self.frame = table.frame
        self.lower = {h.lower(): h for h in table.header}
        self.used: dict[str, str] = {}
        self.checks: list[tuple[pl.Expr | None, Callable[[], None]]] = []

    def col(self, name: str) -> str | None:
        """The file's spelling of a column (matched case-insensitively), if present."""
        return self.lower.get(name.lower())

    def errors_where(self, mask: pl.Expr, field: str, message: str) -> None:
        """An error on every row where ``mask`` holds (up to the log's limit)."""

        def report() -> None:
            hits = self.frame.select(pl.int_range(pl.len()).alias("_row"), mask.alias("_bad"))
            rows = hits.filter("_bad").get_column("_row").head(self.log.max_errors).to_list()
            for r in rows:
                self.log.error(self.table.line_of(r), field, message)

        self.checks.append((mask, report))

    def run_checks(self) -> None:
        """Evaluate every declared check in one pass; report the failing ones, then raise."""
        masks = [m for m, _ in self.checks if m is not None]
        frame = self.frame
        failed = iter(
            frame.select(m.any().alias(f"_{i}") for i, m in enumerate(masks)).row(0)
            if masks
            else ()
        )
        for mask, report in self.checks:
            if mask is None or next(failed):
                report()
        self.log.raise_if_errors()

    # ------------------------------------------------------------------------------ header
    def required(self) -> tuple[str, str, str]:
        """Tumor_Sample_Barcode, Hugo_Symbol, Variant_Classification as the file spells them."""
        table = self.table
        missing = [c for c in REQUIRED if c.lower() not in self.lower]
        if missing:
            raise self.log.fatal(
                table.header_line,
                missing[0],
                f"required column(s) {', '.join(missing)} missing; a MAF needs "
                f"{', '.join(REQUIRED)} (any order). Found: {', '.join(table.header[:12])}"
                + ("..." if len(table.header) > 12 else ""),
            )
        t, h, v = (
            self.col(c) for c in ("Tumor_Sample_Barcode", "Hugo_Symbol", "Variant_Classification")
        )
        assert t is not None
        assert h is not None
        assert v is not None
        return t, h, v

    def protein_column(self) -> str | None:
        """The first present protein-change column; a warning when there is none."""
        protein_col = next((self.col(c) for c in PROTEIN_COLUMNS if self.col(c)), None)
        if protein_col is None:
            self.log.warning(
                self.table.header_line,
                None,
                "no protein-change column (HGVSp_Short, HGVSp, Protein_Change or Amino_Acid_Change); protein changes will be empty.",
                code="genomic_no_protein_change_column_hgvsp",
            )
        else:
            self.used["protein_change"] = protein_col
        return protein_col

    def nonstandard(self, protein_col: str | None) -> tuple[str, ...]:
        """Columns outside the MAF specification and cBioPortal's extras, as a notice."""
        header = self.table.header
        nonstandard = tuple(h for h in header if h.lower() not in STANDARD_COLUMNS)
        nonstandard = tuple(h for h in nonstandard if h != protein_col)
        if nonstandard:
            self.log.info(
                self.table.header_line,
                None,
                f"{len(nonstandard)} non-standard column(s) kept out of the core table: "
                + ", ".join(nonstandard[:20])
                + ("..." if len(nonstandard) > 20 else ""),
            )
        return nonstandard

    # ---------------------------------------------------------------------- variant class
    def variant_class(self, v: str) -> pl.Expr:
        """Variant_Classification in the MAF spelling (see :meth:`_variant_class_maps`)."""
        vt = self.col("Variant_Type")
        by_type, vc_simple, vc_pairs = self._variant_class_maps(v, vt)
        self._variant_class_checks(v, vc_simple, vc_pairs)
        if all(raw == val for raw, val in vc_simple.items()):
            vc_expr = pl.col(v)
        else:
            vc_expr = pl.col(v).replace_strict(vc_simple, default=None, return_dtype=pl.String)
        if vc_pairs and vt:
            pair_key = pl.concat_str([pl.col(v), pl.col(vt).fill_null("")], separator="\x1f")
            vc_expr = (
                pl.when(pl.col(v).is_in(by_type))
                .then(
                    pair_key.replace_strict(
                        {f"{a}\x1f{b or ''}": val for (a, b), val in vc_pairs.items()},
                        default=None,
                        return_dtype=pl.String,
                    )
                )
                .otherwise(vc_expr)
            )
        return vc_expr

    def _variant_class_maps(
        self, v: str, vt: str | None
    ) -> tuple[list[str], dict[str, str | None], dict[tuple[str, str | None], str | None]]:
        """Each distinct value normalised once; the few spellings whose class depends on
        Variant_Type (VEP's frameshift_variant) resolved per distinct pair."""
        f = self.frame
        classes = f.get_column(v).drop_nulls().unique().to_list()
        by_type = [c for c in classes if vt and variant_class_needs_type(c)]
        vc_simple: dict[str, str | None] = {}
        for raw in classes:
            if raw not in by_type:
                got = normalise_variant_class(raw)
                vc_simple[raw] = got.value if got else None
        vc_pairs: dict[tuple[str, str | None], str | None] = {}
        if by_type and vt:
            pairs = f.filter(pl.col(v).is_in(by_type)).select(v, vt).unique()
            for raw, vtype in pairs.iter_rows():
                got = normalise_variant_class(raw, vtype)
                vc_pairs[(raw, vtype)] = got.value if got else None
        return by_type, vc_simple, vc_pairs

    def _variant_class_checks(
        self,
        v: str,
        vc_simple: dict[str, str | None],
        vc_pairs: dict[tuple[str, str | None], str | None],
    ) -> None:
        bad_vc = sorted(raw for raw, val in vc_simple.items() if val is None)
        allowed = ", ".join(vc.value for vc in VariantClass)
        for raw in bad_vc:
            canonical = canonical_spelling(raw)
            message = (
                f"variant classification {raw!r} is not in the vocabulary: the MAF "
                f"specification spells it {canonical!r} (classifications are case-sensitive)."
                if canonical
                else f"unknown variant classification {raw!r}; use one of {allowed}."
            )
            self.errors_where(pl.col(v) == raw, v, message)
        if not self.strict:
            return
        exact = {vc.value for vc in VariantClass}
        spelled = set(vc_simple.items()) | {(r, x) for (r, _), x in vc_pairs.items()}
        for raw, val in sorted(spelled, key=str):
            if val is not None and raw not in exact:
                self.errors_where(
                    pl.col(v) == raw,
                    v,
                    f"variant classification {raw!r} is not spelled as in the MAF specification "
                    f"({val!r}).",
                )

    # ------------------------------------------------------------------------------ genes
    def gene(self, h: str, known_genes: frozenset[str] | set[str] | None) -> pl.Expr:
        """Gene symbols with their aliases resolved (each resolution a notice)."""
        f = self.frame
        gene_map = _map_unique(f.get_column(h), normalise_gene)
        renamed = {a: b for a, b in gene_map.items() if a != b}
        for a, b in sorted(renamed.items()):
            n = f.filter(pl.col(h) == a).height
            self.log.info(
                None,
                h,
                "gene symbol %(a)s read as %(b)s (%(n)s row(s)).",
                code="genomic_gene_symbol_read_row_s",
                a=repr(a),
                b=repr(b),
                n=n,
            )
        if known_genes is not None:
            unknown_genes = sorted(g for g in set(gene_map.values()) if g not in known_genes)
            raw_of = {b: a for a, b in gene_map.items()}
            for g in unknown_genes[: self.log.max_errors]:
                self.errors_where(
                    pl.col(h) == raw_of[g],
                    h,
                    f"unknown gene {g!r}; use an HGNC symbol (or add the alias to "
                    "gene_aliases.csv).",
                )
        return pl.col(h).replace(renamed) if renamed else pl.col(h)

    # -------------------------------------------------------------------- protein change
    def protein_change(self, protein_col: str | None) -> tuple[pl.Expr, pl.Expr]:
        """The normalised protein change (``p.G12C``) and the raw text."""
        if not protein_col:
            return pl.lit(None, pl.String), pl.lit(None, pl.String)
        # Most values are already canonical one-letter substitutions: keep those as they are
        # (vectorised) and normalise each distinct remaining text once in Python.
        pc = pl.col(protein_col)
        canonical = (
            pc.str.contains(r"^p\.[ACDEFGHIKLMNPQRSTVWY][0-9]+[ACDEFGHIKLMNPQRSTVWY*]$")
            & (pc.str.slice(2, 1) != pc.str.slice(-1, 1))
            & ~pc.str.contains(r"^p\.M1[A-Z*]$")
        ).fill_null(False)
        self.frame = self.frame.with_columns(canonical.alias("_canonical"))
        rest = self.frame.filter(~pl.col("_canonical")).get_column(protein_col)
        pmap = _map_unique(rest, normalise_protein_change)
        self._protein_change_checks(
            protein_col, sorted(k for k, val in pmap.items() if val is None)
        )
        if pmap:
            protein_expr = (
                pl.when("_canonical")
                .then(pc)
                .otherwise(pc.replace_strict(pmap, default=None, return_dtype=pl.String))
            )
        else:
            protein_expr = pc
        return protein_expr, pl.col(protein_col)

    def _protein_change_checks(self, protein_col: str, unparsed: list[str]) -> None:
        if unparsed:
            if self.strict:
                for raw in unparsed:
                    self.errors_where(
                        pl.col(protein_col) == raw,
                        protein_col,
                        f"protein change {raw!r} is not valid HGVS protein notation.",
                    )
            else:
                self.log.warning(
                    None,
                    protein_col,
                    f"{len(unparsed)} distinct protein change(s) not recognised, kept raw: "
                    + ", ".join(repr(u) for u in unparsed[:5])
                    + ("..." if len(unparsed) > 5 else ""),
                )
        if self.strict:
            self.errors_where(
                pl.col(protein_col).str.len_chars() > 255,
                protein_col,
                "the protein change is longer than 255 characters (cBioPortal's limit).",
            )

    # --------------------------------------------------------------------------- samples
    def sample_checks(self, t: str, known_samples: frozenset[str] | set[str] | None) -> None:
        """Strict: cBioPortal's characters in sample ids; every sample known, when given."""
        if self.strict:
            self.errors_where(
                pl.col(t).is_not_null() & ~pl.col(t).str.contains(r"^[A-Za-z0-9._-]+$"),
                t,
                "sample ids may contain only letters, digits, '.', '_' and '-'.",
            )
        if known_samples is None:
            return
        unknown = pl.col(t).is_not_null() & ~pl.col(t).is_in(list(known_samples))

        def report_samples() -> None:
            rows = self.frame.select(pl.int_range(pl.len()).alias("_row"), t).filter(unknown)
            for r, s in rows.head(self.log.max_errors).iter_rows():
                self.log.error(
                    self.table.line_of(r),
                    t,
                    "sample %(s)s is not in the clinical sample file; add it there.",
                    code="genomic_sample_not_clinical_sample_file_add",
                    s=repr(s),
                )

        self.checks.append((unknown, report_samples))

    # ------------------------------------------------------------------------- integers
    def integers(self) -> dict[str, pl.Expr]:
        """Positions and read counts.

        A plain cast (kept as a column, so it is computed once), and only for a column where it
        fails, the slower reading that accepts a decimal point followed by zeros ("12.0", as
        spreadsheets write counts).
        """
        int_cols = {
            key: self.col(name) or (self.col("End_position") if key == "end" else None)
            for key, name in _INT_FIELDS.items()
        }
        present = {k: c for k, c in int_cols.items() if c is not None}
        self.frame = self.frame.with_columns(
            pl.col(c).cast(pl.Int64, strict=False).alias(f"_int_{k}") for k, c in present.items()
        )
        failing: set[str] = set()
        if present:
            probe = self.frame.select(
                (pl.col(c).is_not_null() & pl.col(f"_int_{k}").is_null()).any().alias(k)
                for k, c in present.items()
            ).row(0, named=True)
            failing = {k for k, bad in probe.items() if bad}
        ints: dict[str, pl.Expr] = {}
        for key, c in int_cols.items():
            if c is None:
                ints[key] = pl.lit(None, pl.Int64)
                continue
            self.used[key] = c
            if key not in failing:
                ints[key] = pl.col(f"_int_{key}")
                continue
            cast = pl.col(c).str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
            self.errors_where(
                pl.col(c).is_not_null() & cast.is_null(), c, "expected a whole number."
            )
            ints[key] = cast
        return ints

    def strings(self) -> dict[str, pl.Expr]:
        """The text columns taken as they are (HGVSc, chromosome, alleles, consequence...)."""
        strs: dict[str, pl.Expr] = {}
        for key, name in _STR_FIELDS.items():
            c = self.col(name)
            strs[key] = pl.col(c) if c else pl.lit(None, pl.String)
            if c:
                self.used[key] = c
        return strs

    # ------------------------------------------------------------------------------ VAF
    def vaf(self, ints: dict[str, pl.Expr], unit: str | None = None) -> tuple[pl.Expr, pl.Expr]:
        """VAF and depth: from the allele counts where a row has them, else a VAF column.

        The unit of a VAF column is declared (``unit``: ``fraction`` or ``percent``) or worked
        out: ``i_TumorVAF_WU`` is a percentage by definition; another column is a fraction
        while its values stay within [0, 1], and a percentage (with a warning) when some exceed
        1 and none exceeds 100, unless the allele counts of the same rows show a fraction. A
        percent column whose values all stay at or below 1 (a liquid biopsy) cannot be told from
        a fraction: its unit must be declared. A value outside the unit's range is an error.
        """
        if unit not in (None, "fraction", "percent"):
            raise ValueError(f"VAF unit must be 'fraction' or 'percent', not {unit!r}")
        alt_n, depth_n, ref_n = ints["alt_count"], ints["depth"], ints["ref_count"]
        depth = pl.coalesce(depth_n, alt_n + ref_n)
        from_counts = pl.when(depth > 0).then(alt_n / depth).otherwise(None)
        candidates = [from_counts]
        frac = next((self.col(c) for c in _VAF_COLUMNS[:3] if self.col(c)), None)
        pct = self.col("i_TumorVAF_WU")
        column = frac or pct
        if column is None:
            return pl.coalesce(candidates), depth
        self.used["vaf"] = column
        value = pl.col(column).cast(pl.Float64, strict=False)
        self.errors_where(
            pl.col(column).is_not_null() & value.is_null(), column, "expected a number."
        )
        if unit is None:
            unit = "percent" if column == pct else self._vaf_unit(column, value, from_counts)
        if unit == "percent":
            self.errors_where(
                (value < 0) | (value > 100),
                column,
                "a VAF in percent must lie between 0 and 100.",
            )
            value = value / 100.0
        else:
            self.errors_where(
                (value < 0) | (value > 1),
                column,
                "a VAF given as a fraction must lie between 0 and 1; if the column is in "
                "percent, declare it (VAF unit: percent).",
            )
        candidates.append(value)
        return pl.coalesce(candidates), depth

    def _vaf_unit(self, column: str, value: pl.Expr, from_counts: pl.Expr) -> str:
        """The unit of a VAF column whose unit is not declared.

        Values within [0, 1]: a fraction. Values above 1 and none above 100: percent (a
        warning says so), unless the rows that also carry allele counts show a fraction (the
        column equals alt/depth), in which case the values above 1 are errors.
        """
        stats = self.frame.select(
            value.max().alias("max"),
            (value / from_counts).filter(from_counts > 0).median().alias("ratio"),
        ).row(0, named=True)
        top, ratio = stats["max"], stats["ratio"]
        if top is None or top <= 1.0 or top > 100.0:
            return "fraction"  # above 100: the range check names every line
        if ratio is not None and 0.9 <= ratio <= 1.1:
            return "fraction"
        self.log.warning(
            None,
            column,
            (
                "VAF column %(column)s holds values up to %(top)s, none above 100: read as percent "
                "and divided by 100; the allele counts give a ratio of %(ratio)s."
                if ratio is not None
                else "VAF column %(column)s holds values up to %(top)s, none above 100: read as "
                "percent and divided by 100."
            ),
            code="genomic_vaf_percent_ratio" if ratio is not None else "genomic_vaf_percent",
            column=repr(column),
            top=format(top, "g"),
            ratio=format(ratio or 0, ".0f"),
        )
        return "percent"

    # ------------------------------------------------------------ origin and annotations
    def _vocabulary(
        self, column: str, exact: dict[str, str], aliases: dict[str, str], what: str
    ) -> pl.Expr:
        """A column whose values must be in ``exact`` (raw -> stored value).

        A spelling in ``aliases`` is mapped with a warning; any other value, case variants
        included, is an error on its lines naming the vocabulary.
        """
        mapping: dict[str, str] = {}
        for raw in self.frame.get_column(column).drop_nulls().unique().sort().to_list():
            if raw in exact:
                mapping[raw] = exact[raw]
            elif raw in aliases:
                mapping[raw] = aliases[raw]
                self.log.warning(
                    None,
                    column,
                    "%(what)s %(raw)s read as %(aliases)s (mapped spelling).",
                    code="genomic_read_mapped_spelling",
                    what=what,
                    raw=repr(raw),
                    aliases=repr(aliases[raw]),
                )
            else:
                self.errors_where(
                    pl.col(column) == raw,
                    column,
                    f"{what} {raw!r} is not in the vocabulary ({', '.join(exact)}; "
                    "values are case-sensitive).",
                )
        return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String)

    def mutation_status(self) -> pl.Expr:
        """Mutation_Status in the GDC spelling (see ``MUTATION_STATUSES``), null when absent."""
        c = self.col("Mutation_Status")
        if c is None:
            return pl.lit(None, pl.String)
        exact = {k: k for k in MUTATION_STATUSES}
        return self._vocabulary(c, exact, MUTATION_STATUS_ALIASES, "mutation status")

    def oncogenicity(self) -> pl.Expr:
        """OncoKB's ``ONCOGENIC`` column as :class:`Oncogenicity` slugs, null when absent."""
        c = self.col("ONCOGENIC")
        if c is None:
            return pl.lit(None, pl.String)
        self.used["oncogenicity"] = c
        labels = {o.label: o.label for o in Oncogenicity}
        aliases = {k: v.label for k, v in ONCOGENICITY_ALIASES.items()}
        expr = self._vocabulary(c, labels, aliases, "oncogenicity")
        slugs = {o.label: o.value for o in Oncogenicity}
        return expr.replace_strict(slugs, default=None, return_dtype=pl.String)

    def reported(self) -> pl.Expr:
        """``Reported`` (yes/no) when present, else False where ``FILTER`` is not PASS."""
        c = self.col("Reported")
        if c is not None:
            self.used["reported"] = c
            low = pl.col(c).str.strip_chars().str.to_lowercase()
            self.errors_where(
                pl.col(c).is_not_null() & ~low.is_in(sorted(_YES | _NO)),
                c,
                "expected yes or no (whether the laboratory reported the variant).",
            )
            return (
                pl.when(low.is_in(sorted(_YES)))
                .then(True)
                .when(low.is_in(sorted(_NO)))
                .then(False)
                .otherwise(None)
            )
        f = self.col("FILTER")
        if f is None:
            return pl.lit(None, pl.Boolean)
        self.used["reported"] = f
        passed = pl.col(f).is_null() | pl.col(f).is_in(["PASS", "."])
        return pl.when(passed).then(None).otherwise(False).cast(pl.Boolean)

    # --------------------------------------------------------------------- genome build
    def genome_build(self, genome_build: GenomeBuild | str | None) -> pl.Expr:
        """NCBI_Build read as GRCh37 or GRCh38: known, as expected, one per file."""
        bcol = self.col("NCBI_Build")
        if not bcol:
            return pl.lit(None, pl.String)
        builds: dict[str, str | None] = {}
        for raw in self.frame.get_column(bcol).drop_nulls().unique().to_list():
            parsed = GenomeBuild.parse(raw)
            builds[raw] = parsed.value if parsed else None
            if parsed is None:
                self.errors_where(
                    pl.col(bcol) == raw,
                    bcol,
                    f"unknown genome build {raw!r}; use GRCh37 or GRCh38.",
                )
        distinct = {b for b in builds.values() if b}
        expected = GenomeBuild(genome_build) if isinstance(genome_build, str) else genome_build
        if expected is not None:
            for raw_build, value in builds.items():
                if value and value != expected.value:
                    self.errors_where(
                        pl.col(bcol) == raw_build,
                        bcol,
                        f"genome build {raw_build!r} does not match the expected {expected.value}; "
                        "lift the file over or declare the right reference_genome.",
                    )
        elif len(distinct) > 1:
            message = f"the file mixes genome builds {sorted(distinct)}; one per file."
            self.checks.append((None, lambda: self.log.error(None, bcol, message)))
        if all(raw == val for raw, val in builds.items()):
            return pl.col(bcol)
        return pl.col(bcol).replace_strict(builds, default=None, return_dtype=pl.String)


def read_maf(
    path: str | Path,
    *,
    strict: bool = False,
    genome_build: GenomeBuild | str | None = None,
    known_samples: frozenset[str] | set[str] | None = None,
    known_genes: frozenset[str] | set[str] | None = None,
    vaf_unit: str | None = None,
) -> MafTable:
    """Read a MAF (plain or gzipped) into a :class:`MafTable`.

    Parameters
    ----------
    path
        The MAF file.
    strict
        Apply cBioPortal's stricter validation (see the module docstring).
    genome_build
        When given, every row's ``NCBI_Build`` must name this build.
    known_samples
        When given, every ``Tumor_Sample_Barcode`` must be one of these (e.g. the samples of
        the study's clinical file).
    known_genes
        When given (e.g. the HGNC symbols or a panel's genes), every gene, after alias
        resolution, must be one of these.
    vaf_unit
        ``fraction`` or ``percent``: the unit of the VAF column (``tumor_f``, ``VAF``,
        ``tumor_vaf``); None works it out (see :meth:`_MafColumns.vaf`).

    Raises
    ------
    GenomicFileError
        With file, line and field of every problem (up to 50).
    """
    p = Path(path)
    log = IssueLog.for_path(p)
    table = load_table(p, log, kind="MAF", columns=_wanted_columns, null_values=_NULLS)
    m = _MafColumns(table, log, strict=strict)
    t, h, v = m.required()
    protein_col = m.protein_column()
    nonstandard = m.nonstandard(protein_col)
    m.used.update(sample_id=t, gene=h, variant_class=v)
    m.errors_where(pl.col(t).is_null(), t, "the sample barcode is empty; every row needs one.")
    m.errors_where(pl.col(h).is_null(), h, "the gene symbol is empty.")
    m.errors_where(pl.col(v).is_null(), v, "the variant classification is empty.")
    variant_class = m.variant_class(v)
    gene = m.gene(h, known_genes)
    protein, protein_raw = m.protein_change(protein_col)
    m.sample_checks(t, known_samples)
    ints = m.integers()
    strs = m.strings()
    vaf, depth = m.vaf(ints, vaf_unit)
    status = m.mutation_status()
    oncogenicity = m.oncogenicity()
    reported = m.reported()
    build = m.genome_build(genome_build)
    m.run_checks()

    out = m.frame.select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + table.header_line + 1).alias("line"),
        pl.col(t).alias("sample_id"),
        gene.alias("gene"),
        variant_class.alias("variant_class"),
        protein.alias("protein_change"),
        protein_raw.alias("protein_change_raw"),
        strs["hgvsc"].alias("hgvsc"),
        strs["chromosome"].alias("chromosome"),
        ints["start"].alias("start"),
        ints["end"].alias("end"),
        strs["ref"].alias("ref"),
        strs["alt"].alias("alt"),
        vaf.cast(pl.Float64).alias("vaf"),
        depth.cast(pl.Int64).alias("depth"),
        ints["alt_count"].alias("alt_count"),
        strs["consequence"].alias("consequence"),
        build.alias("genome_build"),
        strs["normal_sample_id"].alias("normal_sample_id"),
        status.alias("mutation_status"),
        strs["transcript_id"].alias("transcript_id"),
        oncogenicity.alias("oncogenicity"),
        reported.cast(pl.Boolean).alias("reported"),
    )
    return MafTable(p.name, out, m.used, nonstandard, log.notices())


def read_mutations(path: str | Path, **kwargs: object) -> tuple[Mutation, ...]:
    """Shortcut: ``read_maf(path, **kwargs).to_mutations()``."""
    return read_maf(path, **kwargs).to_mutations()  # type: ignore[arg-type]


MAF_WRITE_COLUMNS = (
    ("Hugo_Symbol", "gene"),
    ("NCBI_Build", "genome_build"),
    ("Chromosome", "chromosome"),
    ("Start_Position", "start"),
    ("End_Position", "end"),
    ("Variant_Classification", "variant_class"),
    ("Reference_Allele", "ref"),
    ("Tumor_Seq_Allele2", "alt"),
    ("Tumor_Sample_Barcode", "sample_id"),
    ("Matched_Norm_Sample_Barcode", "normal_sample_id"),
    ("Mutation_Status", "mutation_status"),
    ("Transcript_ID", "transcript_id"),
    ("HGVSc", "hgvsc"),
    ("HGVSp_Short", "protein_change"),
    ("Consequence", "consequence"),
    ("t_depth", "depth"),
    ("t_alt_count", "alt_count"),
    ("tumor_f", "vaf"),
    ("ONCOGENIC", "oncogenicity"),
    ("Reported", "reported"),
    ("cbp_driver", "cbp_driver"),
    ("cbp_driver_annotation", "cbp_driver_annotation"),
)

#: cBioPortal's driver call for each stated oncogenicity (``cbp_driver``: Putative_Driver,
#: Putative_Passenger or Unknown; empty when not stated).
CBP_DRIVER = {
    Oncogenicity.ONCOGENIC: "Putative_Driver",
    Oncogenicity.LIKELY_ONCOGENIC: "Putative_Driver",
    Oncogenicity.LIKELY_NEUTRAL: "Putative_Passenger",
    Oncogenicity.VUS: "Unknown",
    Oncogenicity.INCONCLUSIVE: "Unknown",
}


def _cbp_driver(m: Mutation) -> tuple[str | None, str | None]:
    """``cbp_driver`` and its annotation (at most 80 characters) from the oncogenicity."""
    if m.oncogenicity is None or m.oncogenicity not in CBP_DRIVER:
        return None, None
    return CBP_DRIVER[m.oncogenicity], f"OncoKB oncogenicity: {m.oncogenicity.label}"


_THREE_LETTER = re.compile("(?:" + "|".join(THREE_TO_ONE) + ")")


def write_maf(mutations: tuple[Mutation, ...] | list[Mutation], path: str | Path) -> None:
    """Write mutations as a minimal cBioPortal MAF (``#version 2.4``), readable by ``read_maf``.

    The oncogenicity goes to OncoKB's ``ONCOGENIC`` column (read back) and to cBioPortal's
    ``cbp_driver`` / ``cbp_driver_annotation`` (see ``CBP_DRIVER``); the reported flag to
    ``Reported`` (yes/no), a column cBioPortal does not read; the raw ``Mutation_Status``
    (``Germline`` rows are shown as germline by cBioPortal).

    ``HGVSp_Short`` gets the source's protein text when it is one-letter style (so it re-reads
    identically), else the normalised one-letter form; a three-letter source text is therefore
    not preserved, only its normalised form.
    """
    lines = ["#version 2.4", "\t".join(c for c, _ in MAF_WRITE_COLUMNS)]
    for m in mutations:
        vals: list[str] = []
        driver, annotation = _cbp_driver(m)
        for _, attr in MAF_WRITE_COLUMNS:
            if attr in ("cbp_driver", "cbp_driver_annotation"):
                value: object = driver if attr == "cbp_driver" else annotation
                vals.append("" if value is None else str(value))
                continue
            value = getattr(m, attr)
            if attr == "protein_change" and m.protein_change_raw is not None:
                # Keep the source's text when it is one-letter style (it re-reads identically);
                # three-letter or unparseable text is replaced by the normalised form when known.
                raw = m.protein_change_raw
                if value is None or not _THREE_LETTER.search(raw):
                    value = raw
            if attr == "variant_class":
                value = m.variant_class.value
            if attr == "genome_build" and m.genome_build is not None:
                value = m.genome_build.value
            if attr == "oncogenicity" and m.oncogenicity is not None:
                value = m.oncogenicity.label
            if attr == "reported" and m.reported is not None:
                value = "yes" if m.reported else "no"
            vals.append("" if value is None else str(value))
        lines.append("\t".join(vals))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
