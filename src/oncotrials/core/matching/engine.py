"""The compiled matching engine: criteria as set operations over a patient index.

Every level's criteria are compiled into one shared, hash-consed DAG (:class:`Plan`): identical
sub-criteria across cohorts and trials become one node, evaluated once. Two evaluators read the
plan:

* **batch** (:meth:`Plan.evaluate_index`): each leaf becomes a pair of bitsets over all patients
  (*true*, *false*; the rest is *unknown*), computed from the index (a gene's rows are one
  contiguous slice); ``and`` / ``or`` / ``not`` are word-wise bit operations on packed
  ``uint64`` arrays. No per-patient interpretation.
* **single patient** (:meth:`Plan.evaluate_patient`): for one new or changed patient, leaves are
  evaluated by a vectorised join of the patient's alteration rows with the table of genomic
  leaves (grouped by gene), and internal nodes layer by layer with ``min``/``max`` reductions
  (Kleene ``and``/``or``) over all nodes at once.

:class:`Matcher` keeps the match sets of every level and re-matches incrementally (a report
arrives, a patient changes or leaves, a trial is added, amended or removed); incremental results
are always equal to a full re-match (tested by property-based tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from oncotrials.core.errors import NotFoundError, ValidationError
from oncotrials.core.matching.criteria import (
    And,
    Category,
    Genomic,
    Leaf,
    Node,
    Not,
    Numeric,
    Or,
    Range,
)
from oncotrials.core.matching.index import (
    ALL_ROW_BITS,
    NONE,
    PARTNER_ANY_GENE,
    PARTNER_INTERGENIC,
    UNKNOWN_VALUE,
    PatientIndex,
    Vocab,
    criterion_bits,
    row_bit,
)
from oncotrials.core.matching.oncotree import (
    LIQUID,
    SOLID,
    OncoTreeLike,
    ancestors,
    is_liquid,
)
from oncotrials.core.matching.records import (
    ANY_GENE,
    CN_CALLS,
    INTERGENIC,
    MSI_STATUSES,
    SEXES,
    Alteration,
    Patient,
    wildcard_key,
)
from oncotrials.core.matching.reference import Explanation, explain, oriented
from oncotrials.core.matching.trials import Level, Trial

LEAF, AND, OR, NOT = 0, 1, 2, 3
F, U, T = 0, 1, 2
Bits = NDArray[np.uint64]


def pack(mask: NDArray[np.bool_], n_words: int) -> Bits:
    """Pack a boolean vector into ``n_words`` little-endian ``uint64`` words."""
    padded = np.zeros(n_words * 64, dtype=bool)
    padded[: len(mask)] = mask
    return np.packbits(padded, bitorder="little").view(np.uint64)


def unpack(bits: Bits, n: int) -> NDArray[np.bool_]:
    return np.unpackbits(bits.view(np.uint8), bitorder="little", count=n).astype(bool)


def _in_range(values: NDArray[np.floating], rng: Range) -> NDArray[np.bool_]:
    ok = np.ones(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        if rng.gt is not None:
            ok &= values > rng.gt
        if rng.gte is not None:
            ok &= values >= rng.gte
        if rng.lt is not None:
            ok &= values < rng.lt
        if rng.lte is not None:
            ok &= values <= rng.lte
    return ok


class _Diagnoses:
    """Cached OncoTree ancestry per code (diagnosis subtree tests)."""

    def __init__(self, oncotree: OncoTreeLike) -> None:
        self.tree = oncotree
        self._anc: dict[str, frozenset[str]] = {}

    def ancestors(self, code: str) -> frozenset[str]:
        anc = self._anc.get(code)
        if anc is None:
            anc = frozenset(ancestors(self.tree, code))
            self._anc[code] = anc
        return anc

    def contains(self, patient_code: str, criterion: str) -> bool:
        if criterion == LIQUID:
            return is_liquid(self.tree, patient_code)
        if criterion == SOLID:
            return self.tree.parent(patient_code) is not None and not is_liquid(
                self.tree, patient_code
            )
        return criterion in self.ancestors(patient_code)


@dataclass
class _Group:
    kind: int
    nodes: NDArray[np.intp]
    children: NDArray[np.intp]
    offsets: NDArray[np.intp]


class Plan:
    """Append-only, hash-consed DAG of compiled criteria.

    Node ids are topological (children before parents). ``add`` flattens nested ``and``/``or``,
    drops duplicate children and double negations, and returns the id of an equal existing node
    when there is one.
    """

    def __init__(self, oncotree: OncoTreeLike) -> None:
        self.diagnoses = _Diagnoses(oncotree)
        self.kind: list[int] = []
        self.children: list[tuple[int, ...]] = []
        self.leaf: list[Leaf | None] = []
        self.height: list[int] = []
        self._ids: dict[object, int] = {}
        self.groups: list[_Group] = []
        self._sealed = 0
        # single-patient tables
        self.genes, self.proteins, self.wildcards = Vocab(), Vocab(), Vocab()
        self.vclasses, self.classes = Vocab(), Vocab()
        self._gcols: dict[str, list[int]] = {
            k: []
            for k in (
                "node",
                "gene",
                "cat",
                "prot",
                "wild",
                "exon",
                "cn",
                "partner",
                "vc",
                "klass",
            )
        }
        self._g: dict[str, NDArray[np.int64]] = {}
        self._gene_order = np.zeros(0, dtype=np.intp)
        self._gene_sorted = np.zeros(0, dtype=np.int64)
        self._nogene = np.zeros(0, dtype=np.intp)
        self.other_leaves: list[tuple[int, Leaf]] = []
        # diagnosis leaves by code (a patient's ancestors select the true ones)
        self._diag_by_code: dict[str, list[int]] = {}
        self.diag_nodes = np.zeros(0, dtype=np.intp)
        self.genomic_nodes = np.zeros(0, dtype=np.intp)

    def __len__(self) -> int:
        return len(self.kind)

    # -- compilation --------------------------------------------------------------------------

    def add(self, node: Node) -> int:
        if isinstance(node, And | Or):
            op = AND if isinstance(node, And) else OR
            ids: set[int] = set()
            for child in node.children:
                cid = self.add(child)
                if self.kind[cid] == op:
                    ids.update(self.children[cid])
                else:
                    ids.add(cid)
            kids = tuple(sorted(ids))
            if len(kids) == 1:
                return kids[0]
            return self._intern((op, kids), op, kids, None)
        if isinstance(node, Not):
            cid = self.add(node.child)
            if self.kind[cid] == NOT:
                return self.children[cid][0]
            return self._intern((NOT, (cid,)), NOT, (cid,), None)
        return self._intern(node, LEAF, (), node)

    def _intern(self, key: object, kind: int, kids: tuple[int, ...], leaf: Leaf | None) -> int:
        existing = self._ids.get(key)
        if existing is not None:
            return existing
        nid = len(self.kind)
        self._ids[key] = nid
        self.kind.append(kind)
        self.children.append(kids)
        self.leaf.append(leaf)
        self.height.append(0 if not kids else 1 + max(self.height[c] for c in kids))
        return nid

    def seal(self) -> None:
        """Prepare the nodes added since the last seal for single-patient evaluation."""
        start, stop = self._sealed, len(self.kind)
        if start == stop:
            return
        by: dict[tuple[int, int], list[int]] = {}
        genomic: list[int] = []
        for nid in range(start, stop):
            kind = self.kind[nid]
            if kind == LEAF:
                leaf = self.leaf[nid]
                if isinstance(leaf, Genomic):
                    self._add_genomic(nid, leaf)
                    genomic.append(nid)
                elif (
                    isinstance(leaf, Category)
                    and leaf.field == "diagnosis"
                    and leaf.value not in (SOLID, LIQUID)
                ):
                    self._diag_by_code.setdefault(leaf.value, []).append(nid)
                    self.diag_nodes = np.append(self.diag_nodes, nid)
                else:
                    assert leaf is not None
                    self.other_leaves.append((nid, leaf))
            else:
                by.setdefault((self.height[nid], kind), []).append(nid)
        for (_, kind), nodes in sorted(by.items()):
            kids = [self.children[n] for n in nodes]
            counts = np.array([len(k) for k in kids], dtype=np.intp)
            offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
            flat = np.fromiter((c for k in kids for c in k), dtype=np.intp, count=int(counts.sum()))
            self.groups.append(_Group(kind, np.array(nodes, dtype=np.intp), flat, offsets))
        if genomic:
            self.genomic_nodes = np.concatenate(
                [self.genomic_nodes, np.array(genomic, dtype=np.intp)]
            )
            self._g = {k: np.array(v, dtype=np.int64) for k, v in self._gcols.items()}
            gene = self._g["gene"]
            has = np.flatnonzero(gene >= 0)
            order = has[np.argsort(gene[has], kind="stable")]
            self._gene_order = order
            self._gene_sorted = gene[order]
            self._nogene = np.flatnonzero(gene < 0)
        self._sealed = stop

    def _add_genomic(self, nid: int, leaf: Genomic) -> None:
        g = self._gcols
        g["node"].append(nid)
        g["gene"].append(NONE if leaf.gene is None else self.genes.add(leaf.gene))
        g["cat"].append(criterion_bits(leaf.categories, leaf.origins))
        g["prot"].append(
            NONE if leaf.protein_change is None else self.proteins.add(leaf.protein_change)
        )
        g["wild"].append(
            NONE
            if leaf.wildcard_protein_change is None
            else self.wildcards.add(leaf.wildcard_protein_change)
        )
        g["exon"].append(NONE if leaf.exon is None else leaf.exon)
        g["cn"].append(NONE if leaf.cn_call is None else CN_CALLS.index(leaf.cn_call))
        if leaf.fusion_partner is None:
            g["partner"].append(NONE)
        elif leaf.fusion_partner == ANY_GENE:
            g["partner"].append(PARTNER_ANY_GENE)
        elif leaf.fusion_partner == INTERGENIC:
            g["partner"].append(PARTNER_INTERGENIC)
        else:
            g["partner"].append(self.genes.add(leaf.fusion_partner))
        g["vc"].append(
            NONE
            if leaf.variant_classification is None
            else self.vclasses.add(leaf.variant_classification)
        )
        g["klass"].append(NONE if leaf.kb_class is None else self.classes.add(leaf.kb_class))

    # -- single-patient evaluation --------------------------------------------------------------

    def evaluate_patient(self, patient: Patient) -> NDArray[np.int8]:
        """Kleene value (0 false, 1 unknown, 2 true) of every node for one patient."""
        self.seal()
        val = np.full(len(self.kind), U, dtype=np.int8)
        report = patient.report
        if report is not None and len(self.genomic_nodes):
            val[self.genomic_nodes] = F
            hits = self._genomic_hits(patient)
            if len(hits):
                val[hits] = T
        if patient.diagnosis is not None and len(self.diag_nodes):
            val[self.diag_nodes] = F
            for code in self.diagnoses.ancestors(patient.diagnosis):
                hit = self._diag_by_code.get(code)
                if hit:
                    val[hit] = T
        for nid, leaf in self.other_leaves:
            val[nid] = self._scalar(leaf, patient)
        for grp in self.groups:
            if grp.kind == NOT:
                val[grp.nodes] = 2 - val[grp.children]
            elif grp.kind == AND:
                val[grp.nodes] = np.minimum.reduceat(val[grp.children], grp.offsets)
            else:
                val[grp.nodes] = np.maximum.reduceat(val[grp.children], grp.offsets)
        return val

    def _genomic_hits(self, patient: Patient) -> NDArray[np.int64]:
        assert patient.report is not None
        row_alts: list[Alteration] = []
        rows: list[tuple[int, int, int, int, int, int, int, int]] = []
        for alt in patient.report.alterations:
            prot = self.proteins.get(alt.protein_change)
            wkey = wildcard_key(alt.protein_change)
            wild = self.wildcards.get(wkey)
            vc = self.vclasses.get(alt.variant_classification)
            cat = row_bit(alt.category, alt.origin)
            cn = NONE if alt.cn_call is None else CN_CALLS.index(alt.cn_call)
            for gene, partner, gene_exon in oriented(alt):
                exon = NONE if gene_exon is None else gene_exon
                if partner is None:
                    pcode = NONE
                elif partner == INTERGENIC:
                    pcode = PARTNER_INTERGENIC
                else:
                    pcode = self.genes.get(partner)
                rows.append((self.genes.get(gene), cat, prot, wild, exon, cn, pcode, vc))
                row_alts.append(alt)
        if not rows:
            return np.zeros(0, dtype=np.int64)
        arr = np.array(rows, dtype=np.int64)
        k = len(rows)
        r_gene = arr[:, 0]
        lo = np.searchsorted(self._gene_sorted, r_gene, side="left")
        hi = np.searchsorted(self._gene_sorted, r_gene, side="right")
        counts = hi - lo
        total = int(counts.sum())
        r_idx = np.repeat(np.arange(k), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        leaf_idx = self._gene_order[lo[r_idx] + (np.arange(total) - starts)]
        if len(self._nogene):
            r_idx = np.concatenate([r_idx, np.repeat(np.arange(k), len(self._nogene))])
            leaf_idx = np.concatenate([leaf_idx, np.tile(self._nogene, k)])
        if not len(leaf_idx):
            return np.zeros(0, dtype=np.int64)
        g = self._g
        ok = (arr[r_idx, 1] & g["cat"][leaf_idx]) != 0
        for col, name in ((2, "prot"), (3, "wild"), (4, "exon"), (5, "cn"), (7, "vc")):
            want = g[name][leaf_idx]
            ok &= (want == NONE) | (arr[r_idx, col] == want)
        want = g["partner"][leaf_idx]
        have = arr[r_idx, 6]
        ok &= (
            (want == NONE)
            | ((want == PARTNER_ANY_GENE) & ((have >= 0) | (have == UNKNOWN_VALUE)))
            | ((want != PARTNER_ANY_GENE) & (want != NONE) & (have == want))
        )
        need_class = np.flatnonzero(ok & (g["klass"][leaf_idx] >= 0))
        for pos in need_class:
            name = self.classes.values[int(g["klass"][leaf_idx[pos]])]
            if name not in row_alts[int(r_idx[pos])].classes:
                ok[pos] = False
        return np.unique(g["node"][leaf_idx[ok]])

    def _scalar(self, leaf: Leaf, p: Patient) -> int:
        if isinstance(leaf, Numeric):
            value: float | None
            if leaf.field == "tmb":
                value = None if p.report is None else p.report.tmb
            elif leaf.field == "lab":
                assert leaf.lab is not None
                value = p.labs.get(leaf.lab)
            else:
                raw = getattr(p, leaf.field)
                value = None if raw is None else float(raw)
            if value is None or value != value:
                return U
            return T if leaf.range.contains(value) else F
        assert isinstance(leaf, Category)
        field = leaf.field
        if field == "diagnosis":
            if p.diagnosis is None:
                return U
            return T if self.diagnoses.contains(p.diagnosis, leaf.value) else F
        if field == "sex":
            return U if p.sex is None else (T if p.sex == leaf.value else F)
        if field == "prior_therapy":
            if p.prior_therapies is None:
                return U
            return T if leaf.value in p.prior_therapies else F
        if p.report is None:
            return U
        if field == "msi":
            return U if p.report.msi is None else (T if p.report.msi == leaf.value else F)
        return T if leaf.value in p.report.signatures else F

    # -- batch evaluation ---------------------------------------------------------------------

    def evaluate_index(self, index: PatientIndex, roots: Sequence[int]) -> dict[int, Bits]:
        """Packed *true* bitset over the index's patients for each root."""
        needed: set[int] = set()
        stack = list(roots)
        while stack:
            nid = stack.pop()
            if nid in needed:
                continue
            needed.add(nid)
            stack.extend(self.children[nid])
        order = sorted(needed)
        remaining: dict[int, int] = {}
        for nid in order:
            for c in self.children[nid]:
                remaining[c] = remaining.get(c, 0) + 1
        keep = set(roots)
        ctx = _BatchContext(self, index)
        tf: dict[int, tuple[Bits, Bits]] = {}
        out: dict[int, Bits] = {}
        for nid in order:
            kind = self.kind[nid]
            if kind == LEAF:
                leaf = self.leaf[nid]
                assert leaf is not None
                t, f = ctx.leaf(leaf)
            elif kind == NOT:
                ct, cf = tf[self.children[nid][0]]
                t, f = cf, ct
            else:
                kids = self.children[nid]
                t = tf[kids[0]][0].copy()
                f = tf[kids[0]][1].copy()
                if kind == AND:
                    for c in kids[1:]:
                        t &= tf[c][0]
                        f |= tf[c][1]
                else:
                    for c in kids[1:]:
                        t |= tf[c][0]
                        f &= tf[c][1]
            tf[nid] = (t, f)
            if nid in keep:
                out[nid] = t
            for c in self.children[nid]:
                remaining[c] -= 1
                if remaining[c] == 0:
                    del tf[c]
        return out


