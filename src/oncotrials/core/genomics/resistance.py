"""Acquired resistance: what appeared between a baseline and a progression sample, and why.

Given two samples of one patient and the therapy received in between, every alteration present
at progression but absent at baseline is *acquired* and classified as

- ``on_target_secondary``: a new mutation or rearrangement in a target of the therapy, or in the
  gene whose alteration made the patient eligible (a second KRAS allele under a G12C inhibitor,
  ALK G1202R under alectinib, PML/RARA mutations under arsenic/ATRA, BRCA reversions under a
  PARP inhibitor);
- ``on_target_amplification``: gain or amplification of a target gene;
- ``bypass``: an alteration of a parallel or downstream pathway gene of a target (MET
  amplification under an EGFR inhibitor), from the shipped, cited bypass table;
- ``lineage_transformation``: a histology change between the samples' OncoTree codes, or newly
  lost RB1 together with TP53 (the small-cell transformation pattern);
- ``not_evaluable``: the baseline assay did not cover the gene, or could not have seen the
  variant (baseline depth below ``min_depth``, or fewer than ``min_alt_reads`` expected at the
  progression VAF);
- ``unclassified``: acquired, but in none of the above genes.

Before baseline and progression are compared, every mutation is given one comparable name
(:func:`comparable_key`): exon-level events by their exon (EGFR "exon 19 deletion" and
p.E746_A750del are the same driver), legacy residue numbering by the current numbering (AR
T877A is T878A, from ``data/legacy_residue_numbering.csv``), three-letter changes by their
one-letter form; so the same driver written two ways is never "acquired". Germline variants
(MAF ``Mutation_Status``) are never acquired.

The therapy is a list of drug names from the catalogue or :class:`Drug` entries built by the
caller, e.g. an investigational agent described by its trial's molecular targets
(:func:`investigational_drug`).

In cfDNA samples, acquired variants in clonal-haematopoiesis genes are flagged (never dropped);
a matched white-blood-cell sample is needed to rule CH out.

Limit of detection: an assay may declare the lowest VAF it reliably detects
(:attr:`SerialSample.limit_of_detection`). Absence is then read as "not detected", never as
"absent": a variant whose progression VAF is below the baseline assay's limit could have been
there unseen (``not_evaluable``, as for too shallow a baseline), a progression call below its
own assay's limit is not evidence enough (``not_evaluable``), and a baseline event that a cfDNA
progression sample (or an assay that did not cover the gene) does not show is listed as
``not_detected`` with the reason, not as ``lost``: tumour DNA shed into plasma varies between
draws.

References
----------
Rules distilled in the project's genomics reference (section 4); drug -> target and bypass
tables in ``data/drug_targets.csv`` and ``data/resistance_bypass.csv`` cite their sources per row.
Clonal haematopoiesis genes: Jaiswal S et al. N Engl J Med 2014;371:2488-2498; Razavi P et al.
Nat Med 2019;25:1928-1937.
"""

from __future__ import annotations

import csv
import difflib
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from oncotrials.core.errors import NotFoundError, ValidationError
from oncotrials.core.genomics.actionability import exon_event
from oncotrials.core.genomics.cbioportal import Study
from oncotrials.core.genomics.model import (
    Alteration,
    Biomarker,
    CnaCall,
    CopyNumber,
    Mutation,
    Sample,
    SampleKind,
    StructuralVariant,
    VariantClass,
    below_limit_of_detection,
)
from oncotrials.core.genomics.protein import normalise_protein_change

__all__ = [
    "AcquiredAlteration",
    "Drug",
    "Mechanism",
    "ResistanceReport",
    "SerialSample",
    "UndetectedAlteration",
    "alteration_label",
    "classify_resistance",
    "clonal_haematopoiesis_genes",
    "comparable_key",
    "drug_catalogue",
    "find_drug",
    "investigational_drug",
    "resistance_atlas",
    "resistance_from_study",
]


