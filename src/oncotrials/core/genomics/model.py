"""The variant model: samples and the four kinds of alteration a report holds.

Every class is a frozen dataclass over plain values, so results can be compared, hashed (except
where a mapping of free attributes is carried) and serialised with ``dataclasses.asdict``.
Genes are official HGNC symbols after :func:`oncotrials.core.genomics.genes.normalise_gene`;
protein changes are one-letter HGVS (``p.G12C``) after
:func:`oncotrials.core.genomics.protein.normalise_protein_change`, with the raw text kept.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from oncotrials.core.errors import ValidationError

__all__ = [
    "Alteration",
    "Biomarker",
    "BiomarkerKind",
    "CnaCall",
    "CopyNumber",
    "GenomeBuild",
    "GenomicReport",
    "Mutation",
    "Oncogenicity",
    "Origin",
    "Sample",
    "SampleKind",
    "Segment",
    "StructuralVariant",
    "Timepoint",
    "VariantClass",
    "below_limit_of_detection",
    "exon_problem",
    "fusion_label",
    "parse_limit_of_detection",
    "segment_loh",
]

#: Most exons of any human gene (TTN has 363): a larger exon number is a typing error.
MAX_EXON = 400


class VariantClass(enum.StrEnum):
    """MAF ``Variant_Classification`` values accepted by cBioPortal (case as in the spec)."""

    FRAME_SHIFT_DEL = "Frame_Shift_Del"
    FRAME_SHIFT_INS = "Frame_Shift_Ins"
    IN_FRAME_DEL = "In_Frame_Del"
    IN_FRAME_INS = "In_Frame_Ins"
    MISSENSE = "Missense_Mutation"
    NONSENSE = "Nonsense_Mutation"
    SPLICE_SITE = "Splice_Site"
    TRANSLATION_START_SITE = "Translation_Start_Site"
    NONSTOP = "Nonstop_Mutation"
    TARGETED_REGION = "Targeted_Region"
    DE_NOVO_START_IN_FRAME = "De_novo_Start_InFrame"
    DE_NOVO_START_OUT_OF_FRAME = "De_novo_Start_OutOfFrame"
    SILENT = "Silent"
    INTRON = "Intron"
    UTR3 = "3'UTR"
    FLANK3 = "3'Flank"
    UTR5 = "5'UTR"
    FLANK5 = "5'Flank"
    IGR = "IGR"
    RNA = "RNA"
    SPLICE_REGION = "Splice_Region"
    FUSION = "Fusion"
    UNKNOWN = "Unknown"

    @property
    def is_protein_altering(self) -> bool:
        """False for the classes cBioPortal skips on import and maftools counts as silent."""
        return self not in _NON_PROTEIN_ALTERING


_NON_PROTEIN_ALTERING = frozenset(
    {
        VariantClass.SILENT,
        VariantClass.INTRON,
        VariantClass.UTR3,
        VariantClass.FLANK3,
        VariantClass.UTR5,
        VariantClass.FLANK5,
        VariantClass.IGR,
        VariantClass.RNA,
        VariantClass.SPLICE_REGION,
    }
)


class CnaCall(int, enum.Enum):
    """GISTIC-style discrete copy-number call (cBioPortal DISCRETE / DISCRETE_LONG)."""

    DEEP_DELETION = -2
    SHALLOW_DELETION = -1
    NEUTRAL = 0
    GAIN = 1
    AMPLIFICATION = 2


class Origin(enum.StrEnum):
    """Where a variant comes from: acquired by the tumour, inherited, or not said."""

    SOMATIC = "somatic"
    GERMLINE = "germline"
    UNKNOWN = "unknown"


#: MAF ``Mutation_Status`` values (GDC MAF specification; ``Wildtype`` from cBioPortal) and the
#: origin each gives. ``LOH`` is a germline heterozygous variant whose other allele the tumour
#: lost: inherited, so germline. The other values say nothing of the origin. The raw value is
#: kept beside the origin.
MUTATION_STATUSES: dict[str, Origin] = {
    "Somatic": Origin.SOMATIC,
    "Germline": Origin.GERMLINE,
    "LOH": Origin.GERMLINE,
    "Post-transcriptional modification": Origin.UNKNOWN,
    "Unknown": Origin.UNKNOWN,
    "None": Origin.UNKNOWN,
    "Wildtype": Origin.UNKNOWN,
}

#: Spellings met in real files that the importers map to the specification's, with a warning.
#: Any other spelling outside the vocabulary is refused.
MUTATION_STATUS_ALIASES: dict[str, str] = {
    "SOMATIC": "Somatic",
    "somatic": "Somatic",
    "GERMLINE": "Germline",
    "germline": "Germline",
}


def origin_of(mutation_status: str | None) -> Origin:
    """The origin a ``Mutation_Status`` value (already in the vocabulary) gives."""
    if not mutation_status:
        return Origin.UNKNOWN
    return MUTATION_STATUSES.get(mutation_status, Origin.UNKNOWN)


class Oncogenicity(enum.StrEnum):
    """OncoKB's oncogenicity classes (the ``ONCOGENIC`` column of its MAF annotator) and VUS.

    Values are stored as these slugs; :attr:`label` is OncoKB's spelling.
    """

    ONCOGENIC = "oncogenic"
    LIKELY_ONCOGENIC = "likely_oncogenic"
    VUS = "vus"
    LIKELY_NEUTRAL = "likely_neutral"
    INCONCLUSIVE = "inconclusive"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _ONCOGENICITY_LABELS[self]

    @classmethod
    def from_label(cls, text: str) -> Oncogenicity | None:
        """The class OncoKB spells ``text`` exactly (``Likely Oncogenic``), else None."""
        return _ONCOGENICITY_BY_LABEL.get(text)


_ONCOGENICITY_LABELS = {
    Oncogenicity.ONCOGENIC: "Oncogenic",
    Oncogenicity.LIKELY_ONCOGENIC: "Likely Oncogenic",
    Oncogenicity.VUS: "VUS",
    Oncogenicity.LIKELY_NEUTRAL: "Likely Neutral",
    Oncogenicity.INCONCLUSIVE: "Inconclusive",
    Oncogenicity.UNKNOWN: "Unknown",
}
_ONCOGENICITY_BY_LABEL = {v: k for k, v in _ONCOGENICITY_LABELS.items()}

#: Spellings written by older OncoKB annotator releases and by hand, mapped with a warning.
ONCOGENICITY_ALIASES: dict[str, Oncogenicity] = {
    "Likely oncogenic": Oncogenicity.LIKELY_ONCOGENIC,
    "Likely neutral": Oncogenicity.LIKELY_NEUTRAL,
    "Predicted Oncogenic": Oncogenicity.LIKELY_ONCOGENIC,
}


class SampleKind(enum.StrEnum):
    TISSUE = "tissue"
    CFDNA = "cfdna"
    BLOOD = "blood"  # germline / white blood cells
    UNKNOWN = "unknown"


class Timepoint(enum.StrEnum):
    BASELINE = "baseline"
    ON_TREATMENT = "on_treatment"
    PROGRESSION = "progression"
    UNKNOWN = "unknown"


class GenomeBuild(enum.StrEnum):
    GRCH37 = "GRCh37"
    GRCH38 = "GRCh38"

    @classmethod
    def parse(cls, text: str) -> GenomeBuild | None:
        """``37``, ``hg19``, ``b37``, ``GRCh37`` -> GRCh37 (and likewise 38); else None."""
        t = text.strip().lower()
        if t in {"37", "grch37", "hg19", "b37", "grch37-lite", "hs37d5"}:
            return cls.GRCH37
        if t in {"38", "grch38", "hg38", "b38"}:
            return cls.GRCH38
        return None


class BiomarkerKind(enum.StrEnum):
    TMB = "TMB"  # mutations per megabase
    MSI = "MSI"  # status MSI-H / MSS, optional score
    HRD = "HRD"  # score (e.g. genomic LOH) and status
    SIGNATURE = "SIGNATURE"  # mutational signature, ``name`` e.g. SBS4, value = exposure


@dataclass(frozen=True, slots=True)
class Sample:
    """A tumour sample (tissue or cfDNA) of a patient, at a point of the treatment course."""

    sample_id: str
    patient_id: str
    kind: SampleKind = SampleKind.UNKNOWN
    timepoint: Timepoint = Timepoint.UNKNOWN
    collected_on: dt.date | None = None
    tumour_fraction: float | None = None
    oncotree_code: str | None = None
    mean_depth: float | None = None  # median/mean target coverage of the assay, if reported


@dataclass(frozen=True, slots=True)
class Mutation:
    """An SNV or small indel in one sample.

    ``protein_change`` is the normalised one-letter form (``p.G12C``) or None when the row has
    none or it could not be parsed; ``protein_change_raw`` keeps what the file said.
    """

    sample_id: str
    gene: str
    variant_class: VariantClass
    protein_change: str | None = None
    protein_change_raw: str | None = None
    hgvsc: str | None = None
    chromosome: str | None = None
    start: int | None = None
    end: int | None = None
    ref: str | None = None
    alt: str | None = None
    vaf: float | None = None
    depth: int | None = None
    alt_count: int | None = None
    consequence: str | None = None
    genome_build: GenomeBuild | None = None
    normal_sample_id: str | None = None
    # MAF Mutation_Status: Somatic, Germline, LOH, ... (None when the file does not say).
    mutation_status: str | None = None
    transcript_id: str | None = None  # the transcript the protein change is given on
    oncogenicity: Oncogenicity | None = None  # None: not stated
    reported: bool | None = None  # the laboratory reported it (False: filtered); None: not said

    @property
    def origin(self) -> Origin:
        return origin_of(self.mutation_status)

    @property
    def is_germline(self) -> bool:
        return self.origin is Origin.GERMLINE

    @property
    def key(self) -> tuple[str, str]:
        """Identity of the event within a patient: gene + protein change (or locus)."""
        if self.protein_change:
            return (self.gene, self.protein_change)
        return (self.gene, f"{self.chromosome}:{self.start}{self.ref}>{self.alt}")


@dataclass(frozen=True, slots=True)
class CopyNumber:
    """A gene-level copy-number call; ``copy_number`` is the absolute estimate when reported."""

    sample_id: str
    gene: str
    call: CnaCall
    copy_number: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.gene, self.call.name.lower())


@dataclass(frozen=True, slots=True)
class StructuralVariant:
    """A structural variant or fusion; ``gene1`` is the 5' partner, ``gene2`` the 3' partner."""

    sample_id: str
    gene1: str | None
    gene2: str | None
    chromosome1: str | None = None
    position1: int | None = None
    chromosome2: str | None = None
    position2: int | None = None
    in_frame: bool | None = None
    sv_class: str | None = None  # DELETION / DUPLICATION / INSERTION / INVERSION / TRANSLOCATION
    event_info: str | None = None  # e.g. "Fusion"
    dna_support: bool | None = None
    rna_support: bool | None = None
    somatic: bool = True
    genome_build: GenomeBuild | None = None
    # Exon of each breakpoint (cBioPortal Site1/2_Region_Number) and the transcript it is on.
    site1_exon: int | None = None
    site2_exon: int | None = None
    site1_transcript: str | None = None
    site2_transcript: str | None = None

    @property
    def genes(self) -> tuple[str, ...]:
        return tuple(g for g in (self.gene1, self.gene2) if g)

    @property
    def label(self) -> str:
        """``EML4 (exon 13) :: ALK (exon 20)``; partners without exon are named alone."""
        return fusion_label(self.gene1, self.site1_exon, self.gene2, self.site2_exon)

    @property
    def key(self) -> tuple[str, str]:
        return (f"{self.gene1 or '?'}::{self.gene2 or '?'}", "fusion")


def fusion_label(gene1: str | None, exon1: int | None, gene2: str | None, exon2: int | None) -> str:
    """The partners of a fusion with their breakpoint exons: ``EML4 (exon 13) :: ALK (exon 20)``.

    Without any exon the compact form ``EML4::ALK`` is kept; an unnamed partner reads ``?``.
    """

    def side(gene: str | None, exon: int | None) -> str:
        return f"{gene or '?'} (exon {exon})" if exon is not None else gene or "?"

    if exon1 is None and exon2 is None:
        return f"{gene1 or '?'}::{gene2 or '?'}"
    return f"{side(gene1, exon1)} :: {side(gene2, exon2)}"


def exon_problem(value: object) -> str | None:
    """Why ``value`` is not a plausible exon number (None when it is one)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{value!r} is not a whole number."
    if not 1 <= value <= MAX_EXON:
        return f"exon {value} is not plausible; exons are numbered from 1 to at most {MAX_EXON}."
    return None