class _BatchContext:
    """Leaf bitsets over one index."""

    def __init__(self, plan: Plan, index: PatientIndex) -> None:
        self.plan = plan
        self.ix = index
        self.w = index.n_words
        self.reported = pack(index.p.reported, self.w)
        self._diag_luts: dict[str, NDArray[np.bool_]] = {}
        self._desc: dict[str, list[int]] | None = None

    def _tf(self, true: NDArray[np.bool_], known: NDArray[np.bool_]) -> tuple[Bits, Bits]:
        return pack(true & known, self.w), pack(known & ~true, self.w)

    def leaf(self, leaf: Leaf) -> tuple[Bits, Bits]:
        ix = self.ix
        p = ix.p
        if isinstance(leaf, Genomic):
            t = pack(self._genomic(leaf), self.w)
            return t, self.reported & ~t
        if isinstance(leaf, Numeric):
            if leaf.field == "lab":
                assert leaf.lab is not None
                col = p.labs.get(leaf.lab)
                if col is None:
                    zero = np.zeros(self.w, dtype=np.uint64)
                    return zero, zero.copy()
                values = col
            elif leaf.field == "tmb":
                values = p.tmb
            elif leaf.field == "age":
                values = p.age
            else:
                raw = p.ecog if leaf.field == "ecog" else p.prior_lines
                values = np.where(raw < 0, np.nan, raw.astype(float))
            known = ~np.isnan(values)
            return self._tf(_in_range(values, leaf.range), known)
        assert isinstance(leaf, Category)
        field = leaf.field
        if field == "diagnosis":
            lut = self._diag_lut(leaf.value)
            return self._tf(lut[p.diagnosis], p.diagnosis >= 0)
        if field == "sex":
            return self._tf(p.sex == SEXES.index(leaf.value), p.sex >= 0)
        if field == "msi":
            return self._tf(p.msi == MSI_STATUSES.index(leaf.value), p.msi >= 0)
        if field == "signature":
            sig = p.signatures.get(leaf.value)
            return self._tf(np.zeros(ix.n, dtype=bool) if sig is None else sig, p.reported)
        had = p.therapies.get(leaf.value)
        return self._tf(np.zeros(ix.n, dtype=bool) if had is None else had, p.therapies_known)

    def _diag_lut(self, criterion: str) -> NDArray[np.bool_]:
        lut = self._diag_luts.get(criterion)
        if lut is None:
            codes = self.ix.p.diagnosis_codes
            # the extra last entry serves code -1 (missing), masked as unknown anyway
            if criterion in (SOLID, LIQUID):
                lut = np.array(
                    [self.plan.diagnoses.contains(c, criterion) for c in codes] + [False], bool
                )
            else:
                lut = np.zeros(len(codes) + 1, dtype=bool)
                lut[self._descendants().get(criterion, [])] = True
            self._diag_luts[criterion] = lut
        return lut

    def _descendants(self) -> dict[str, list[int]]:
        """Criterion code -> positions of the index's diagnosis codes in its subtree."""
        if self._desc is None:
            self._desc = {}
            for i, code in enumerate(self.ix.p.diagnosis_codes):
                for anc in self.plan.diagnoses.ancestors(code):
                    self._desc.setdefault(anc, []).append(i)
        return self._desc

    def _genomic(self, leaf: Genomic) -> NDArray[np.bool_]:
        ix = self.ix
        if leaf.gene is not None:
            s, e = ix.gene_slice(leaf.gene)
        else:
            s, e = 0, ix.n_rows
        out = np.zeros(ix.n, dtype=bool)
        if s == e:
            return out
        m: NDArray[np.bool_] | None = None

        def both(x: NDArray[np.bool_]) -> None:
            nonlocal m
            m = x if m is None else (m & x)

        bits = criterion_bits(leaf.categories, leaf.origins)
        if bits != ALL_ROW_BITS:
            both((ix.r_category[s:e] & bits) != 0)
        for value, vocab, col in (
            (leaf.protein_change, ix.proteins, ix.r_protein),
            (leaf.wildcard_protein_change, ix.wildcards, ix.r_wildcard),
            (leaf.variant_classification, ix.vclasses, ix.r_vclass),
        ):
            if value is not None:
                code = vocab.ids.get(value)
                if code is None:
                    return out
                both(col[s:e] == code)
        if leaf.exon is not None:
            both(ix.r_exon[s:e] == leaf.exon)
        if leaf.cn_call is not None:
            both(ix.r_cn[s:e] == CN_CALLS.index(leaf.cn_call))
        if leaf.fusion_partner is not None:
            part = ix.r_partner[s:e]
            if leaf.fusion_partner == ANY_GENE:
                both(part >= 0)
            elif leaf.fusion_partner == INTERGENIC:
                both(part == PARTNER_INTERGENIC)
            else:
                code = ix.genes.ids.get(leaf.fusion_partner)
                if code is None:
                    return out
                both(part == code)
        if leaf.kb_class is not None:
            cls = ix.r_classes.get(leaf.kb_class)
            if cls is None:
                return out
            both(cls[s:e])
        patients = ix.r_patient[s:e] if m is None else ix.r_patient[s:e][m]
        out[patients] = True
        return out


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelMatches:
    """The patients matched at one level."""

    level: Level
    patient_ids: tuple[str, ...]


