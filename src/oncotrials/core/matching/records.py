"""Plain input records of the matching engine: a patient's clinical facts and genomic report.

These records are deliberately small and independent of :mod:`oncotrials.core.genomics`; an
adapter can build them from that package's variant model. Strings are normalised on
construction (gene symbols upper-case, categories and copy-number calls to the vocabularies
below) so that every evaluator sees the same values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.model import MAX_EXON  # the one plausibility rule for exons

#: Variant categories of an alteration row.
CATEGORIES: tuple[str, ...] = ("mutation", "cnv", "sv")

#: Origins of an alteration row: acquired by the tumour, not stated, inherited.
ORIGINS: tuple[str, ...] = ("somatic", "unknown", "germline")

#: What a genomic criterion matches when it does not name an origin: somatic and unstated rows,
#: never a germline variant (a trial's genomic criterion is about the tumour).
DEFAULT_ORIGINS: frozenset[str] = frozenset({"somatic", "unknown"})

#: Copy-number calls, normalised (CTML labels in parentheses): ``amplification`` (High
#: Amplification), ``gain`` (Low Amplification), ``heterozygous_deletion``,
#: ``homozygous_deletion``.
CN_CALLS: tuple[str, ...] = (
    "amplification",
    "gain",
    "heterozygous_deletion",
    "homozygous_deletion",
)

#: Microsatellite status: ``high`` (MSI-H / MMR-deficient) or ``stable`` (MSS, MSI-L,
#: MMR-proficient).
MSI_STATUSES: tuple[str, ...] = ("high", "stable")

SEXES: tuple[str, ...] = ("female", "male")

#: Special fusion-partner values: any partner gene, or a breakpoint outside any gene.
INTERGENIC = "intergenic"
ANY_GENE = "any_gene"

GENE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_AMINO_ACIDS = frozenset("ACDEFGHIKLMNPQRSTVWY")


def normalise_gene(value: object, *, where: str) -> str:
    """Return an upper-case HGNC-like symbol or raise naming ``where``."""
    if not isinstance(value, str) or not GENE_RE.match(value.strip()):
        raise ValidationError(
            f"{where}: {value!r} is not a gene symbol; write an HGNC symbol such as 'KRAS'.",
            code="invalid_gene",
            where=where,
            value=repr(value),
        )
    return value.strip().upper()


def wildcard_key(protein_change: str | None) -> str | None:
    """Codon key of a single-residue substitution (``p.V600E`` -> ``P.V600``), else None.

    DFCI matchengine-V2 matches a CTML ``wildcard_protein_change`` ``V600`` with the
    case-insensitive regular expression ``^p.V600[ACDEFGHIKLMNPQRSTVWY]$``: exactly one amino
    acid after the prefix, so ``p.V600*``, ``p.V600fs`` and ``p.V6000E`` are not matched. The key
    is everything but that last residue, upper-cased, so a wildcard is an equality test.
    """
    if protein_change is None or len(protein_change) < 4:
        return None
    text = protein_change.strip()
    if text[:2].lower() != "p." or text[-1].upper() not in _AMINO_ACIDS:
        return None
    return text[:-1].upper()


@dataclass(frozen=True, slots=True)
class Alteration:
    """One alteration row of a genomic report.

    ``category`` is ``mutation``, ``cnv`` or ``sv``. For a structural variant ``gene`` is one
    partner and ``fusion_partner`` the other (a gene symbol, ``"intergenic"``, or None when not
    reported); matching accepts either orientation. ``exon`` is the row's exon: for a
    structural variant, the exon of ``gene`` at the breakpoint, and ``partner_exon`` the exon of
    the partner (``EML4 (exon 13) :: ALK (exon 20)`` is gene EML4, exon 13, partner ALK,
    partner exon 20), so an exon criterion reads the exon of the gene it names. ``classes``
    are knowledge-base classes attached by annotation (``oncogenic``, ``likely_oncogenic``,
    ``escat:IA`` ...), lower-case. ``origin`` is ``somatic``, ``germline`` or ``unknown`` (see
    ``DEFAULT_ORIGINS``).
    """

    gene: str
    category: str = "mutation"
    protein_change: str | None = None
    exon: int | None = None
    cn_call: str | None = None
    fusion_partner: str | None = None
    variant_classification: str | None = None
    classes: frozenset[str] = frozenset()
    origin: str = "unknown"
    partner_exon: int | None = None

    def __post_init__(self) -> None:
        where = f"alteration {self.gene!r}"
        if self.origin not in ORIGINS:
            raise ValidationError(
                f"{where}: origin must be one of {', '.join(ORIGINS)}; got {self.origin!r}.",
                code="matching_origin_one",
                where=str(where),
                origins=str(", ".join(ORIGINS)),
                origin=repr(self.origin),
            )
        object.__setattr__(self, "gene", normalise_gene(self.gene, where=where + " gene"))
        if self.category not in CATEGORIES:
            raise ValidationError(
                f"{where}: category must be one of {', '.join(CATEGORIES)}; got {self.category!r}.",
                code="matching_category_one",
                where=str(where),
                categories=str(", ".join(CATEGORIES)),
                category=repr(self.category),
            )
        for name in ("exon", "partner_exon"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_EXON
            ):
                raise ValidationError(
                    f"{where}: {name} must be a whole number from 1 to {MAX_EXON}; got {value!r}.",
                    code="matching_whole_number_from",
                    where=str(where),
                    name=str(name),
                    max_exon=str(MAX_EXON),
                    value=repr(value),
                )
        if self.partner_exon is not None and self.category != "sv":
            raise ValidationError(
                f"{where}: partner_exon is for structural variants only.",
                code="matching_partner_exon_structural_variants",
                where=str(where),
            )
        if self.cn_call is not None and self.cn_call not in CN_CALLS:
            raise ValidationError(
                f"{where}: cn_call must be one of {', '.join(CN_CALLS)}; got {self.cn_call!r}.",
                code="matching_cn_call_one",
                where=str(where),
                cn_calls=str(", ".join(CN_CALLS)),
                cn_call=repr(self.cn_call),
            )
        if self.fusion_partner is not None and self.fusion_partner != INTERGENIC:
            object.__setattr__(
                self,
                "fusion_partner",
                normalise_gene(self.fusion_partner, where=where + " fusion_partner"),
            )
        object.__setattr__(self, "classes", frozenset(c.lower() for c in self.classes))

    def label(self) -> str:
        """Short human label: ``KRAS p.G12C``, ``ERBB2 amplification``, ``EML4-ALK``."""
        if self.category == "sv":
            partner = self.fusion_partner or "?"
            if self.exon is None and self.partner_exon is None:
                return f"{self.gene}-{partner} fusion"
            ex = f" (exon {self.exon})" if self.exon is not None else ""
            pex = f" (exon {self.partner_exon})" if self.partner_exon is not None else ""
            return f"{self.gene}{ex}-{partner}{pex} fusion"
        if self.category == "cnv":
            return f"{self.gene} {self.cn_call or 'copy-number change'}"
        return f"{self.gene} {self.protein_change or 'mutation'}"


@dataclass(frozen=True, slots=True)
class GenomicReport:
    """A genomic report: its alteration rows and sample-level biomarkers.

    A report with no alteration is a tested-negative profile (it satisfies genomic exclusions);
    a patient without any report is untested (genomic criteria are *unknown* for them).
    ``tmb`` is mutations per megabase (None = not reported), ``msi`` is ``high``/``stable``/None,
    ``signatures`` the mutational signatures found (``apobec``, ``pole``, ``tobacco``,
    ``temozolomide``, ``uva``).
    """

    alterations: tuple[Alteration, ...] = ()
    tmb: float | None = None
    msi: str | None = None
    signatures: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.msi is not None and self.msi not in MSI_STATUSES:
            raise ValidationError(
                f"report msi must be 'high' or 'stable'; got {self.msi!r}.",
                code="matching_report_msi_high_stable",
                msi=repr(self.msi),
            )
        if self.tmb is not None and (not math.isfinite(self.tmb) or self.tmb < 0):
            raise ValidationError(
                f"report tmb must be a non-negative number; got {self.tmb!r}.",
                code="matching_report_tmb_non_negative",
                tmb=repr(self.tmb),
            )
        object.__setattr__(self, "signatures", frozenset(s.lower() for s in self.signatures))


@dataclass(frozen=True, slots=True)
class Patient:
    """Clinical facts of one patient (or sample) and the genomic report, if any.

    ``diagnosis`` is an OncoTree code; ``age`` is in years at the matching reference date (the
    caller computes it; an 18th birthday on that date is ``18.0``); ``prior_lines`` counts prior
    systemic therapy lines; ``prior_therapies`` names prior agents (lower-case; None = not
    recorded, distinct from "none"); ``labs`` maps a lab name (``creatinine_clearance``,
    ``neutrophils``, ...) to its latest value in the unit the trial criteria use.
    """

    id: str
    diagnosis: str | None = None
    age: float | None = None
    sex: str | None = None
    ecog: int | None = None
    prior_lines: int | None = None
    prior_therapies: frozenset[str] | None = None
    labs: Mapping[str, float] = field(default_factory=dict)
    deceased: bool = False
    report: GenomicReport | None = None

    def __post_init__(self) -> None:
        where = f"patient {self.id!r}"
        if not isinstance(self.id, str) or not self.id:
            raise ValidationError(
                f"patient id must be a non-empty string; got {self.id!r}.",
                code="matching_patient_id_non_empty",
                id=repr(self.id),
            )
        if self.sex is not None and self.sex not in SEXES:
            raise ValidationError(
                f"{where}: sex must be 'female' or 'male'; got {self.sex!r}.",
                code="matching_sex_female_male",
                where=str(where),
                sex=repr(self.sex),
            )
        if self.ecog is not None and not (isinstance(self.ecog, int) and 0 <= self.ecog <= 5):
            raise ValidationError(
                f"{where}: ecog must be an integer 0-5; got {self.ecog!r}.",
                code="matching_ecog_integer",
                where=str(where),
                ecog=repr(self.ecog),
            )
        if self.prior_lines is not None and not (
            isinstance(self.prior_lines, int) and self.prior_lines >= 0
        ):
            raise ValidationError(
                f"{where}: prior_lines must be a non-negative integer; got {self.prior_lines!r}.",
                code="matching_prior_lines_non_negative",
                where=str(where),
                prior_lines=repr(self.prior_lines),
            )
        if self.age is not None and (not math.isfinite(self.age) or self.age < 0):
            raise ValidationError(
                f"{where}: age must be a non-negative number; got {self.age!r}.",
                code="matching_age_non_negative_number",
                where=str(where),
                age=repr(self.age),
            )
        if self.prior_therapies is not None:
            object.__setattr__(
                self, "prior_therapies", frozenset(t.lower() for t in self.prior_therapies)
            )
        object.__setattr__(self, "labs", {str(k).lower(): float(v) for k, v in self.labs.items()})


# ---------------------------------------------------------------------------------------------
# Plain-dict readers (patients files of the CLI)


def _opt(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValidationError(
            f"{where}.{key}: expected {_kind_name(kind)}; got {value!r}.",
            code="matching_expected_kind",
            where=str(where),
            key=str(key),
            kind_name=str(_kind_name(kind)),
            value=repr(value),
        )
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def alteration_from_dict(data: Mapping[str, Any], *, where: str) -> Alteration:
    """Build an :class:`Alteration` from a JSON object; errors name ``where`` and the field."""
    if not isinstance(data, Mapping):
        raise ValidationError(
            f"{where}: an alteration must be an object; got {data!r}.",
            code="matching_alteration_object",
            where=str(where),
            data=repr(data),
        )
    known = {
        "gene",
        "category",
        "protein_change",
        "exon",
        "cn_call",
        "fusion_partner",
        "partner_exon",
        "variant_classification",
        "classes",
        "origin",
    }
    extra = sorted(set(data) - known)
    if extra:
        raise ValidationError(
            f"{where}: unknown field {extra[0]!r}; "
            f"alteration fields are {', '.join(sorted(known))}.",
            code="matching_unknown_field_alteration_fields",
            where=str(where),
            extra=repr(extra[0]),
            known=str(", ".join(sorted(known))),
        )
    classes = data.get("classes") or []
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ValidationError(
            f"{where}.classes: expected a list of strings; got {classes!r}.",
            code="matching_classes_expected_list_strings",
            where=str(where),
            classes=repr(classes),
        )
    try:
        return Alteration(
            gene=data.get("gene"),  # type: ignore[arg-type]  # validated in __post_init__
            category=data.get("category", "mutation"),
            protein_change=_opt(data, "protein_change", str, where),
            exon=_opt(data, "exon", int, where),
            cn_call=_opt(data, "cn_call", str, where),
            fusion_partner=_opt(data, "fusion_partner", str, where),
            partner_exon=_opt(data, "partner_exon", int, where),
            variant_classification=_opt(data, "variant_classification", str, where),
            classes=frozenset(classes),
            origin=data.get("origin", "unknown"),
        )
    except ValidationError as exc:
        raise ValidationError(
            f"{where}: {exc.message}",
            code="matching_alteration_located",
            where=str(where),
            detail=str(exc.message),
        ) from None


def patient_from_dict(data: Mapping[str, Any], *, where: str) -> Patient:
    """Build a :class:`Patient` from a JSON object (see docs/formats/criteria.md)."""
    if not isinstance(data, Mapping):
        raise ValidationError(
            f"{where}: a patient must be an object; got {data!r}.",
            code="matching_patient_object",
            where=str(where),
            data=repr(data),
        )
    known = {
        "id",
        "diagnosis",
        "age",
        "sex",
        "ecog",
        "prior_lines",
        "prior_therapies",
        "labs",
        "deceased",
        "report",
    }
    extra = sorted(set(data) - known)
    if extra:
        raise ValidationError(
            f"{where}: unknown field {extra[0]!r}; patient fields are {', '.join(sorted(known))}.",
            code="matching_unknown_field_patient_fields",
            where=str(where),
            extra=repr(extra[0]),
            known=str(", ".join(sorted(known))),
        )
    report = None
    raw = data.get("report")
    if raw is not None:
        if not isinstance(raw, Mapping):
            raise ValidationError(
                f"{where}.report: expected an object; got {raw!r}.",
                code="matching_report_expected_object",
                where=str(where),
                raw=repr(raw),
            )
        alts = raw.get("alterations") or []
        if not isinstance(alts, list):
            raise ValidationError(
                f"{where}.report.alterations: expected a list; got {alts!r}.",
                code="matching_report_alterations_expected_list",
                where=str(where),
                alts=repr(alts),
            )
        sigs = raw.get("signatures") or []
        if not isinstance(sigs, list):
            raise ValidationError(
                f"{where}.report.signatures: expected a list; got {sigs!r}.",
                code="matching_report_signatures_expected_list",
                where=str(where),
                sigs=repr(sigs),
            )
        tmb = _opt(raw, "tmb", (int, float), f"{where}.report")
        try:
            report = GenomicReport(
                alterations=tuple(
                    alteration_from_dict(a, where=f"{where}.report.alterations[{i}]")
                    for i, a in enumerate(alts)
                ),
                tmb=None if tmb is None else float(tmb),
                msi=_opt(raw, "msi", str, f"{where}.report"),
                signatures=frozenset(str(s) for s in sigs),
            )
        except ValidationError as exc:
            if exc.message.startswith(where):
                raise
            raise ValidationError(
                f"{where}.report: {exc.message}",
                code="matching_report_located",
                where=str(where),
                detail=str(exc.message),
            ) from None
    therapies = data.get("prior_therapies")
    if therapies is not None and (
        not isinstance(therapies, list) or not all(isinstance(t, str) for t in therapies)
    ):
        raise ValidationError(
            f"{where}.prior_therapies: expected a list of strings; got {therapies!r}.",
            code="matching_prior_therapies_expected_list",
            where=str(where),
            therapies=repr(therapies),
        )
    labs = data.get("labs") or {}
    if not isinstance(labs, Mapping) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in labs.values()
    ):
        raise ValidationError(
            f"{where}.labs: expected an object of numbers; got {labs!r}.",
            code="matching_labs_expected_object_numbers",
            where=str(where),
            labs=repr(labs),
        )
    age = _opt(data, "age", (int, float), where)
    try:
        return Patient(
            id=str(data.get("id", "")),
            diagnosis=_opt(data, "diagnosis", str, where),
            age=None if age is None else float(age),
            sex=_opt(data, "sex", str, where),
            ecog=_opt(data, "ecog", int, where),
            prior_lines=_opt(data, "prior_lines", int, where),
            prior_therapies=None if therapies is None else frozenset(therapies),
            labs=labs,
            deceased=bool(data.get("deceased", False)),
            report=report,
        )
    except ValidationError as exc:
        if exc.message.startswith(where):
            raise
        raise ValidationError(
            f"{where}: {exc.message}",
            code="matching_patient_located",
            where=str(where),
            detail=str(exc.message),
        ) from None


def patients_from_data(data: Any, *, source: str) -> list[Patient]:
    """Read a list of patients (or ``{"patients": [...]}``); ids must be unique."""
    if isinstance(data, Mapping) and "patients" in data:
        data = data["patients"]
    if not isinstance(data, Sequence) or isinstance(data, str):
        raise ValidationError(
            f"{source}: expected a list of patients (or an object with 'patients'); "
            f"got {type(data).__name__}.",
            code="matching_expected_list_patients_object",
            source=str(source),
            name=str(type(data).__name__),
        )
    out: list[Patient] = []
    seen: set[str] = set()
    for i, item in enumerate(data):
        patient = patient_from_dict(item, where=f"{source}: patients[{i}]")
        if patient.id in seen:
            raise ValidationError(
                f"{source}: patients[{i}].id {patient.id!r} is repeated; ids must be unique.",
                code="matching_patients_id_repeated_ids",
                source=str(source),
                i=str(i),
                id=repr(patient.id),
            )
        seen.add(patient.id)
        out.append(patient)
    return out


def unique_genes(patients: Iterable[Patient]) -> set[str]:
    """Every gene (and fusion partner) named in the patients' reports."""
    genes: set[str] = set()
    for p in patients:
        if p.report is None:
            continue
        for a in p.report.alterations:
            genes.add(a.gene)
            if a.fusion_partner not in (None, INTERGENIC):
                genes.add(a.fusion_partner)  # type: ignore[arg-type]
    return genes
