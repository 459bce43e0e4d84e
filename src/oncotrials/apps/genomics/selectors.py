"""Reads of the clinical-genomic database, always through the samples the caller may see
(``genomic_sample_condition``: the patient visible, and the specimen collected under no
registration or under one the caller may see).

Only current reports count (a report superseded by a newer import of the same sample and assay
is kept for the record but left out of queries).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import scope_for
from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.subjects.models import Patient, Registration
from oncotrials.apps.subjects.selectors import (
    arm_visible_to,
    patient_get_for_user,
    patients_visible_to,
    registrations_visible_to,
    treatment_ended_on,
)
from oncotrials.apps.trials.models import DoseLevel
from oncotrials.core.errors import NotFoundError, OncotrialsError, ValidationError
from oncotrials.core.genomics.actionability import Annotation, annotate
from oncotrials.core.genomics.model import (
    Alteration,
    CnaCall,
    GenomeBuild,
    VariantClass,
    below_limit_of_detection,
)
from oncotrials.core.genomics.model import (
    Biomarker as CoreBiomarker,
)
from oncotrials.core.genomics.model import (
    BiomarkerKind as CoreBiomarkerKind,
)
from oncotrials.core.genomics.model import (
    CopyNumber as CoreCopyNumber,
)
from oncotrials.core.genomics.model import (
    Mutation as CoreMutation,
)
from oncotrials.core.genomics.model import (
    Oncogenicity as CoreOncogenicity,
)
from oncotrials.core.genomics.model import (
    Sample as CoreSample,
)
from oncotrials.core.genomics.model import (
    SampleKind as CoreSampleKind,
)
from oncotrials.core.genomics.model import (
    Segment as CoreSegment,
)
from oncotrials.core.genomics.model import (
    StructuralVariant as CoreStructuralVariant,
)
from oncotrials.core.genomics.model import (
    Timepoint as CoreTimepoint,
)
from oncotrials.core.genomics.oncotree import load_oncotree
from oncotrials.core.genomics.protein import normalise_protein_change
from oncotrials.core.genomics.resistance import (
    AcquiredAlteration,
    Drug,
    ResistanceReport,
    SerialSample,
    classify_resistance,
    comparable_key,
    find_drug,
    investigational_drug,
)
from oncotrials.core.genomics.seg import normalise_chromosome

from .models import (
    Biomarker,
    CopyNumberAlteration,
    CopyNumberSegment,
    GenomicReport,
    Mutation,
    Oncogenicity,
    Origin,
    Sample,
    StructuralVariant,
    Timepoint,
)

CNA_CALLS = {
    "amplification": 2,
    "gain": 1,
    "shallow_deletion": -1,
    "deep_deletion": -2,
    "deletion": -2,
}
CALL_LABEL = {
    2: "amplification",
    1: "gain",
    0: "neutral",
    -1: "shallow deletion",
    -2: "deep deletion",
}
ALTERATION_KINDS = ("mutation", "cna", "sv")
COHORT_LIMIT = 500
PROTEIN_ALTERING = sorted(v.value for v in VariantClass if v.is_protein_altering)


# ------------------------------------------------------------------------------ visibility
# A genomic sample is the sequencing of a specimen, and a specimen may have been collected
# under a trial registration (a trial-specific biopsy): its results belong to that trial. The
# record of it is the biobank's (a sequencing run ties a specimen to the report it produced);
# the biobank, above this app, registers it here from its wiring.
CollectedUnder = Callable[[], QuerySet[Any]]
_COLLECTED_UNDER: list[CollectedUnder] = []


def collected_under_register(provider: CollectedUnder) -> None:
    """``provider()`` -> rows (a values queryset) with ``sample_id`` and ``registration_id``:
    the genomic samples whose specimen was collected under that registration."""
    if provider not in _COLLECTED_UNDER:
        _COLLECTED_UNDER.append(provider)


def _collected_outside(registrations: QuerySet[Registration]) -> list[QuerySet[Any]]:
    """Ids of the samples collected under a registration outside ``registrations``."""
    return [
        provider().exclude(registration_id__in=registrations.values("pk")).values("sample_id")
        for provider in _COLLECTED_UNDER
    ]


def genomic_sample_condition(
    user: Actor, *, patient: str = "patient", sample: str = "pk"
) -> Q | None:
    """The one rule of genomic visibility, as a condition over rows that reach a genomic sample
    (``sample``: its id, ``patient``: its patient). A sample, and everything of it (reports,
    variants, copy number, fusions, biomarkers, segments, serial pairs, runs), is visible when
    its patient is visible (``subjects.selectors.patients_visible_to``) and its specimen was
    collected under no registration or under a registration the user may see
    (``subjects.selectors.registrations_visible_to``): a member limited to trial A sees the
    patient's results, but not those of a biopsy collected for trial B. None: everything."""
    scope = scope_for(user)
    if scope.is_admin:
        return None
    cond = Q(**{f"{patient}__in": patients_visible_to(user)})
    # Site-wide memberships see every registration of the patients they see: nothing to hide.
    if scope.trial_roles:
        for hidden in _collected_outside(registrations_visible_to(user)):
            cond &= ~Q(**{f"{sample}__in": hidden})
    return cond


def genomic_samples_visible_to(user: Actor | None) -> QuerySet[Sample]:
    """Genomic samples the user may see (``genomic_sample_condition``); None: every sample (the
    command line, system jobs)."""
    cond = None if user is None else genomic_sample_condition(user)
    return Sample.objects.all() if cond is None else Sample.objects.filter(cond)


def genomic_samples_hidden_from(user: Actor) -> QuerySet[Sample]:
    """Samples of patients the user sees that ``genomic_samples_visible_to`` leaves out: what
    an explanation built on every sample (matching) must not tell. Empty, without a query,
    when nothing can be left out (an administrator, site-wide memberships only)."""
    scope = scope_for(user)
    if scope.is_admin or not scope.trial_roles:
        return Sample.objects.none()
    return Sample.objects.filter(patient__in=patients_visible_to(user)).exclude(
        pk__in=genomic_samples_visible_to(user).values("pk")
    )


def genomic_samples_within(
    *, patients: QuerySet[Patient], registrations: QuerySet[Registration]
) -> QuerySet[Sample]:
    """The same rule for an export (a data cut, a study) defined by its patients and its
    registrations instead of a user: samples of ``patients`` collected under no registration
    or under one of ``registrations``."""
    qs = Sample.objects.filter(patient__in=patients)
    for hidden in _collected_outside(registrations):
        qs = qs.exclude(pk__in=hidden)
    return qs


def sample_get_for_user(*, user: Actor, sample_id: int) -> Sample:
    s = genomic_samples_visible_to(user).filter(pk=sample_id).select_related("patient").first()
    if s is None:
        raise NotFoundError(
            gettext("No sample %(sample_id)s that you may see.") % {"sample_id": sample_id}
        )
    return s


def reports_for_user(*, user: Actor) -> QuerySet[GenomicReport]:
    cond = genomic_sample_condition(user, patient="sample__patient", sample="sample_id")
    return GenomicReport.objects.all() if cond is None else GenomicReport.objects.filter(cond)