class Mechanism(enum.StrEnum):
    ON_TARGET_SECONDARY = "on_target_secondary"
    ON_TARGET_AMPLIFICATION = "on_target_amplification"
    BYPASS = "bypass"
    LINEAGE_TRANSFORMATION = "lineage_transformation"
    NOT_EVALUABLE = "not_evaluable"
    UNCLASSIFIED = "unclassified"


@dataclass(frozen=True, slots=True)
class Drug:
    name: str
    aliases: tuple[str, ...]
    targets: frozenset[str]
    biomarker_genes: frozenset[str]
    drug_class: str
    citation: str


def _data(name: str) -> list[dict[str, str]]:
    ref = resources.files("oncotrials.core.genomics").joinpath(f"data/{name}")
    with ref.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _split(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(";") if t.strip())


@lru_cache(maxsize=1)
def drug_catalogue() -> dict[str, Drug]:
    """Shipped drug -> target map, keyed by lower-case name and every alias."""
    out: dict[str, Drug] = {}
    for row in _data("drug_targets.csv"):
        drug = Drug(
            name=row["drug"],
            aliases=_split(row["aliases"]),
            targets=frozenset(_split(row["targets"])),
            biomarker_genes=frozenset(_split(row["biomarker_genes"])),
            drug_class=row["drug_class"],
            citation=row["citation"],
        )
        for key in (drug.name, *drug.aliases):
            out[key.lower()] = drug
    return out


@lru_cache(maxsize=1)
def _bypass() -> dict[str, frozenset[str]]:
    return {
        r["target"]: frozenset(_split(r["bypass_genes"])) for r in _data("resistance_bypass.csv")
    }


@lru_cache(maxsize=1)
def clonal_haematopoiesis_genes() -> frozenset[str]:
    return frozenset(r["gene"] for r in _data("clonal_haematopoiesis_genes.csv"))


def investigational_drug(name: str, targets: Iterable[str], source: str) -> Drug:
    """An agent absent from the catalogue, described by the molecular targets of its trial.

    ``targets`` are the trial's targets as entered at set-up (``KRAS G12C``, ``EGFR``): the
    first word of each is taken as the gene. ``source`` names where they come from.
    """
    genes = frozenset(t.split()[0].upper() for t in targets if t.strip())
    if not genes:
        raise ValidationError(
            f"Agent {name!r} is not in the drug -> target map and {source} names no molecular "
            "target; add the agent to data/drug_targets.csv or the targets to the trial.",
            field="drug",
        )
    return Drug(
        name=name,
        aliases=(),
        targets=genes,
        biomarker_genes=genes,
        drug_class="investigational agent (targets of its trial)",
        citation=source,
    )


@lru_cache(maxsize=1)
def _legacy_numbering() -> dict[tuple[str, str], str]:
    return {(r["gene"], r["legacy"]): r["current"] for r in _data("legacy_residue_numbering.csv")}


def comparable_key(a: Alteration) -> tuple[str, str]:
    """The identity of an alteration for the baseline/progression comparison.

    A mutation's exon-level event (``exon19_deletion``), else its one-letter protein change in
    current residue numbering, else its locus; other alterations keep their own key.
    """
    if not isinstance(a, Mutation):
        return a.key
    exon = exon_event(a)
    if exon is not None:
        return (a.gene, exon)
    change = a.protein_change or normalise_protein_change(a.protein_change_raw)
    if change:
        return (a.gene, _legacy_numbering().get((a.gene, change), change))
    return a.key