class Matcher:
    """Match sets of every level of every trial, kept up to date incrementally.

    Parameters
    ----------
    trials
        Parsed trials (:func:`~oncotrials.core.matching.trials.load_trials`).
    patients
        Patient records, or a prebuilt :class:`PatientIndex` (bulk loads; explanations then
        need the records of the patients asked about, see :meth:`upsert_patient`).
    oncotree
        The OncoTree (diagnosis subtrees); any :class:`OncoTreeLike`.

    Notes
    -----
    Match sets ignore open/closed status and vital status; :meth:`matches` filters them, so
    reopening a cohort needs no re-match. A patient matches a level when the level's criteria
    are *true* (three-valued logic; see ``docs/formats/criteria.md``).
    """

    def __init__(
        self,
        trials: Iterable[Trial],
        patients: Sequence[Patient] | PatientIndex,
        oncotree: OncoTreeLike,
    ) -> None:
        self.oncotree = oncotree
        self.plan = Plan(oncotree)
        if isinstance(patients, PatientIndex):
            self.index = patients
            self._records: dict[str, Patient] = {}
        else:
            for p in patients:
                self._check_patient(p)
            self.index = PatientIndex.from_patients(patients)
            self._records = {p.id: p for p in patients}
        self._ids: list[str] = list(self.index.p.ids)
        self._slot: dict[str, int] = dict(self.index.slot_of)
        self._alive = np.ones(len(self._ids), dtype=bool)
        self._deceased = self.index.p.deceased.copy()
        self._overlay: dict[int, Patient | None] = {}
        self._ov_cache: tuple[PatientIndex, NDArray[np.intp], NDArray[np.intp]] | None = None
        self._live_cache: NDArray[np.intp] | None = None
        self.trials: dict[str, Trial] = {}
        self._levels: list[Level | None] = []
        self._roots = np.zeros(0, dtype=np.intp)
        self._row_of: dict[tuple[str, str], int] = {}
        # room for ~12% new patients before the bit matrix has to grow
        self.bits = np.zeros((0, self.index.n_words + self.index.n_words // 8 + 1), np.uint64)
        for trial in trials:
            if trial.id in self.trials:
                raise ValidationError(
                    f"trial id {trial.id!r} is given twice; ids must be unique.",
                    code="matching_trial_id_given_twice",
                    id=repr(trial.id),
                )
            self._register(trial)
        self.plan.seal()
        self.run_full()

    # -- state helpers ------------------------------------------------------------------------

    def _check_patient(self, p: Patient) -> None:
        if p.diagnosis is not None and p.diagnosis not in set(self._codes()):
            raise ValidationError(
                f"patient {p.id!r}: diagnosis {p.diagnosis!r} is not an OncoTree code; "
                "use a code such as 'LUAD'.",
                code="matching_patient_diagnosis_oncotree_code",
                id=repr(p.id),
                diagnosis=repr(p.diagnosis),
            )

    def _codes(self) -> set[str]:
        codes = getattr(self, "_code_set", None)
        if codes is None:
            codes = set(self.oncotree.codes())
            self._code_set = codes
        return codes

    def _register(self, trial: Trial) -> list[int]:
        """Compile a trial's levels and give each a row (bits left empty)."""
        rows: list[int] = []
        roots: list[int] = []
        for level in trial.levels:
            roots.append(self.plan.add(level.criteria))
        for level in trial.levels:
            row = len(self._levels)
            self._levels.append(level)
            self._row_of[level.key] = row
            rows.append(row)
        self._roots = np.concatenate([self._roots, np.array(roots, dtype=np.intp)])
        self._live_cache = None
        self.trials[trial.id] = trial
        need = len(self._levels)
        if need > self.bits.shape[0]:
            grown = np.zeros((max(need, 2 * self.bits.shape[0]), self.bits.shape[1]), np.uint64)
            grown[: self.bits.shape[0]] = self.bits
            self.bits = grown
        return rows

    def _ensure_words(self, slots: int) -> None:
        words = max(1, (slots + 63) // 64)
        if words > self.bits.shape[1]:
            grown = np.zeros((self.bits.shape[0], max(words, 2 * self.bits.shape[1])), np.uint64)
            grown[:, : self.bits.shape[1]] = self.bits
            self.bits = grown

    def _evaluate_rows(self, rows: list[int]) -> None:
        """Batch-evaluate ``rows`` over the base index, then correct the overlay patients."""
        roots = [int(self._roots[r]) for r in rows]
        result = self.plan.evaluate_index(self.index, roots)
        w = self.index.n_words
        for row, root in zip(rows, roots, strict=True):
            self.bits[row] = 0
            self.bits[row, :w] = result[root]
        if not self._overlay:
            return
        # Patients added, changed or removed since the base index was built: one batch over a
        # small index of them, then their columns replace the base's.
        ov_index, ov_slots, dead = self._overlay_view()
        ov_result = self.plan.evaluate_index(ov_index, roots) if ov_index.n else {}
        n, words = len(self._ids), self.bits.shape[1]
        for row, root in zip(rows, roots, strict=True):
            full = unpack(self.bits[row], n)
            full[dead] = False
            if ov_index.n:
                full[ov_slots] = unpack(ov_result[root], ov_index.n)
            self.bits[row] = pack(full, words)

    def _overlay_view(self) -> tuple[PatientIndex, NDArray[np.intp], NDArray[np.intp]]:
        if self._ov_cache is None:
            live = [(s, p) for s, p in sorted(self._overlay.items()) if p is not None]
            dead = [s for s, p in self._overlay.items() if p is None]
            self._ov_cache = (
                PatientIndex.from_patients([p for _, p in live]),
                np.array([s for s, _ in live], dtype=np.intp),
                np.array(dead, dtype=np.intp),
            )
        return self._ov_cache

    def _set_column(self, slot: int, matched: NDArray[np.bool_], rows: NDArray[np.intp]) -> None:
        word, bit = divmod(slot, 64)
        mask = np.uint64(1) << np.uint64(bit)
        col = self.bits[rows, word]
        col &= ~mask
        col |= matched.astype(np.uint64) << np.uint64(bit)
        self.bits[rows, word] = col

    def _live_rows(self) -> list[int]:
        return [i for i, lvl in enumerate(self._levels) if lvl is not None]

    def _live_array(self) -> NDArray[np.intp]:
        if self._live_cache is None:
            self._live_cache = np.array(self._live_rows(), dtype=np.intp)
        return self._live_cache

    # -- operations ---------------------------------------------------------------------------

    def run_full(self) -> None:
        """Re-match every patient against every level from scratch."""
        self.bits[:] = 0
        self._evaluate_rows(self._live_rows())

    def compact(self) -> None:
        """Fold the patients added, changed or removed since start-up into one new index and
        re-match everything from it (the same results; faster batches afterwards)."""
        if not self._overlay:
            return
        base_keep = np.array(
            [s for s in range(self.index.n) if self._alive[s] and s not in self._overlay],
            dtype=np.intp,
        )
        extra = [p for _, p in sorted(self._overlay.items()) if p is not None]
        self.index = self.index.merged(base_keep, extra)
        self._ids = list(self.index.p.ids)
        self._slot = dict(self.index.slot_of)
        self._alive = np.ones(len(self._ids), dtype=bool)
        self._deceased = self.index.p.deceased.copy()
        self._overlay = {}
        self._ov_cache = None
        words = self.index.n_words + self.index.n_words // 8 + 1
        self.bits = np.zeros((self.bits.shape[0], words), dtype=np.uint64)
        self.run_full()

    def upsert_patient(self, patient: Patient) -> list[Level]:
        """A report arrived or a patient changed: re-match that patient only.

        Returns the levels the patient now matches (any status)."""
        self._check_patient(patient)
        self.plan.seal()
        slot = self._slot.get(patient.id)
        if slot is None:
            slot = len(self._ids)
            self._ids.append(patient.id)
            self._slot[patient.id] = slot
            self._alive = np.append(self._alive, True)
            self._deceased = np.append(self._deceased, patient.deceased)
            self._ensure_words(slot + 1)
        self._alive[slot] = True
        self._deceased[slot] = patient.deceased
        self._overlay[slot] = patient
        self._ov_cache = None
        self._records[patient.id] = patient
        rows = self._live_array()
        if not len(rows):
            return []
        matched = self.plan.evaluate_patient(patient)[self._roots[rows]] == T
        self._set_column(slot, matched, rows)
        levels = self._levels
        return [lvl for r in rows[matched] if (lvl := levels[r]) is not None]

    def remove_patient(self, patient_id: str) -> None:
        slot = self._slot.get(patient_id)
        if slot is None or not self._alive[slot]:
            raise NotFoundError(
                f"patient {patient_id!r} is not in the matching set.",
                code="matching_patient_matching_set",
                patient_id=repr(patient_id),
            )
        self._alive[slot] = False
        self._overlay[slot] = None
        self._ov_cache = None
        self._records.pop(patient_id, None)
        rows = self._live_array()
        if len(rows):
            self._set_column(slot, np.zeros(len(rows), dtype=bool), rows)

    def upsert_trial(self, trial: Trial) -> None:
        """A trial was added or amended: re-match that trial against every patient."""
        if trial.id in self.trials:
            self._drop_trial(trial.id)
        rows = self._register(trial)
        self.plan.seal()
        self._evaluate_rows(rows)

    def remove_trial(self, trial_id: str) -> None:
        if trial_id not in self.trials:
            raise NotFoundError(
                f"trial {trial_id!r} is not in the matching set.",
                code="matching_trial_matching_set",
                trial_id=repr(trial_id),
            )
        self._drop_trial(trial_id)

    def _drop_trial(self, trial_id: str) -> None:
        trial = self.trials.pop(trial_id)
        self._live_cache = None
        for level in trial.levels:
            row = self._row_of.pop(level.key)
            self._levels[row] = None
            self.bits[row] = 0

    # -- queries ------------------------------------------------------------------------------

    def _visible(self, include_deceased: bool) -> NDArray[np.bool_]:
        mask = self._alive.copy()
        if not include_deceased:
            mask &= ~self._deceased
        return mask

    def matches(
        self, *, include_closed: bool = False, include_deceased: bool = False
    ) -> list[LevelMatches]:
        """Matched patients per level (closed levels and deceased patients left out by default)."""
        visible = self._visible(include_deceased)
        n = len(self._ids)
        out: list[LevelMatches] = []
        for row in self._live_rows():
            level = self._levels[row]
            assert level is not None
            if not include_closed and not level.open:
                continue
            slots = np.flatnonzero(unpack(self.bits[row], n) & visible)
            out.append(LevelMatches(level, tuple(self._ids[s] for s in slots)))
        return out

    def match_sets(self) -> dict[tuple[str, str], frozenset[str]]:
        """Every level's matched patient ids, whatever the status (for comparisons)."""
        alive = self._alive
        n = len(self._ids)
        out: dict[tuple[str, str], frozenset[str]] = {}
        for row in self._live_rows():
            level = self._levels[row]
            assert level is not None
            slots = np.flatnonzero(unpack(self.bits[row], n) & alive)
            out[level.key] = frozenset(self._ids[s] for s in slots)
        return out

    def has_patient(self, patient_id: str) -> bool:
        slot = self._slot.get(patient_id)
        return slot is not None and bool(self._alive[slot])

    def levels_for_patient(self, patient_id: str, *, include_closed: bool = False) -> list[Level]:
        slot = self._slot.get(patient_id)
        if slot is None or not self._alive[slot]:
            raise NotFoundError(
                f"patient {patient_id!r} is not in the matching set; check the id.",
                code="matching_patient_matching_set_check",
                patient_id=repr(patient_id),
            )
        word, bit = divmod(slot, 64)
        out: list[Level] = []
        for row in self._live_rows():
            level = self._levels[row]
            assert level is not None
            if (int(self.bits[row, word]) >> bit) & 1 and (include_closed or level.open):
                out.append(level)
        return out

    def explain(
        self, patient_id: str, trial_id: str | None = None
    ) -> list[tuple[Level, bool, Explanation]]:
        """Criterion-by-criterion explanation for a patient at every level (of one trial).

        The second item says whether the patient is matched at that level.
        """
        patient = self._records.get(patient_id)
        if patient is None:
            raise NotFoundError(
                f"no record of patient {patient_id!r} to explain; load the patient's record.",
                code="matching_record_patient_explain_load",
                patient_id=repr(patient_id),
            )
        if trial_id is not None and trial_id not in self.trials:
            raise NotFoundError(
                f"trial {trial_id!r} is not loaded; check the trial id.",
                code="matching_trial_loaded_check_trial",
                trial_id=repr(trial_id),
            )
        trials = [self.trials[trial_id]] if trial_id is not None else list(self.trials.values())
        slot = self._slot[patient_id]
        word, bit = divmod(slot, 64)
        out: list[tuple[Level, bool, Explanation]] = []
        for trial in trials:
            for level in trial.levels:
                row = self._row_of[level.key]
                matched = bool((int(self.bits[row, word]) >> bit) & 1)
                out.append((level, matched, explain(level.criteria, patient, self.oncotree)))
        return out

    @property
    def levels(self) -> list[Level]:
        return [lvl for lvl in self._levels if lvl is not None]


__all__ = [
    "LevelMatches",
    "Matcher",
    "Plan",
    "pack",
    "unpack",
]