# ---------------------------------------------------------------------------------- cohort
@dataclass(frozen=True)
class CohortQuery:
    """A cohort query; every field is optional and they combine with AND."""

    kind: str = "mutation"
    gene: str = ""
    alteration: str = ""  # protein change (p.G12C / p.Gly12Cys), CNA call, or SV partner gene
    variant_class: str = ""
    tumour: str = ""  # OncoTree code: the whole subtree (NSCLC -> LUAD, LUSC, ...)
    tier: str = ""
    timepoint: str = ""
    include_silent: bool = False  # silent, intronic, UTR... mutations (cBioPortal skips them)

    def validated(self) -> CohortQuery:
        if self.kind not in ALTERATION_KINDS:
            raise ValidationError(
                gettext("kind must be one of %(alteration_kinds)s; got %(kind)s.")
                % {"alteration_kinds": ", ".join(ALTERATION_KINDS), "kind": repr(self.kind)},
                field="kind",
            )
        if self.timepoint and self.timepoint not in Timepoint.values:
            raise ValidationError(
                gettext("timepoint must be one of %(allowed)s; got %(timepoint)s.")
                % {"allowed": ", ".join(Timepoint.values), "timepoint": repr(self.timepoint)},
                field="timepoint",
            )
        if self.variant_class and self.variant_class not in {v.value for v in VariantClass}:
            raise ValidationError(
                gettext(
                    "variant_class %(variant_class)s is not a MAF Variant_Classification (e.g. "
                    "Missense_Mutation)."
                )
                % {"variant_class": repr(self.variant_class)},
                field="variant_class",
            )
        # Unknown codes and calls are things that do not exist (404), not malformed input.
        if self.tumour and load_oncotree().resolve(self.tumour.strip().upper()) is None:
            raise NotFoundError(
                gettext("tumour %(tumour)s is not an OncoTree code (e.g. NSCLC, LUAD, BRCA).")
                % {"tumour": repr(self.tumour)},
                field="tumour",
            )
        if self.kind == "cna" and self.alteration and self.alteration.lower() not in CNA_CALLS:
            raise NotFoundError(
                gettext(
                    "for copy number, alteration must be one of %(cna_calls)s; got %(alteration)s."
                )
                % {"cna_calls": ", ".join(CNA_CALLS), "alteration": repr(self.alteration)},
                field="alteration",
            )
        return self


@dataclass
class CohortResult:
    query: CohortQuery
    rows: list[dict[str, Any]] = field(default_factory=list)
    n_alterations: int = 0
    n_samples: int = 0
    n_patients: int = 0
    truncated: bool = False


def _scoped(qs: QuerySet[Any], user: Actor) -> QuerySet[Any]:
    """Current alteration rows the user may see (rows carry their patient and sample)."""
    cond = genomic_sample_condition(user, patient="patient", sample="sample_id")
    if cond is not None:  # an administrator: no condition, no subquery
        qs = qs.filter(cond)
    return qs.filter(current=True)


def _cohort_qs(q: CohortQuery, user: Actor) -> QuerySet[Any]:
    model: Any
    if q.kind == "mutation":
        model = Mutation
        qs = model.objects.all()
        if q.gene:
            qs = qs.filter(gene=q.gene.strip().upper())
        if q.alteration:
            change = normalise_protein_change(q.alteration.strip()) or q.alteration.strip()
            qs = qs.filter(protein_change=change)
        if q.variant_class:
            qs = qs.filter(variant_class=q.variant_class)
        elif not q.include_silent:
            qs = qs.filter(variant_class__in=PROTEIN_ALTERING)
    elif q.kind == "cna":
        model = CopyNumberAlteration
        qs = model.objects.all()
        if q.gene:
            qs = qs.filter(gene=q.gene.strip().upper())
        if q.alteration:
            qs = qs.filter(call=CNA_CALLS[q.alteration.lower()])
    else:
        model = StructuralVariant
        qs = model.objects.all()
        if q.gene:
            g = q.gene.strip().upper()
            qs = qs.filter(Q(gene1=g) | Q(gene2=g))
        if q.alteration:
            g2 = q.alteration.strip().upper()
            qs = qs.filter(Q(gene1=g2) | Q(gene2=g2))
    if q.tumour:
        tree = load_oncotree()
        code = tree.resolve(q.tumour.strip().upper()) or q.tumour
        qs = qs.filter(patient__diagnosis__in=sorted(tree.subtree(code)))
    if q.tier:
        qs = qs.filter(escat_tier=q.tier)
    if q.timepoint:
        qs = qs.filter(sample__timepoint=q.timepoint)
    return _scoped(qs, user)


def _label(kind: str, row: dict[str, Any]) -> str:
    if kind == "mutation":
        return str(row["protein_change"] or row["variant_class"])
    if kind == "cna":
        return CALL_LABEL.get(row["call"], str(row["call"]))
    return f"{row['gene1'] or '?'}::{row['gene2'] or '?'}"


def cohort_query(*, user: Actor, query: CohortQuery, limit: int = COHORT_LIMIT) -> CohortResult:
    """Alterations matching ``query`` in current reports of patients the user may see."""
    q = query.validated()
    if not (q.gene or q.alteration or q.tumour or q.tier or q.variant_class):
        raise ValidationError(
            gettext("Give at least a gene, an alteration, a class, a tumour type or a tier."),
            field="gene",
        )
    qs = _cohort_qs(q, user)
    fields = {
        "mutation": ["gene", "protein_change", "variant_class", "vaf"],
        "cna": ["gene", "call"],
        "sv": ["gene1", "gene2", "in_frame"],
    }[q.kind]
    values = list(
        # In import order: the first page then needs neither a sort of every match nor a join
        # before the limit (ordering by patient made PostgreSQL merge-join the whole match).
        qs.order_by("pk").values(
            "pk",
            "patient_id",
            "patient__research_id",
            "patient__diagnosis",
            "sample_id",
            "sample__sample_id",
            "sample__timepoint",
            "sample__collected_on",
            "escat_tier",
            *fields,
        )[: limit + 1]
    )
    result = CohortResult(query=q, truncated=len(values) > limit)
    for v in values[:limit]:
        gene = v.get("gene") or v.get("gene1") or v.get("gene2") or ""
        result.rows.append(
            {
                "id": v["pk"],
                "patient_id": v["patient_id"],
                "research_id": v["patient__research_id"],
                "diagnosis": v["patient__diagnosis"],
                "sample_pk": v["sample_id"],
                "sample_id": v["sample__sample_id"],
                "timepoint": v["sample__timepoint"],
                "collected_on": v["sample__collected_on"],
                "gene": gene,
                "alteration": _label(q.kind, v),
                "variant_class": v.get("variant_class", ""),
                "vaf": v.get("vaf"),
                "tier": v["escat_tier"],
            }
        )
    if result.truncated:
        # Three counts with hashed DISTINCT beat one aggregate of COUNT(DISTINCT ...), which
        # sorts the matches twice (bench/genomics_import.py: 130 vs 260 ms for 136,000 rows).
        base = qs.order_by()
        result.n_alterations = base.count()
        result.n_samples = base.values("sample_id").distinct().count()
        result.n_patients = base.values("patient_id").distinct().count()
    else:
        result.n_alterations = len(result.rows)
        result.n_samples = len({r["sample_pk"] for r in result.rows})
        result.n_patients = len({r["patient_id"] for r in result.rows})
    return result