def find_drug(name: str) -> Drug:
    """The catalogue entry for ``name`` (case-insensitive, brand names and aliases accepted)."""
    cat = drug_catalogue()
    key = name.strip().lower()
    if key in cat:
        return cat[key]
    close = difflib.get_close_matches(key, list(cat), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise NotFoundError(
        f"Drug {name!r} is not in the drug -> target map.{hint} "
        "Add it to data/drug_targets.csv with a citation.",
        code="drug_unknown",
    )


@dataclass(frozen=True)
class SerialSample:
    """One sample of the series with what was found in it and what its assay covered."""

    sample: Sample
    alterations: tuple[Alteration, ...]
    covered_genes: frozenset[str] | None = None  # None: exome/genome or not stated
    limit_of_detection: float | None = None  # VAF fraction the assay declares; None: not stated


def lod_text(lod: float | None) -> str:
    """``LoD 0.2 %`` for a declared limit of detection, '' without one."""
    return "" if lod is None else f"LoD {lod * 100:g} %"


@dataclass(frozen=True, slots=True)
class UndetectedAlteration:
    """A baseline event the progression sample does not show, without evidence that it is gone."""

    alteration: Alteration
    label: str
    reason: str  # e.g. "not detected in cfDNA (below LoD 0.2 %)"


@dataclass(frozen=True, slots=True)
class AcquiredAlteration:
    alteration: Alteration | None  # None for a histology change
    gene: str
    label: str  # e.g. "PML p.A216V", "MET amplification", "LUAD -> SCLC"
    mechanism: Mechanism
    reason: str
    possible_clonal_haematopoiesis: bool = False


@dataclass(frozen=True)
class ResistanceReport:
    patient_id: str
    baseline_sample: str
    progression_sample: str
    drugs: tuple[str, ...]
    targets: frozenset[str]
    acquired: tuple[AcquiredAlteration, ...]
    shared: tuple[Alteration, ...]
    lost: tuple[Alteration, ...]
    # Where the therapy came from: "given", a registration, the sample's recorded therapy.
    therapy_source: str = ""
    # Baseline events unseen at progression where absence is no evidence (cfDNA, not covered).
    not_detected: tuple[UndetectedAlteration, ...] = ()

    def by_mechanism(self, mechanism: Mechanism | str) -> tuple[AcquiredAlteration, ...]:
        m = Mechanism(mechanism)
        return tuple(a for a in self.acquired if a.mechanism is m)


def _is_event(a: Alteration) -> bool:
    """Alterations that can be acquired: protein-altering somatic mutations, non-neutral CNAs,
    SVs (a germline variant is inherited, never acquired)."""
    if isinstance(a, Mutation):
        return (
            a.variant_class.is_protein_altering
            and a.variant_class is not VariantClass.UNKNOWN
            and not a.is_germline
        )
    if isinstance(a, CopyNumber):
        return a.call is not CnaCall.NEUTRAL
    return isinstance(a, StructuralVariant)


def _gene(a: Alteration) -> tuple[str, ...]:
    if isinstance(a, Mutation | CopyNumber):
        return (a.gene,)
    if isinstance(a, StructuralVariant):
        return a.genes
    return ()


def alteration_label(a: Alteration) -> str:
    """Short human label: 'PML p.A216V', 'MET amplification', 'EML4::ALK fusion'."""
    if isinstance(a, Mutation):
        return f"{a.gene} {a.protein_change or a.protein_change_raw or a.key[1]}"
    if isinstance(a, CopyNumber):
        return f"{a.gene} {a.call.name.lower().replace('_', ' ')}"
    if isinstance(a, StructuralVariant):
        return f"{a.label} {(a.event_info or 'rearrangement').lower()}"
    return f"{a.kind.value} {a.status or a.value}"


def _is_loss(a: Alteration) -> bool:
    if isinstance(a, CopyNumber):
        return a.call is CnaCall.DEEP_DELETION
    if isinstance(a, Mutation):
        return a.variant_class in {
            VariantClass.NONSENSE,
            VariantClass.FRAME_SHIFT_DEL,
            VariantClass.FRAME_SHIFT_INS,
            VariantClass.SPLICE_SITE,
        }
    return False


def classify_resistance(
    baseline: SerialSample,
    progression: SerialSample,
    drugs: Sequence[str | Drug] | str | Drug,
    *,
    min_depth: int = 50,
    min_alt_reads: int = 3,
    therapy_source: str = "",
) -> ResistanceReport:
    """Classify the alterations acquired between ``baseline`` and ``progression``.

    Parameters
    ----------
    baseline, progression
        Samples of the same patient with their alterations (and the baseline panel's genes).
    drugs
        The therapy received in between (names or aliases from ``drug_catalogue``, or
        :class:`Drug` entries such as :func:`investigational_drug`).
    min_depth
        Baseline coverage below which absence is not evidence of absence.
    min_alt_reads
        Alternate reads the baseline assay would need to see a variant at the progression VAF.
    """
    if baseline.sample.patient_id != progression.sample.patient_id:
        raise ValidationError(
            f"Baseline {baseline.sample.sample_id!r} (patient {baseline.sample.patient_id!r}) and "
            f"progression {progression.sample.sample_id!r} (patient "
            f"{progression.sample.patient_id!r}) belong to different patients."
        )
    names = (drugs,) if isinstance(drugs, str | Drug) else tuple(drugs)
    if not names:
        raise ValidationError("Name at least one drug received between the two samples.")
    found = [n if isinstance(n, Drug) else find_drug(n) for n in names]
    targets = frozenset().union(*(d.targets for d in found))
    on_target = targets | frozenset().union(*(d.biomarker_genes for d in found))
    bypass = frozenset().union(*(_bypass().get(g, frozenset()) for g in on_target)) - on_target
    ch_genes = clonal_haematopoiesis_genes()
    cfdna = progression.sample.kind is SampleKind.CFDNA

    base_events = [a for a in baseline.alterations if _is_event(a)]
    base_keys = {comparable_key(a) for a in base_events}
    # Copy number: acquired only when the call rises (or falls) beyond the baseline call.
    base_cn = {a.gene: a.call for a in baseline.alterations if isinstance(a, CopyNumber)}
    acquired: list[AcquiredAlteration] = []
    shared: list[Alteration] = []
    for a in progression.alterations:
        if not _is_event(a) or isinstance(a, Biomarker):
            continue
        if isinstance(a, CopyNumber):
            before = base_cn.get(a.gene, CnaCall.NEUTRAL)
            same_direction = (a.call.value > 0) == (
                before.value > 0
            ) and before is not CnaCall.NEUTRAL
            if same_direction and abs(before.value) >= abs(a.call.value):
                shared.append(a)
                continue
        elif comparable_key(a) in base_keys:
            shared.append(a)
            continue
        genes = _gene(a)
        gene = next((g for g in genes if g in on_target), genes[0] if genes else "")
        acquired.append(
            _classify(
                a,
                gene,
                genes,
                baseline,
                on_target,
                bypass,
                min_depth,
                min_alt_reads,
                progression.limit_of_detection,
            )
            if genes
            else AcquiredAlteration(
                a, "", alteration_label(a), Mechanism.UNCLASSIFIED, "no gene named"
            )
        )
    acquired = [
        AcquiredAlteration(
            x.alteration,
            x.gene,
            x.label,
            x.mechanism,
            x.reason,
            possible_clonal_haematopoiesis=cfdna
            and x.gene in ch_genes
            and isinstance(x.alteration, Mutation),
        )
        for x in acquired
    ]
    acquired.extend(_lineage(baseline, progression, acquired))
    prog_keys = {comparable_key(a) for a in progression.alterations}
    lost: list[Alteration] = []
    not_detected: list[UndetectedAlteration] = []
    for a in base_events:
        if comparable_key(a) in prog_keys or isinstance(a, CopyNumber):
            continue
        reason = _unseen_reason(a, progression)
        if reason is None:
            lost.append(a)
        else:
            not_detected.append(UndetectedAlteration(a, alteration_label(a), reason))
    return ResistanceReport(
        patient_id=progression.sample.patient_id,
        baseline_sample=baseline.sample.sample_id,
        progression_sample=progression.sample.sample_id,
        drugs=tuple(d.name for d in found),
        targets=targets,
        acquired=tuple(acquired),
        shared=tuple(shared),
        lost=tuple(lost),
        therapy_source=therapy_source,
        not_detected=tuple(not_detected),
    )


def _unseen_reason(a: Alteration, progression: SerialSample) -> str | None:
    """Why a baseline event missing at progression is not "lost" (None: it is lost)."""
    covered = progression.covered_genes
    genes = _gene(a)
    if covered is not None and genes and not any(g in covered for g in genes):
        return "not covered by the progression assay"
    if progression.sample.kind is SampleKind.CFDNA:
        lod = lod_text(progression.limit_of_detection)
        return f"not detected in cfDNA (below {lod})" if lod else "not detected in cfDNA"
    return None


def _classify(
    a: Alteration,
    gene: str,
    genes: tuple[str, ...],
    baseline: SerialSample,
    on_target: frozenset[str],
    bypass: frozenset[str],
    min_depth: int,
    min_alt_reads: int,
    progression_lod: float | None = None,
) -> AcquiredAlteration:
    label = alteration_label(a)
    covered = baseline.covered_genes
    if covered is not None and not any(g in covered for g in genes):
        return AcquiredAlteration(
            a, gene, label, Mechanism.NOT_EVALUABLE, f"{gene} was not covered by the baseline assay"
        )
    if isinstance(a, Mutation) and a.vaf is not None:
        own = progression_lod
        if below_limit_of_detection(a.vaf, own):
            reason = f"called at VAF {a.vaf:.4f}, below the progression assay's {lod_text(own)}"
            return AcquiredAlteration(a, gene, label, Mechanism.NOT_EVALUABLE, reason)
        before = baseline.limit_of_detection
        if below_limit_of_detection(a.vaf, before):
            reason = (
                f"at VAF {a.vaf:.4f} it is below the baseline assay's {lod_text(before)}: "
                "not detected there is not absent"
            )
            return AcquiredAlteration(a, gene, label, Mechanism.NOT_EVALUABLE, reason)
    depth = baseline.sample.mean_depth
    if isinstance(a, Mutation) and depth is not None:
        if depth < min_depth:
            reason = f"baseline depth {depth:g} is below {min_depth}"
            return AcquiredAlteration(a, gene, label, Mechanism.NOT_EVALUABLE, reason)
        if a.vaf is not None and depth * a.vaf < min_alt_reads:
            reason = (
                f"at VAF {a.vaf:.3f} the baseline depth {depth:g} gives under {min_alt_reads} reads"
            )
            return AcquiredAlteration(a, gene, label, Mechanism.NOT_EVALUABLE, reason)
    if gene in on_target:
        if isinstance(a, CopyNumber):
            if a.call.value > 0:
                return AcquiredAlteration(
                    a,
                    gene,
                    label,
                    Mechanism.ON_TARGET_AMPLIFICATION,
                    f"{gene} is a target; copy gain",
                )
            return AcquiredAlteration(a, gene, label, Mechanism.ON_TARGET_SECONDARY, f"{gene} loss")
        return AcquiredAlteration(
            a, gene, label, Mechanism.ON_TARGET_SECONDARY, f"new alteration in target gene {gene}"
        )
    hit = next((g for g in genes if g in bypass), None)
    if hit is not None:
        if isinstance(a, CopyNumber) and a.call is CnaCall.GAIN:
            pass  # low-level gains are too common to call bypass
        else:
            return AcquiredAlteration(
                a, hit, label, Mechanism.BYPASS, f"{hit} lies on a bypass pathway of the target"
            )
    return AcquiredAlteration(
        a, gene, label, Mechanism.UNCLASSIFIED, "not in a target or bypass gene"
    )


def _lineage(
    baseline: SerialSample, progression: SerialSample, acquired: Iterable[AcquiredAlteration]
) -> list[AcquiredAlteration]:
    out: list[AcquiredAlteration] = []
    b, p = baseline.sample.oncotree_code, progression.sample.oncotree_code
    if b and p and b.upper() != p.upper():
        out.append(
            AcquiredAlteration(
                None, "", f"{b} -> {p}", Mechanism.LINEAGE_TRANSFORMATION, "histology changed"
            )
        )
    losses = {x.gene for x in acquired if x.alteration is not None and _is_loss(x.alteration)} | {
        x.gene for x in acquired if isinstance(x.alteration, Mutation) and x.gene == "TP53"
    }
    if {"RB1", "TP53"} <= losses:
        out.append(
            AcquiredAlteration(
                None,
                "RB1",
                "RB1 + TP53 loss",
                Mechanism.LINEAGE_TRANSFORMATION,
                "new RB1 and TP53 loss: small-cell transformation pattern",
            )
        )
    return out


def resistance_atlas(reports: Iterable[ResistanceReport]) -> dict[tuple[str, str], int]:
    """Patients per (mechanism, gene) across reports: the cohort view of acquired resistance.

    Each patient counts once per (mechanism, gene), whatever the number of variants.
    """
    seen: dict[tuple[str, str], set[str]] = {}
    for report in reports:
        for a in report.acquired:
            seen.setdefault((a.mechanism.value, a.gene), set()).add(report.patient_id)
    counts = {k: len(v) for k, v in seen.items()}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def resistance_from_study(
    study: Study,
    baseline_sample: str,
    progression_sample: str,
    drugs: Sequence[str] | None = None,
    **options: int,
) -> ResistanceReport:
    """Classify resistance between two samples of a cBioPortal study.

    Alterations come from the study's mutations, copy number and structural variants; baseline
    coverage from its gene-panel matrix. Without ``drugs``, the therapy is read from the
    timeline: the AGENT of every TREATMENT event that overlaps the interval between the two
    samples' SPECIMEN events (``SAMPLE_ID`` links a specimen to its sample).
    """
    samples = {s.sample_id: s for s in study.samples}
    for sid in (baseline_sample, progression_sample):
        if sid not in samples:
            raise NotFoundError(f"Sample {sid!r} is not in study {study.study_id!r}.")
    given = drugs is not None
    if drugs is None:
        drugs = _drugs_between(study, samples[baseline_sample], samples[progression_sample])

    def series(sid: str) -> SerialSample:
        everything: tuple[Alteration, ...] = (
            *study.mutations,
            *study.copy_numbers,
            *study.structural_variants,
        )
        alts = [a for a in everything if a.sample_id == sid]
        return SerialSample(samples[sid], tuple(alts), study.covered_genes(sid))

    return classify_resistance(
        series(baseline_sample),
        series(progression_sample),
        drugs,
        min_depth=options.get("min_depth", 50),
        min_alt_reads=options.get("min_alt_reads", 3),
        therapy_source="given" if given else "study timeline",
    )


def _drugs_between(study: Study, baseline: Sample, progression: Sample) -> tuple[str, ...]:
    day: dict[str, int] = {}
    for e in study.timeline:
        sid = e.attributes.get("SAMPLE_ID")
        if e.event_type.upper() == "SPECIMEN" and sid:
            day[sid] = e.start
    missing = [s.sample_id for s in (baseline, progression) if s.sample_id not in day]
    if missing:
        raise ValidationError(
            f"No SPECIMEN timeline event with SAMPLE_ID {missing[0]!r}; name the drugs instead."
        )
    start, end = day[baseline.sample_id], day[progression.sample_id]
    if end <= start:
        raise ValidationError(
            f"Sample {progression.sample_id!r} (day {end}) was not taken after "
            f"{baseline.sample_id!r} (day {start})."
        )
    agents: dict[str, None] = {}
    for e in study.timeline:
        if e.event_type.upper() != "TREATMENT" or e.patient_id != progression.patient_id:
            continue
        stop = e.stop if e.stop is not None else e.start
        agent = e.attributes.get("AGENT")
        if agent and e.start < end and stop >= start:
            agents[agent] = None
    if not agents:
        raise ValidationError(
            f"No TREATMENT with an AGENT between day {start} and day {end} for patient "
            f"{progression.patient_id!r}; name the drugs instead."
        )
    return tuple(agents)
