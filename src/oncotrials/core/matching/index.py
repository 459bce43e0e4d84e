"""Columnar patient index: the data the compiled engine evaluates criteria against.

Patients are rows ``0..n-1`` (their *slots*); alteration rows are sorted by gene so that the
rows of one gene are a contiguous slice. Structural variants between two genes are indexed in
both orientations (a mirrored row), so a criterion on either partner finds them. Missing facts
are ``NaN`` (floats) or ``-1`` (codes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from oncotrials.core.errors import ValidationError
from oncotrials.core.matching.records import (
    CATEGORIES,
    CN_CALLS,
    INTERGENIC,
    MSI_STATUSES,
    ORIGINS,
    SEXES,
    Patient,
    wildcard_key,
)

#: Row codes: category bits and special partner values.
CAT_BIT = {c: 1 << i for i, c in enumerate(CATEGORIES)}


def row_bit(category: str, origin: str = "unknown") -> int:
    """A row's category code: one bit per (category, origin), so a criterion's categories and
    origins are one mask and a row matches when its bit is in it."""
    return CAT_BIT[category] << (len(CATEGORIES) * ORIGINS.index(origin))


def criterion_bits(categories: Iterable[str], origins: Iterable[str]) -> int:
    """The mask of the rows a criterion's categories and origins accept."""
    return sum(row_bit(c, o) for c in set(categories) for o in set(origins))


#: Every category of every origin: a criterion that restricts neither.
ALL_ROW_BITS = criterion_bits(CATEGORIES, ORIGINS)
SV_BITS = criterion_bits(("sv",), ORIGINS)
NONE = -1
UNKNOWN_VALUE = -2  # a string the vocabulary has never seen: equals nothing
PARTNER_INTERGENIC = -3
PARTNER_ANY_GENE = -4  # only in criteria