# ------------------------------------------------------------------------- core conversion
def _core_mutation(m: Any, sample_key: str) -> CoreMutation:
    return CoreMutation(
        sample_key,
        m.gene,
        VariantClass(m.variant_class),
        protein_change=m.protein_change or None,
        protein_change_raw=m.protein_change_raw or None,
        hgvsc=m.hgvsc or None,
        chromosome=m.chromosome or None,
        start=m.start,
        end=m.end,
        ref=m.ref or None,
        alt=m.alt or None,
        vaf=m.vaf,
        depth=m.depth,
        alt_count=m.alt_count,
        consequence=m.consequence or None,
        normal_sample_id=m.normal_sample_id or None,
        # A blood sample's unstated call is germline: said so, for the core's origin.
        mutation_status=m.mutation_status or ("Germline" if m.origin == Origin.GERMLINE else None),
        transcript_id=m.transcript_id or None,
        # 'unknown' is also the stored default: not stated, for the core and the exports.
        oncogenicity=None
        if m.oncogenicity == Oncogenicity.UNKNOWN
        else CoreOncogenicity(m.oncogenicity),
        reported=m.reported,
    )


def _core_cna(c: Any, sample_key: str) -> CoreCopyNumber:
    return CoreCopyNumber(sample_key, c.gene, CnaCall(c.call), c.copy_number)


def _core_sv(s: Any, sample_key: str) -> CoreStructuralVariant:
    return CoreStructuralVariant(
        sample_key,
        s.gene1 or None,
        s.gene2 or None,
        chromosome1=s.chromosome1 or None,
        position1=s.position1,
        chromosome2=s.chromosome2 or None,
        position2=s.position2,
        in_frame=s.in_frame,
        sv_class=s.sv_class or None,
        event_info=s.event_info or None,
        dna_support=s.dna_support,
        rna_support=s.rna_support,
        somatic=s.somatic,
        site1_exon=s.site1_exon,
        site2_exon=s.site2_exon,
        site1_transcript=s.site1_transcript or None,
        site2_transcript=s.site2_transcript or None,
    )


def _core_biomarker(b: Any, sample_key: str) -> CoreBiomarker:
    return CoreBiomarker(
        sample_key,
        CoreBiomarkerKind(b.kind),
        b.value,
        b.status or None,
        b.unit or None,
        b.name or None,
    )


def _alterations_by_report(report_ids: Iterable[int]) -> dict[int, dict[str, list[Any]]]:
    ids = list(report_ids)
    out: dict[int, dict[str, list[Any]]] = defaultdict(
        lambda: {"mutations": [], "copy_numbers": [], "structural_variants": [], "biomarkers": []}
    )
    for kind, model in (
        ("mutations", Mutation),
        ("copy_numbers", CopyNumberAlteration),
        ("structural_variants", StructuralVariant),
        ("biomarkers", Biomarker),
    ):
        # One query per kind up to 900 reports (SQLite's bound on parameters), in id order.
        for i in range(0, len(ids), 900):
            for a in model.objects.filter(report_id__in=ids[i : i + 900]).order_by("pk"):
                out[a.report_id][kind].append(a)
    return out


# ------------------------------------------------------------------------ patient timeline
ORIGINS = tuple(Origin.values)


@dataclass
class AnnotatedAlteration:
    kind: str
    label: str
    gene: str
    tier: str
    detail: str
    annotation: Annotation | None
    origin: str = Origin.UNKNOWN
    oncogenicity: str = Oncogenicity.UNKNOWN
    reported: bool | None = None

    @property
    def origin_label(self) -> str:
        return str(Origin(self.origin).label)

    @property
    def oncogenicity_label(self) -> str:
        return str(Oncogenicity(self.oncogenicity).label)


@dataclass
class TimelineSample:
    sample: Sample
    reports: list[GenomicReport]
    alterations: list[AnnotatedAlteration]
    # Covered genes without a call, per report that declares a LoD or tests cfDNA: "not
    # detected" (with the limit), never "absent".
    not_detected: list[NotDetected] = field(default_factory=list)

    @property
    def acquired(self) -> list[AnnotatedAlteration]:
        """The tumour's alterations: somatic and of unstated origin."""
        return [a for a in self.alterations if a.origin != Origin.GERMLINE]

    @property
    def germline(self) -> list[AnnotatedAlteration]:
        """Inherited variants, shown apart: they call for genetic counselling."""
        return [a for a in self.alterations if a.origin == Origin.GERMLINE]


@dataclass(frozen=True)
class NotDetected:
    report: GenomicReport
    genes: list[str]
    limit_of_detection: float | None

    @property
    def limit_percent(self) -> str:
        return "" if self.limit_of_detection is None else f"{self.limit_of_detection * 100:g}"


def _vaf_detail(vaf: float | None, lod: float | None) -> str:
    """`` · VAF 0.004 (below LoD 0.5 %)``: the fraction as stored, the flag when it applies."""
    if vaf is None:
        return ""
    text = f" · VAF {vaf:.2f}" if vaf >= 0.01 else f" · VAF {vaf:.4f}"
    if below_limit_of_detection(vaf, lod):
        assert lod is not None
        text += f" ({gettext('below LoD')} {lod * 100:g} %)"
    return text


def _uncalled(sample: Sample, report: GenomicReport, called: set[str]) -> NotDetected | None:
    """The report's covered genes without any call, when absence must read "not detected"."""
    if report.covered_genes is None:
        return None
    if report.limit_of_detection is None and sample.kind != "cfdna":
        return None
    genes = sorted(set(report.covered_genes) - called)
    return NotDetected(report, genes, report.limit_of_detection) if genes else None


def _annotated(
    core: Alteration, kind: str, label: str, gene: str, detail: str, tier: str, tumour: str
) -> AnnotatedAlteration:
    ann: Annotation | None = None
    if tumour:
        try:
            ann = annotate(core, tumour)
        except ValidationError:
            ann = None
    return AnnotatedAlteration(kind, label, gene, (ann.tier if ann else tier) or "", detail, ann)


def _mutation_row(
    m: Mutation, sample_key: str, tumour: str, lod: float | None = None
) -> AnnotatedAlteration:
    a = _annotated(
        _core_mutation(m, sample_key),
        "mutation",
        m.protein_change or m.variant_class,
        m.gene,
        f"{m.variant_class}"
        + _vaf_detail(m.vaf, lod)
        + (f" · depth {m.depth}" if m.depth is not None else "")
        + (f" · {m.transcript_id}" if m.transcript_id else ""),
        m.escat_tier,
        tumour,
    )
    a.origin, a.oncogenicity, a.reported = m.origin, m.oncogenicity, m.reported
    return a