@dataclass(frozen=True, slots=True)
class Biomarker:
    """A genome-wide biomarker: TMB, MSI, HRD or a mutational signature."""

    sample_id: str
    kind: BiomarkerKind
    value: float | None = None
    status: str | None = None  # e.g. "MSI-H", "MSS", "TMB-H", "HRD positive"
    unit: str | None = None  # e.g. "mut/Mb"
    name: str | None = None  # signature name (SBS4) or method

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind.value, self.name or self.status or "")


@dataclass(frozen=True, slots=True)
class Segment:
    """A copy-number segment of one sample (IGV/cBioPortal SEG, optionally allele-specific).

    ``chromosome`` is ``1``..``22``, ``X`` or ``Y``; ``start``/``end`` are as the file gives
    them (``start < end``). ``log2_ratio`` is the SEG ``seg.mean``. ``total_cn``/``minor_cn``
    are the integer total and minor (lesser) allele copy numbers of allele-specific callers
    (FACETS ``tcn``/``lcn``); ``loh`` is what the file declared, if anything.
    """

    sample_id: str
    chromosome: str
    start: int
    end: int
    log2_ratio: float
    num_markers: int | None = None
    total_cn: int | None = None
    minor_cn: int | None = None
    loh: bool | None = None

    @property
    def is_loh(self) -> bool | None:
        """Loss of heterozygosity: as declared, else one allele lost (minor 0, total > 0);
        None when neither the file nor the copy numbers say."""
        return segment_loh(self.loh, self.total_cn, self.minor_cn)