class Vocab:
    """String -> int interning that only grows."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.ids: dict[str, int] = {}
        self.values: list[str] = []
        for v in values:
            self.add(v)

    def add(self, value: str) -> int:
        idx = self.ids.get(value)
        if idx is None:
            idx = len(self.values)
            self.ids[value] = idx
            self.values.append(value)
        return idx

    def get(self, value: str | None) -> int:
        if value is None:
            return NONE
        return self.ids.get(value, UNKNOWN_VALUE)

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class RowColumns:
    """Alteration rows as parallel columns (one row per alteration, before mirroring)."""

    patient: NDArray[np.int32]
    gene: NDArray[np.int32]
    category: NDArray[np.uint16]
    protein: NDArray[np.int32]
    wildcard: NDArray[np.int32]
    exon: NDArray[np.int16]
    cn_call: NDArray[np.int8]
    partner: NDArray[np.int32]
    vclass: NDArray[np.int32]
    classes: dict[str, NDArray[np.bool_]] = field(default_factory=dict)
    # Exon of a fusion's partner at the breakpoint (None: no row has one); a mirrored row
    # takes it as its own exon.
    partner_exon: NDArray[np.int16] | None = None


@dataclass
class PatientColumns:
    """Patient-level facts as columns (length n)."""

    ids: list[str]
    reported: NDArray[np.bool_]
    deceased: NDArray[np.bool_]
    diagnosis: NDArray[np.int32]  # index into diagnosis_codes, -1 missing
    diagnosis_codes: list[str]
    age: NDArray[np.float64]
    sex: NDArray[np.int8]  # index into SEXES, -1 missing
    ecog: NDArray[np.int8]
    prior_lines: NDArray[np.int16]
    therapies_known: NDArray[np.bool_]
    therapies: dict[str, NDArray[np.bool_]]
    labs: dict[str, NDArray[np.float64]]
    tmb: NDArray[np.float64]
    msi: NDArray[np.int8]  # index into MSI_STATUSES, -1 missing
    signatures: dict[str, NDArray[np.bool_]]


class PatientIndex:
    """Immutable columnar index over patients and their alteration rows.

    Build it with :meth:`from_patients` (records) or directly from columns (bulk loads,
    benchmarks). Vocabularies map strings (genes, protein changes, ...) to the integer codes of
    the columns.
    """

    def __init__(
        self,
        patients: PatientColumns,
        rows: RowColumns,
        *,
        genes: Vocab,
        proteins: Vocab,
        wildcards: Vocab,
        vclasses: Vocab,
    ) -> None:
        self.p = patients
        self.n = len(patients.ids)
        self.n_words = max(1, (self.n + 63) // 64)
        self.slot_of = {pid: i for i, pid in enumerate(patients.ids)}
        if len(self.slot_of) != self.n:
            raise ValidationError(
                "patient ids must be unique; a repeated id was given.",
                code="matching_patient_ids_unique_repeated",
            )
        self.genes, self.proteins, self.wildcards, self.vclasses = (
            genes,
            proteins,
            wildcards,
            vclasses,
        )
        # Mirror gene-gene fusions so that either partner is the row's gene.
        sv = ((rows.category & SV_BITS) != 0) & (rows.partner >= 0) & (rows.partner != rows.gene)
        mirror = np.flatnonzero(sv)

        def both(col: NDArray[np.generic], mirrored: NDArray[np.generic] | None = None) -> NDArray:  # type: ignore[type-arg]
            extra = col[mirror] if mirrored is None else mirrored
            return np.concatenate([col, extra])

        gene = both(rows.gene, rows.partner[mirror])
        partner = both(rows.partner, rows.gene[mirror])
        order = np.argsort(gene, kind="stable")
        self.source_row = np.concatenate([np.arange(len(rows.gene)), mirror])[order]
        self.r_mirror = np.concatenate(
            [np.zeros(len(rows.gene), dtype=bool), np.ones(len(mirror), dtype=bool)]
        )[order]
        self.r_gene = gene[order].astype(np.int32)
        self.r_partner = partner[order].astype(np.int32)
        self.r_patient = both(rows.patient)[order].astype(np.int32)
        self.r_category = both(rows.category)[order].astype(np.uint16)
        self.r_protein = both(rows.protein)[order].astype(np.int32)
        self.r_wildcard = both(rows.wildcard)[order].astype(np.int32)
        partner_exon = (
            rows.partner_exon
            if rows.partner_exon is not None
            else np.full(len(rows.gene), NONE, dtype=np.int16)
        )
        self.r_exon = both(rows.exon, partner_exon[mirror])[order].astype(np.int16)
        self.r_partner_exon = both(partner_exon, rows.exon[mirror])[order].astype(np.int16)
        self.r_cn = both(rows.cn_call)[order].astype(np.int8)
        self.r_vclass = both(rows.vclass)[order].astype(np.int32)
        self.r_classes = {k: both(v)[order] for k, v in rows.classes.items()}
        self.n_rows = len(self.r_gene)
        # Slice bounds per gene code.
        n_genes = len(genes)
        self.gene_start = np.searchsorted(self.r_gene, np.arange(n_genes), side="left")
        self.gene_end = np.searchsorted(self.r_gene, np.arange(n_genes), side="right")

    def gene_slice(self, gene: str) -> tuple[int, int]:
        code = self.genes.ids.get(gene)
        if code is None:
            return 0, 0
        return int(self.gene_start[code]), int(self.gene_end[code])

    def merged(self, keep: NDArray[np.intp], extra: Sequence[Patient]) -> PatientIndex:
        """A new index: this index's patients at slots ``keep`` (in that order), then ``extra``.

        Used to fold patients added or changed since this index was built back into one index.
        """
        ov = PatientIndex.from_patients(extra)
        nb = len(keep)
        slot_map = np.full(self.n, -1, dtype=np.int64)
        slot_map[keep] = np.arange(nb)
        vocabs: list[tuple[Vocab, NDArray[np.int64]]] = []
        for own, new in (
            (self.genes, ov.genes),
            (self.proteins, ov.proteins),
            (self.wildcards, ov.wildcards),
            (self.vclasses, ov.vclasses),
            (Vocab(self.p.diagnosis_codes), Vocab(ov.p.diagnosis_codes)),
        ):
            merged_vocab = Vocab(own.values)
            mapping = np.array([merged_vocab.add(v) for v in new.values] + [0], dtype=np.int64)
            vocabs.append((merged_vocab, mapping))

        def remap(codes: NDArray[np.integer], which: int) -> NDArray[np.int64]:
            mapping = vocabs[which][1]
            return np.where(codes >= 0, mapping[np.maximum(codes, 0)], codes)

        def cat(base: NDArray[Any], other: NDArray[Any]) -> NDArray[Any]:
            return np.concatenate([base[keep], other])

        def cat_dict(
            base: Mapping[str, NDArray[Any]],
            other: Mapping[str, NDArray[Any]],
            n_base: int,
            n_other: int,
            fill: Any,
            base_sel: NDArray[Any],
        ) -> dict[str, NDArray[Any]]:
            out: dict[str, NDArray[Any]] = {}
            for name in sorted(set(base) | set(other)):
                b = base[name][base_sel] if name in base else np.full(n_base, fill)
                o = other[name] if name in other else np.full(n_other, fill)
                out[name] = np.concatenate([b, o])
            return out

        p, q = self.p, ov.p
        pc = PatientColumns(
            ids=[p.ids[s] for s in keep] + q.ids,
            reported=cat(p.reported, q.reported),
            deceased=cat(p.deceased, q.deceased),
            diagnosis=np.concatenate([p.diagnosis[keep], remap(q.diagnosis, 4)]).astype(np.int32),
            diagnosis_codes=vocabs[4][0].values,
            age=cat(p.age, q.age),
            sex=cat(p.sex, q.sex),
            ecog=cat(p.ecog, q.ecog),
            prior_lines=cat(p.prior_lines, q.prior_lines),
            therapies_known=cat(p.therapies_known, q.therapies_known),
            therapies=cat_dict(p.therapies, q.therapies, nb, ov.n, False, keep),
            labs=cat_dict(p.labs, q.labs, nb, ov.n, np.nan, keep),
            tmb=cat(p.tmb, q.tmb),
            msi=cat(p.msi, q.msi),
            signatures=cat_dict(p.signatures, q.signatures, nb, ov.n, False, keep),
        )
        mine_rows = ~self.r_mirror & (slot_map[self.r_patient] >= 0)
        theirs = ~ov.r_mirror
        mine = mine_rows

        def rows(a: NDArray[Any], b: NDArray[Any]) -> NDArray[Any]:
            return np.concatenate([a[mine], b[theirs]])

        classes: dict[str, NDArray[np.bool_]] = {}
        for name in sorted(set(self.r_classes) | set(ov.r_classes)):
            a = self.r_classes.get(name)
            b = ov.r_classes.get(name)
            classes[name] = np.concatenate(
                [
                    np.zeros(int(mine.sum()), bool) if a is None else a[mine],
                    np.zeros(int(theirs.sum()), bool) if b is None else b[theirs],
                ]
            )

        partner_theirs = ov.r_partner[theirs]
        rc = RowColumns(
            patient=np.concatenate(
                [slot_map[self.r_patient[mine]], ov.r_patient[theirs] + nb]
            ).astype(np.int32),
            gene=np.concatenate([self.r_gene[mine], remap(ov.r_gene[theirs], 0)]).astype(np.int32),
            category=rows(self.r_category, ov.r_category),
            protein=np.concatenate([self.r_protein[mine], remap(ov.r_protein[theirs], 1)]).astype(
                np.int32
            ),
            wildcard=np.concatenate(
                [self.r_wildcard[mine], remap(ov.r_wildcard[theirs], 2)]
            ).astype(np.int32),
            exon=rows(self.r_exon, ov.r_exon),
            cn_call=rows(self.r_cn, ov.r_cn),
            partner=np.concatenate([self.r_partner[mine], remap(partner_theirs, 0)]).astype(
                np.int32
            ),
            vclass=np.concatenate([self.r_vclass[mine], remap(ov.r_vclass[theirs], 3)]).astype(
                np.int32
            ),
            classes=classes,
            partner_exon=rows(self.r_partner_exon, ov.r_partner_exon),
        )
        return PatientIndex(
            pc,
            rc,
            genes=vocabs[0][0],
            proteins=vocabs[1][0],
            wildcards=vocabs[2][0],
            vclasses=vocabs[3][0],
        )

    @classmethod
    def from_patients(cls, patients: Sequence[Patient]) -> PatientIndex:
        """Index records (their order gives the slots)."""
        genes, proteins, wildcards, vclasses = Vocab(), Vocab(), Vocab(), Vocab()
        diag = Vocab()
        n = len(patients)
        cols: dict[str, list[int]] = {
            k: []
            for k in ("pat", "gene", "cat", "prot", "wild", "exon", "pexon", "cn", "partner", "vc")
        }
        class_rows: dict[str, list[int]] = {}
        therapies: dict[str, NDArray[np.bool_]] = {}
        labs: dict[str, NDArray[np.float64]] = {}
        signatures: dict[str, NDArray[np.bool_]] = {}
        pc = PatientColumns(
            ids=[p.id for p in patients],
            reported=np.array([p.report is not None for p in patients], dtype=bool),
            deceased=np.array([p.deceased for p in patients], dtype=bool),
            diagnosis=np.array(
                [NONE if p.diagnosis is None else diag.add(p.diagnosis) for p in patients],
                dtype=np.int32,
            ),
            diagnosis_codes=diag.values,
            age=np.array([np.nan if p.age is None else p.age for p in patients], dtype=float),
            sex=np.array(
                [NONE if p.sex is None else SEXES.index(p.sex) for p in patients], dtype=np.int8
            ),
            ecog=np.array([NONE if p.ecog is None else p.ecog for p in patients], dtype=np.int8),
            prior_lines=np.array(
                [NONE if p.prior_lines is None else p.prior_lines for p in patients], dtype=np.int16
            ),
            therapies_known=np.array([p.prior_therapies is not None for p in patients], dtype=bool),
            therapies=therapies,
            labs=labs,
            tmb=np.array(
                [
                    np.nan if p.report is None or p.report.tmb is None else p.report.tmb
                    for p in patients
                ],
                dtype=float,
            ),
            msi=np.array(
                [
                    NONE
                    if p.report is None or p.report.msi is None
                    else MSI_STATUSES.index(p.report.msi)
                    for p in patients
                ],
                dtype=np.int8,
            ),
            signatures=signatures,
        )
        for slot, p in enumerate(patients):
            for t in p.prior_therapies or ():
                therapies.setdefault(t, np.zeros(n, dtype=bool))[slot] = True
            for name, value in p.labs.items():
                labs.setdefault(name, np.full(n, np.nan))[slot] = value
            if p.report is None:
                continue
            for s in p.report.signatures:
                signatures.setdefault(s, np.zeros(n, dtype=bool))[slot] = True
            for a in p.report.alterations:
                row = len(cols["pat"])
                cols["pat"].append(slot)
                cols["gene"].append(genes.add(a.gene))
                cols["cat"].append(row_bit(a.category, a.origin))
                cols["prot"].append(
                    NONE if a.protein_change is None else proteins.add(a.protein_change)
                )
                key = wildcard_key(a.protein_change)
                cols["wild"].append(NONE if key is None else wildcards.add(key))
                cols["exon"].append(NONE if a.exon is None else a.exon)
                cols["pexon"].append(NONE if a.partner_exon is None else a.partner_exon)
                cols["cn"].append(NONE if a.cn_call is None else CN_CALLS.index(a.cn_call))
                if a.fusion_partner is None:
                    cols["partner"].append(NONE)
                elif a.fusion_partner == INTERGENIC:
                    cols["partner"].append(PARTNER_INTERGENIC)
                else:
                    cols["partner"].append(genes.add(a.fusion_partner))
                cols["vc"].append(
                    NONE
                    if a.variant_classification is None
                    else vclasses.add(a.variant_classification)
                )
                for c in a.classes:
                    class_rows.setdefault(c, []).append(row)
        n_rows = len(cols["pat"])
        classes: dict[str, NDArray[np.bool_]] = {}
        for c, idx in class_rows.items():
            mask = np.zeros(n_rows, dtype=bool)
            mask[idx] = True
            classes[c] = mask
        rc = RowColumns(
            patient=np.array(cols["pat"], dtype=np.int32),
            gene=np.array(cols["gene"], dtype=np.int32),
            category=np.array(cols["cat"], dtype=np.uint16),
            protein=np.array(cols["prot"], dtype=np.int32),
            wildcard=np.array(cols["wild"], dtype=np.int32),
            exon=np.array(cols["exon"], dtype=np.int16),
            cn_call=np.array(cols["cn"], dtype=np.int8),
            partner=np.array(cols["partner"], dtype=np.int32),
            vclass=np.array(cols["vc"], dtype=np.int32),
            classes=classes,
            partner_exon=np.array(cols["pexon"], dtype=np.int16),
        )
        return cls(pc, rc, genes=genes, proteins=proteins, wildcards=wildcards, vclasses=vclasses)