def _check_origin(origin: str) -> str:
    if origin and origin not in ORIGINS:
        raise ValidationError(
            gettext("origin must be one of %(origins)s; got %(origin)s.")
            % {"origins": ", ".join(ORIGINS), "origin": repr(origin[:40])},
            field="origin",
        )
    return origin


def report_for_user(*, user: Actor, report_id: int) -> GenomicReport:
    """A report of a patient the user may see (404 otherwise), with its samples."""
    try:
        return (
            reports_for_user(user=user)
            .select_related("sample", "sample__patient", "normal_sample")
            .get(pk=report_id)
        )
    except GenomicReport.DoesNotExist:
        raise NotFoundError(gettext("No such genomic report.")) from None


def report_mutations(*, report: GenomicReport, origin: str = "") -> list[AnnotatedAlteration]:
    """The report's mutations, annotated, germline last; ``origin`` keeps one origin only."""
    patient = report.sample.patient
    tumour = patient.diagnosis if load_oncotree().resolve(patient.diagnosis or "") else ""
    qs = Mutation.objects.filter(report=report).order_by("pk")
    if _check_origin(origin):
        qs = qs.filter(origin=origin)
    rows = [
        _mutation_row(m, report.sample.sample_id, tumour, report.limit_of_detection) for m in qs
    ]
    rows.sort(key=lambda a: (a.origin == Origin.GERMLINE, a.tier or "Z", a.gene))
    return rows


def patient_genomic_timeline(
    *, patient: Patient, user: Actor | None, origin: str = ""
) -> list[TimelineSample]:
    """The patient's samples that ``user`` may see (None: all) in collection order, each with
    its alterations, annotated.

    ``origin`` (somatic, germline, unknown) keeps the alterations of that origin only (copy
    number and biomarkers state none: they are ``unknown``).
    """
    return patients_genomic_timelines(patients=[patient], user=user, origin=origin)[patient.pk]


def patients_genomic_timelines(
    *, patients: Sequence[Patient], user: Actor | None, origin: str = ""
) -> dict[int, list[TimelineSample]]:
    """``patient_genomic_timeline`` of several patients (patient pk -> timeline), read with the
    same six queries whatever their number (a tumour board's cases)."""
    _check_origin(origin)
    pks = list(dict.fromkeys(p.pk for p in patients))
    visible = genomic_samples_visible_to(user)
    samples: list[Sample] = []
    for i in range(0, len(pks), 900):
        samples += visible.filter(patient__in=pks[i : i + 900]).order_by(
            "collected_on", "sample_id", "pk"
        )
    # The order of the query (SQL sorts NULL dates first), across chunks.
    samples.sort(
        key=lambda s: (s.collected_on is not None, s.collected_on or dt.date.min, s.sample_id, s.pk)
    )
    sample_pks = [s.pk for s in samples]
    reports: list[GenomicReport] = []
    for i in range(0, len(sample_pks), 900):
        reports += GenomicReport.objects.filter(
            sample__in=sample_pks[i : i + 900], superseded=False
        ).order_by("imported_at", "pk")
    reports.sort(key=lambda r: (r.imported_at, r.pk))
    by_report = _alterations_by_report(r.pk for r in reports)
    samples_of: dict[int, list[Sample]] = {pk: [] for pk in pks}
    for s in samples:
        samples_of[s.patient_id].append(s)
    reports_of: dict[int, list[GenomicReport]] = defaultdict(list)
    for r in reports:
        reports_of[r.sample_id].append(r)
    out: dict[int, list[TimelineSample]] = {}
    for patient in patients:
        if patient.pk not in out:
            out[patient.pk] = _timeline(
                patient, samples_of[patient.pk], reports_of, by_report, origin
            )
    return out


def _timeline(
    patient: Patient,
    samples: list[Sample],
    reports_of: Mapping[int, list[GenomicReport]],
    by_report: Mapping[int, dict[str, list[Any]]],
    origin: str,
) -> list[TimelineSample]:
    tumour = patient.diagnosis if load_oncotree().resolve(patient.diagnosis or "") else ""
    out: list[TimelineSample] = []
    for s in samples:
        mine = reports_of.get(s.pk, [])
        alts: list[AnnotatedAlteration] = []
        uncalled: list[NotDetected] = []
        for r in mine:
            data = by_report[r.pk]
            called = {a.gene for k in ("mutations", "copy_numbers") for a in data[k]}
            called |= {g for v in data["structural_variants"] for g in (v.gene1, v.gene2) if g}
            if (nd := _uncalled(s, r, called)) is not None:
                uncalled.append(nd)
            for m in data["mutations"]:
                alts.append(_mutation_row(m, s.sample_id, tumour, r.limit_of_detection))
            for c in data["copy_numbers"]:
                alts.append(
                    _annotated(
                        _core_cna(c, s.sample_id),
                        "cna",
                        CALL_LABEL.get(c.call, str(c.call)),
                        c.gene,
                        f"CN {c.copy_number:g}" if c.copy_number is not None else "",
                        c.escat_tier,
                        tumour,
                    )
                )
            for v in data["structural_variants"]:
                sv = _annotated(
                    _core_sv(v, s.sample_id),
                    "sv",
                    v.label,
                    v.gene1 or v.gene2,
                    " · ".join(
                        x
                        for x in (
                            "in frame" if v.in_frame else (v.sv_class or ""),
                            v.site1_transcript,
                            v.site2_transcript,
                        )
                        if x
                    ),
                    v.escat_tier,
                    tumour,
                )
                if not v.somatic:  # SV_Status GERMLINE
                    sv.origin = Origin.GERMLINE
                alts.append(sv)
            for b in data["biomarkers"]:
                alts.append(
                    _annotated(
                        _core_biomarker(b, s.sample_id),
                        "biomarker",
                        b.status or (f"{b.value:g} {b.unit}" if b.value is not None else ""),
                        b.kind,
                        b.name,
                        b.escat_tier,
                        tumour,
                    )
                )
        if origin:
            alts = [a for a in alts if a.origin == origin]
        alts.sort(key=lambda a: (a.tier or "Z", a.gene))
        out.append(TimelineSample(s, mine, alts, uncalled))
    return out


# ------------------------------------------------------------------------------- oncoprint
@dataclass
class Oncoprint:
    genes: list[str]
    samples: list[dict[str, Any]]  # {"pk", "sample_id", "research_id", "timepoint"}
    cells: dict[tuple[str, int], list[str]]  # (gene, sample pk) -> classes ("missense", "amp")
    gene_counts: dict[str, int]

    def grid(self) -> list[tuple[str, int, list[list[str]]]]:
        return [
            (g, self.gene_counts[g], [self.cells.get((g, s["pk"]), []) for s in self.samples])
            for g in self.genes
        ]


def _mutation_cell(variant_class: str) -> str:
    if variant_class == "Missense_Mutation":
        return "missense"
    if variant_class in {
        "Nonsense_Mutation",
        "Frame_Shift_Del",
        "Frame_Shift_Ins",
        "Splice_Site",
        "Nonstop_Mutation",
        "Translation_Start_Site",
    }:
        return "truncating"
    if variant_class in {"In_Frame_Del", "In_Frame_Ins"}:
        return "inframe"
    return "other"