def segment_loh(declared: bool | None, total_cn: int | None, minor_cn: int | None) -> bool | None:
    """The LOH rule: a declared flag wins; otherwise the minor allele is lost while some copy
    remains (``minor_cn == 0`` and ``total_cn > 0``; ``total_cn == 0`` is a homozygous
    deletion, not LOH); None when the copy numbers are not known."""
    if declared is not None:
        return declared
    if total_cn is None or minor_cn is None:
        return None
    return minor_cn == 0 and total_cn > 0


Alteration = Mutation | CopyNumber | StructuralVariant | Biomarker


@dataclass(frozen=True)
class GenomicReport:
    """One report of one sample: the assay, what it covers, and what it found."""

    report_id: str
    sample: Sample
    assay: str
    panel: str | None = None
    lab: str | None = None
    reported_on: dt.date | None = None
    version: str | None = None
    genome_build: GenomeBuild | None = None
    covered_genes: frozenset[str] | None = None  # None: whole exome/genome or not stated
    # The patient's normal (germline) sample the tumour was compared with; None: tumour-only.
    normal_sample_id: str | None = None
    # Lowest VAF (a fraction) the assay reliably detects; None when the lab did not declare it.
    limit_of_detection: float | None = None
    mutations: tuple[Mutation, ...] = ()
    copy_numbers: tuple[CopyNumber, ...] = ()
    structural_variants: tuple[StructuralVariant, ...] = ()
    biomarkers: tuple[Biomarker, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)
    segments: tuple[Segment, ...] = ()

    @property
    def alterations(self) -> tuple[Alteration, ...]:
        return (*self.mutations, *self.copy_numbers, *self.structural_variants, *self.biomarkers)


#: A declared limit of detection is a VAF fraction in (0, MAX_LOD]: 0.002 for a cfDNA panel,
#: 0.05 for a tissue panel. Above half the alleles it would be a typing error.
MAX_LOD = 0.5


def parse_limit_of_detection(value: object, *, field: str = "limit_of_detection") -> float:
    """A declared limit of detection as a VAF fraction.

    A number is a fraction (``0.002``); text may say percent explicitly (``"0.2%"``). The unit is
    never guessed: ``0.2`` is 20 %, and a bare number above :data:`MAX_LOD` is refused with the
    percent form to write instead.
    """
    text = str(value).strip() if isinstance(value, str) else None
    percent = text is not None and text.endswith("%")
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(text.rstrip("%").strip()) if text is not None else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(
            f"{field}: {value!r} is not a number; write a VAF fraction (0.002) or a percent "
            "(0.2%).",
            field=field,
        ) from None
    fraction = number / 100 if percent else number
    if not (fraction == fraction and 0 < fraction <= MAX_LOD):  # NaN fails the first test
        hint = f" (for {number:g} %, write {number:g}%)" if not percent and number > 1 else ""
        raise ValidationError(
            f"{field}: {value!r} is not a limit of detection; it is a VAF fraction above 0 and "
            f"at most {MAX_LOD:g} (50%){hint}.",
            field=field,
        )
    return fraction


def below_limit_of_detection(vaf: float | None, lod: float | None) -> bool:
    """Whether a call's VAF (a fraction) lies below the assay's declared limit of detection."""
    return vaf is not None and lod is not None and vaf < lod