def oncoprint(
    *, user: Actor, query: CohortQuery, max_genes: int = 20, max_samples: int = 200
) -> Oncoprint:
    """Genes x samples grid of the samples a cohort query finds (their other alterations too)."""
    q = query.validated()
    sample_pks = list(
        _cohort_qs(q, user)
        .values_list("sample_id", flat=True)
        .distinct()
        .order_by("sample_id")[:max_samples]
    )
    cells: dict[tuple[str, int], list[str]] = defaultdict(list)
    # Alteration rows are reached through their (indexed) current reports.
    report_ids = list(
        GenomicReport.objects.filter(sample_id__in=sample_pks, superseded=False).values_list(
            "pk", flat=True
        )
    )
    for gene, spk, vc in _scoped(
        Mutation.objects.filter(report_id__in=report_ids), user
    ).values_list("gene", "sample_id", "variant_class"):
        cls = _mutation_cell(vc)
        if VariantClass(vc).is_protein_altering and cls not in cells[(gene, spk)]:
            cells[(gene, spk)].append(cls)
    for gene, spk, call in _scoped(
        CopyNumberAlteration.objects.filter(report_id__in=report_ids, call__in=[2, -2]), user
    ).values_list("gene", "sample_id", "call"):
        cells[(gene, spk)].append("amp" if call == 2 else "homdel")
    for g1, g2, spk in _scoped(
        StructuralVariant.objects.filter(report_id__in=report_ids), user
    ).values_list("gene1", "gene2", "sample_id"):
        for g in {g1, g2} - {""}:
            if "fusion" not in cells[(g, spk)]:
                cells[(g, spk)].append("fusion")
    counts = Counter(g for (g, _s) in cells)
    genes = [g for g, _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:max_genes]
    samples_qs = Sample.objects.filter(pk__in=sample_pks).select_related("patient")
    samples = [
        {
            "pk": s.pk,
            "sample_id": s.sample_id,
            "research_id": s.patient.research_id,
            "timepoint": s.timepoint,
        }
        for s in samples_qs
    ]

    def sort_key(s: dict[str, Any]) -> tuple[Any, ...]:
        # Mutual-exclusivity-style order: samples altered in the first gene first, and so on.
        return (*(0 if cells.get((g, s["pk"])) else 1 for g in genes), s["sample_id"])

    samples.sort(key=sort_key)
    return Oncoprint(genes, samples, dict(cells), {g: counts[g] for g in genes})


# ------------------------------------------------------------------------------ resistance
# Serial pairs. A patient's *series* is their samples that hold a current report, in time order:
# by collection date (same day: baseline, on treatment, progression); an undated sample declared
# baseline comes before every dated one, an undated progression sample after; any other undated
# sample cannot be placed in time and is left out (listed as unplaced). The *reference baseline*
# is the latest sample declared baseline that precedes every on-treatment and progression
# sample (the state the first therapy met).
#
# Two comparisons are clinically meaningful, and the series holds both for every later sample
# (every sample but one declared baseline: nothing was given to select its alterations):
# - with the sample just before it (*consecutive*): what appeared during that interval, under
#   the therapy of that interval; a drug switch between two progressions is seen only here;
# - with the reference baseline (*from baseline*): what is new since before any therapy, which a
#   missed variant in an intermediate sample (a cfDNA draw of low tumour fraction) cannot fake.
# Other pairs (an on-treatment sample against the second progression) repeat these.
#
# The therapy of a pair is, in order: the drug the caller names; else the agents of the
# patient's registrations that the caller may see, registered on or before the later sample and
# whose treatment had not ended on or before the earlier one; else the therapy recorded on the
# later sample; else the pair is not classified and says why.
#
# Attribution (the atlas): an alteration acquired in a consecutive pair is attributed to the
# drugs of that interval when the pair from the reference baseline also calls it acquired (or
# the earlier sample is that baseline, or there is none); the same driver re-detected after a
# sample that missed it is never "acquired". Every drug of a combination takes the attribution.


def _serial(
    sample: Sample, reports: list[GenomicReport], by_report: dict[int, dict[str, list[Any]]]
) -> SerialSample:
    alts: list[Alteration] = []
    covered: set[str] | None = set()
    # The least sensitive declared limit: what none of the sample's assays could have missed.
    lods = [r.limit_of_detection for r in reports if r.limit_of_detection is not None]
    for r in reports:
        d = by_report[r.pk]
        alts += [_core_mutation(m, sample.sample_id) for m in d["mutations"]]
        alts += [_core_cna(c, sample.sample_id) for c in d["copy_numbers"]]
        alts += [_core_sv(v, sample.sample_id) for v in d["structural_variants"]]
        if r.covered_genes is None:
            covered = None
        elif covered is not None:
            covered |= set(r.covered_genes)
    core = CoreSample(
        sample.sample_id,
        sample.patient.research_id,
        kind=CoreSampleKind(sample.kind),
        timepoint=CoreTimepoint(sample.timepoint),
        collected_on=sample.collected_on,
        tumour_fraction=sample.tumour_fraction,
        oncotree_code=sample.oncotree_code or sample.patient.diagnosis or None,
    )
    return SerialSample(
        core,
        tuple(alts),
        frozenset(covered) if covered is not None else None,
        limit_of_detection=max(lods) if lods else None,
    )


_TIMEPOINT_ORDER = {"baseline": 0, "unknown": 1, "on_treatment": 1, "progression": 2}
_SERIES_CHUNK = 200  # patients whose alterations are held in memory at once (atlas)


@dataclass(frozen=True)
class Therapy:
    drugs: tuple[str | Drug, ...]
    source: str


@dataclass(frozen=True)
class SerialPair:
    """Two samples of one patient compared, with the therapy received in between."""

    earlier: Sample
    later: Sample
    consecutive: bool  # ``later`` directly follows ``earlier`` in the series
    from_baseline: bool  # ``earlier`` is the reference baseline
    report: ResistanceReport | None
    error: OncotrialsError | None = None  # why the pair is not classified

    @property
    def problem(self) -> str:
        return self.error.message if self.error is not None else ""

    @property
    def drugs(self) -> tuple[str, ...]:
        return self.report.drugs if self.report is not None else ()


@dataclass
class SerialSeries:
    patient: Patient
    samples: list[Sample]  # placed in time
    baseline: Sample | None  # the reference baseline
    pairs: list[SerialPair]
    unplaced: list[Sample]  # undated samples that no timepoint places

    def headline(self) -> SerialPair | None:
        """The reference baseline against the latest progression sample (first vs last)."""
        return next(
            (
                p
                for p in reversed(self.pairs)
                if (p.from_baseline and p.later.timepoint == Timepoint.PROGRESSION)
            ),
            None,
        )

    def attributed(self) -> list[tuple[SerialPair, AcquiredAlteration]]:
        """Per consecutive classified pair, the acquired alterations attributed to its therapy
        (see the rule above)."""
        since_baseline = {
            p.later.pk: {_acquired_key(a) for a in p.report.acquired}
            for p in self.pairs
            if p.from_baseline and p.report is not None
        }
        out: list[tuple[SerialPair, AcquiredAlteration]] = []
        for p in self.pairs:
            if not p.consecutive or p.report is None:
                continue
            keep = since_baseline.get(p.later.pk)
            for a in p.report.acquired:
                if p.from_baseline or keep is None or _acquired_key(a) in keep:
                    out.append((p, a))
        return out


def _acquired_key(a: AcquiredAlteration) -> tuple[str, ...]:
    if a.alteration is None:
        return (a.mechanism.value, a.label)
    return comparable_key(a.alteration)


def _placed(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    def key(s: Sample) -> tuple[int, dt.date, int, int]:
        rank = _TIMEPOINT_ORDER.get(s.timepoint, 1)
        if s.collected_on is not None:
            return (1, s.collected_on, rank, s.pk)
        return (0 if s.timepoint == Timepoint.BASELINE else 2, dt.date.min, rank, s.pk)

    undated_elsewhere = [
        s
        for s in samples
        if s.collected_on is None and s.timepoint not in (Timepoint.BASELINE, Timepoint.PROGRESSION)
    ]
    placed = sorted((s for s in samples if s not in undated_elsewhere), key=key)
    return placed, undated_elsewhere


def _reference_baseline(series: list[Sample]) -> Sample | None:
    baseline: Sample | None = None
    for s in series:
        if s.timepoint in (Timepoint.ON_TREATMENT, Timepoint.PROGRESSION):
            break
        if s.timepoint == Timepoint.BASELINE:
            baseline = s
    return baseline


def _named_therapy(text: str, source: str, field: str) -> Therapy:
    """Catalogue drug names typed by a person (``+`` or ``;`` between agents)."""
    names = [d.strip() for d in text.replace("+", ";").split(";") if d.strip()]
    for d in names:
        try:
            find_drug(d)
        except NotFoundError as exc:  # a bad parameter here, not a missing resource
            raise ValidationError(exc.message, field=field, code="drug_unknown") from None
    return Therapy(tuple(names), source)


@dataclass(frozen=True)
class _Treated:
    """One registration's agents and dates, read once per patient."""

    registered_on: dt.date
    ended_on: dt.date | None
    drugs: tuple[tuple[str, str | Drug], ...]  # (lower-case agent, catalogue name or Drug)
    source: str
    # An agent neither in the catalogue nor described by its trial's targets: the pairs whose
    # interval this registration covers are refused with it; the others are classified.
    error: ValidationError | None = None


def _treatments(patient_ids: list[int], user: Actor | None) -> dict[int, list[_Treated]]:
    """The agents of the patients' registrations (those ``user`` may see). A registration's
    agents are those of its dose level (every agent of a combination level), else of every level
    of its cohort; an agent absent from the catalogue takes the molecular targets of its trial
    (``investigational_drug``)."""
    regs = list(
        (registrations_visible_to(user) if user is not None else Registration.objects.all())
        .filter(patient_id__in=patient_ids)
        .select_related("trial__randomisation_scheme", "cohort", "dose_level")
        .prefetch_related("status_history")
        .order_by("registered_on", "pk")
    )
    out: dict[int, list[_Treated]] = defaultdict(list)
    # A blinded arm's agents are the arm: a viewer who may not know it gets the pairs of the
    # registration's interval refused, never its agents (nor its cohort's name).
    blinded = [
        r for r in regs if user is not None and not arm_visible_to(user=user, registration=r)
    ]
    for reg in blinded:
        code = reg.trial.protocol_code
        out[reg.patient_id].append(
            _Treated(
                reg.registered_on,
                treatment_ended_on(reg),
                (),
                f"registration {code} (arm blinded)",
                ValidationError(
                    gettext(
                        "The arm of registration %(code)s is blinded to your role: its therapy "
                        "is not shown; give the drug received in between."
                    )
                    % {"code": code},
                    field="drug",
                    code="arm_blinded",
                ),
            )
        )
    regs = [r for r in regs if r not in blinded]
    agents: dict[tuple[int, int | None], set[str]] = defaultdict(set)  # level None: any
    for cohort_id, number, agent in DoseLevel.objects.filter(
        cohort_id__in={r.cohort_id for r in regs}
    ).values_list("cohort_id", "level", "agent"):
        agents[(cohort_id, number)].add(agent)
        agents[(cohort_id, None)].add(agent)
    for reg in regs:
        level = reg.dose_level.level if reg.dose_level is not None else None
        names = sorted(agents.get((reg.cohort_id, level), set()))
        if not names:
            continue
        drugs: list[tuple[str, str | Drug]] = []
        error: ValidationError | None = None
        for agent in names:
            try:
                drugs.append((agent.strip().lower(), find_drug(agent).name))
            except NotFoundError:
                try:
                    drug = investigational_drug(
                        agent.strip(), reg.trial.targets or [], f"trial {reg.trial.protocol_code}"
                    )
                except ValidationError as exc:
                    error = exc
                    continue
                drugs.append((agent.strip().lower(), drug))
        dl = f" DL{reg.dose_level.level}" if reg.dose_level is not None else ""
        out[reg.patient_id].append(
            _Treated(
                reg.registered_on,
                treatment_ended_on(reg),
                tuple(drugs),
                f"registration {reg.trial.protocol_code} {reg.cohort.name}{dl}",
                error,
            )
        )
    return out


def _pair_therapy(
    earlier: Sample, later: Sample, given: Therapy | None, treated: list[_Treated]
) -> Therapy:
    if given is not None:
        return given
    drugs: dict[str, str | Drug] = {}
    sources: list[str] = []
    for t in treated:
        if later.collected_on is not None and t.registered_on > later.collected_on:
            continue
        if (
            earlier.collected_on is not None
            and t.ended_on is not None
            and t.ended_on <= earlier.collected_on
        ):
            continue
        if t.error is not None:
            raise t.error
        for key, d in t.drugs:
            drugs.setdefault(key, d)
        sources.append(t.source)
    if drugs:
        return Therapy(tuple(drugs.values()), "; ".join(sources))
    if later.therapy.strip():
        return _named_therapy(later.therapy, f"sample {later.sample_id} therapy", "therapy")
    raise ValidationError(
        gettext(
            "No therapy is known for patient %(research_id)s between samples %(earlier)s "
            "and %(later)s: no trial registration before sample %(later)s "
            "still treating after sample %(earlier)s, and no therapy recorded on "
            "%(later)s; give the drug received in between."
        )
        % {
            "research_id": later.patient.research_id,
            "earlier": earlier.sample_id,
            "later": later.sample_id,
        },
        field="drug",
    )


def _build_series(
    patients: list[Patient], user: Actor | None, given: Therapy | None
) -> list[SerialSeries]:
    ids = [p.pk for p in patients]
    reports = list(
        GenomicReport.objects.filter(
            sample__in=genomic_samples_visible_to(user).filter(patient_id__in=ids),
            superseded=False,
        )
        .select_related("sample__patient")
        .order_by("imported_at", "pk")
    )
    by_report = _alterations_by_report(r.pk for r in reports)
    samples: dict[int, dict[int, Sample]] = defaultdict(dict)
    reports_of: dict[int, list[GenomicReport]] = defaultdict(list)
    for r in reports:
        samples[r.sample.patient_id][r.sample_id] = r.sample
        reports_of[r.sample_id].append(r)
    treated = _treatments(ids, user)
    out: list[SerialSeries] = []
    for patient in patients:
        series, unplaced = _placed(list(samples[patient.pk].values()))
        baseline = _reference_baseline(series)
        cores = {s.pk: _serial(s, reports_of[s.pk], by_report) for s in series}
        pairs: list[SerialPair] = []
        for i, later in enumerate(series[1:], start=1):
            if later.timepoint == Timepoint.BASELINE:
                continue
            before = series[i - 1]
            wanted = [(before, True, before is baseline)]
            if baseline is not None and baseline is not before and series.index(baseline) < i:
                wanted.append((baseline, False, True))
            for earlier, consecutive, from_baseline in wanted:
                try:
                    therapy = _pair_therapy(earlier, later, given, treated.get(patient.pk, []))
                    report: ResistanceReport | None = classify_resistance(
                        cores[earlier.pk],
                        cores[later.pk],
                        list(therapy.drugs),
                        therapy_source=therapy.source,
                    )
                    error: OncotrialsError | None = None
                except OncotrialsError as exc:
                    report, error = None, exc
                pairs.append(SerialPair(earlier, later, consecutive, from_baseline, report, error))
        out.append(SerialSeries(patient, series, baseline, pairs, unplaced))
    return out


def serial_pairs(*, patient: Patient, user: Actor | None, drug: str = "") -> SerialSeries:
    """Every clinically meaningful pair of the patient's reported samples, each classified under
    the therapy received in between (see the rules above). ``user``: whose samples
    (``genomic_samples_visible_to``) and registrations give the pairs and the therapy (None:
    all, for the command line). ``drug``: a named therapy for
    every pair; an unknown drug is refused (field ``drug``)."""
    given = _named_therapy(drug, "given", "drug") if drug.strip() else None
    return _build_series([patient], user, given)[0]


def resistance_for_patient(
    *, patient: Patient, drug: str = "", user: Actor | None = None
) -> ResistanceReport | None:
    """The reference baseline against the latest progression sample (``SerialSeries.headline``);
    None without such a pair, the pair's refusal raised when it could not be classified."""
    pair = serial_pairs(patient=patient, user=user, drug=drug).headline()
    if pair is None:
        return None
    if pair.error is not None:
        raise pair.error
    return pair.report


CASE_LINK_PROVIDERS: list[Callable[[Actor, list[int]], dict[int, tuple[str, str]]]] = []


def case_link_provider_register(
    provider: Callable[[Actor, list[int]], dict[int, tuple[str, str]]],
) -> None:
    """``provider(user, patient_pks)`` -> {patient pk: (label, url)} of a page that discusses the
    patient (the tumour board registers its latest case the user may see)."""
    if provider not in CASE_LINK_PROVIDERS:
        CASE_LINK_PROVIDERS.append(provider)


@dataclass(frozen=True)
class AtlasPatient:
    patient: Patient
    case_label: str = ""  # the page that discusses the patient (a tumour-board case), if any
    case_url: str = ""


@dataclass
class AtlasRow:
    drug: str
    mechanism: str
    gene: str
    patients: list[AtlasPatient]


@dataclass
class Atlas:
    counts: dict[tuple[str, str], int]  # (mechanism, gene) -> patients, whatever the drug
    by_drug: list[AtlasRow]  # per drug, mechanism and gene: the patients, each once
    series: list[SerialSeries]
    skipped: list[str]
    patients: dict[int, AtlasPatient] = field(default_factory=dict)  # by patient pk

    @property
    def listing(self) -> list[tuple[AtlasPatient, SerialSeries]]:
        return [(self.patients[s.patient.pk], s) for s in self.series]

    @property
    def reports(self) -> list[ResistanceReport]:
        """The consecutive pairs classified (the intervals the atlas counts)."""
        return [p.report for s in self.series for p in s.pairs if p.consecutive and p.report]


def resistance_atlas_for_user(*, user: Actor, drug: str = "", tumour: str = "") -> Atlas:
    """Acquired-resistance mechanisms across the patients the user may see, per drug.

    Every interval (consecutive pair) is classified under its own therapy; an alteration is
    attributed to the drugs of the interval where it appeared (``SerialSeries.attributed``).
    A patient counts once per drug, mechanism and gene, whatever the number of pairs, samples
    or variants. ``drug`` keeps the intervals whose therapy includes that drug.
    """
    visible = patients_visible_to(user)
    if tumour:
        tree = load_oncotree()
        code = tree.resolve(tumour.strip().upper())
        if code is None:
            raise NotFoundError(
                gettext("tumour %(tumour)s is not an OncoTree code.") % {"tumour": repr(tumour)},
                field="tumour",
            )
        visible = visible.filter(diagnosis__in=sorted(tree.subtree(code)))
    wanted = ""
    if drug.strip():
        try:
            wanted = find_drug(drug).name.lower()
        except NotFoundError:
            wanted = drug.strip().lower()
    with_samples = visible.filter(
        pk__in=reports_for_user(user=user).filter(superseded=False).values("sample__patient_id")
    ).order_by("research_id", "pk")
    patients = list(with_samples)
    all_series: list[SerialSeries] = []
    for start in range(0, len(patients), _SERIES_CHUNK):
        all_series += _build_series(patients[start : start + _SERIES_CHUNK], user, None)
    kept: list[SerialSeries] = []
    skipped: list[str] = []
    by_key: dict[tuple[str, str, str], dict[int, Patient]] = defaultdict(dict)
    by_gene: dict[tuple[str, str], set[int]] = defaultdict(set)
    for series in all_series:
        pairs = [
            p
            for p in series.pairs
            if not wanted or p.report is None or wanted in {d.lower() for d in p.drugs}
        ]
        skipped += [
            f"{series.patient.research_id} {p.earlier.sample_id} → {p.later.sample_id}: {p.problem}"
            for p in pairs
            if p.consecutive and p.error is not None
        ]
        if not any(p.consecutive and p.report is not None for p in pairs):
            continue
        series = SerialSeries(
            series.patient, series.samples, series.baseline, pairs, series.unplaced
        )
        kept.append(series)
        for pair, acquired in series.attributed():
            drugs = [d for d in pair.drugs if not wanted or d.lower() == wanted]
            for d in drugs:
                key = (d, acquired.mechanism.value, acquired.gene)
                by_key[key][series.patient.pk] = series.patient
            if drugs:
                by_gene[(acquired.mechanism.value, acquired.gene)].add(series.patient.pk)
    links: dict[int, tuple[str, str]] = {}
    for provider in CASE_LINK_PROVIDERS:
        for pk, link in provider(user, sorted({s.patient.pk for s in kept})).items():
            links.setdefault(pk, link)
    entries = {
        s.patient.pk: AtlasPatient(s.patient, *links.get(s.patient.pk, ("", ""))) for s in kept
    }
    rows = [
        AtlasRow(d, m, g, [entries[pk] for pk in sorted(ps, key=lambda pk: ps[pk].research_id)])
        for (d, m, g), ps in by_key.items()
    ]
    rows.sort(key=lambda r: (r.drug.lower(), -len(r.patients), r.mechanism, r.gene))
    counts = {k: len(v) for k, v in by_gene.items()}
    counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return Atlas(counts, rows, kept, skipped, entries)


def patient_for_genomics(*, user: Actor, patient_id: int) -> Patient:
    return patient_get_for_user(user=user, patient_id=patient_id)


def genome_build_of(reports: Iterable[GenomicReport]) -> GenomeBuild:
    builds = {r.genome_build for r in reports if r.genome_build}
    return GenomeBuild(builds.pop()) if len(builds) == 1 else GenomeBuild.GRCH37


# ------------------------------------------------------------------------ copy-number segments
# The LOH rule of ``oncotrials.core.genomics.model.segment_loh`` as a database condition (a
# test holds the two to the same answers): a declared flag wins, else the minor allele is lost
# while some copy remains.
LOH_CONDITION = Q(loh=True) | Q(loh__isnull=True, minor_cn=0, total_cn__gt=0)


def _core_segment(g: CopyNumberSegment, sample_key: str) -> CoreSegment:
    return CoreSegment(
        sample_key,
        g.chromosome,
        g.start,
        g.end,
        g.log2_ratio,
        num_markers=g.num_markers,
        total_cn=g.total_cn,
        minor_cn=g.minor_cn,
        loh=g.loh,
    )


def patient_segments(
    *,
    patient: Patient,
    user: Actor | None,
    sample: Sample | None = None,
    loh: bool | None = None,
) -> QuerySet[CopyNumberSegment]:
    """The segments of the patient's current reports that ``user`` may see (None: all; of one
    sample when given), in file order per report; ``loh`` keeps the segments with (True) or
    without (False) LOH."""
    # Through the current reports: the segment table is indexed by report only.
    reports = GenomicReport.objects.filter(
        sample__in=genomic_samples_visible_to(user).filter(patient=patient), superseded=False
    )
    if sample is not None:
        reports = reports.filter(sample=sample)
    qs = CopyNumberSegment.objects.filter(report__in=reports.values("pk"), current=True)
    if loh is True:
        qs = qs.filter(LOH_CONDITION)
    elif loh is False:
        qs = qs.exclude(LOH_CONDITION)
    return qs.order_by("sample_id", "report_id", "pk")


@dataclass(frozen=True)
class GeneLoh:
    """A gene whose mutation lies in a segment with LOH (the other allele lost)."""

    sample_id: str
    gene: str
    label: str
    chromosome: str
    position: int
    segment: CoreSegment


@dataclass
class SampleSegments:
    sample: Sample
    segments: list[CoreSegment]
    genome_build: GenomeBuild | None
    loh_segments: list[CoreSegment]
    loh_genes: list[GeneLoh]

    @property
    def loh_megabases(self) -> float:
        return sum(g.end - g.start for g in self.loh_segments) / 1e6

    @property
    def has_allelic(self) -> bool:
        """Whether LOH could be assessed: some segment has a flag or both copy numbers."""
        return any(g.is_loh is not None for g in self.segments)


def _build(reports: Iterable[GenomicReport]) -> GenomeBuild | bool | None:
    """The one build of ``reports`` (None: not stated), or False when they disagree."""
    builds = {r.genome_build for r in reports if r.genome_build}
    if len(builds) > 1:
        return False
    return GenomeBuild(builds.pop()) if builds else None


def loh_genes_of(
    segments: Iterable[CoreSegment], mutations: Iterable[Any], sample_key: str
) -> list[GeneLoh]:
    """The mutated genes whose mutation position lies in an LOH segment of the same sample.

    The gene's position is its mutation's (no gene coordinates are shipped): a gene with LOH
    but no mutation is not found here. Segments are searched per chromosome by bisection.
    """
    by_chrom: dict[str, list[CoreSegment]] = defaultdict(list)
    for g in segments:
        if g.is_loh:
            by_chrom[g.chromosome].append(g)
    starts = {c: [g.start for g in sorted(v, key=lambda g: g.start)] for c, v in by_chrom.items()}
    ordered = {c: sorted(v, key=lambda g: g.start) for c, v in by_chrom.items()}
    out: list[GeneLoh] = []
    seen: set[tuple[str, str]] = set()
    for m in mutations:
        chrom = normalise_chromosome(m.chromosome or "")
        if chrom is None or chrom not in ordered or m.start is None:
            continue
        i = bisect.bisect_right(starts[chrom], m.start) - 1
        if i < 0:
            continue
        seg = ordered[chrom][i]
        label = m.protein_change or m.variant_class
        if seg.start <= m.start <= seg.end and (m.gene, label) not in seen:
            seen.add((m.gene, label))
            out.append(GeneLoh(sample_key, m.gene, label, chrom, m.start, seg))
    return sorted(out, key=lambda x: (x.gene, x.label))


def patient_copy_number(*, patient: Patient, user: Actor | None) -> list[SampleSegments]:
    """Per sample that ``user`` may see (None: all) with segments in a current report: its
    segments (file order), its LOH segments and the mutated genes that lie in them. A sample
    whose segment and mutation reports name different genome builds gets no gene-level LOH
    (positions differ)."""
    samples = {s.pk: s for s in genomic_samples_visible_to(user).filter(patient=patient)}
    reports = list(GenomicReport.objects.filter(sample__in=list(samples), superseded=False))
    by_sample: dict[int, list[CoreSegment]] = defaultdict(list)
    report_of: dict[int, set[int]] = defaultdict(set)
    for g in patient_segments(patient=patient, user=user):
        by_sample[g.sample_id].append(_core_segment(g, samples[g.sample_id].sample_id))
        report_of[g.sample_id].add(g.report_id)
    out: list[SampleSegments] = []
    # in collection order (undated samples last), as the timeline shows them
    for spk in sorted(
        by_sample, key=lambda k: (samples[k].collected_on or dt.date.max, samples[k].sample_id)
    ):
        s = samples[spk]
        segs = by_sample[spk]
        mine = [r for r in reports if r.sample_id == spk]
        build = _build(mine)
        loh = [g for g in segs if g.is_loh]
        genes: list[GeneLoh] = []
        if loh and build is not False:
            muts = Mutation.objects.filter(
                report_id__in=[r.pk for r in mine], current=True
            ).exclude(start=None)
            genes = loh_genes_of(loh, muts, s.sample_id)
        seg_build = _build(r for r in mine if r.pk in report_of[spk])
        out.append(
            SampleSegments(
                s,
                segs,
                seg_build if isinstance(seg_build, GenomeBuild) else None,
                loh,
                genes,
            )
        )
    return out
