"""Property-based specification: the compiled engine equals the direct evaluator, and
incremental re-matching equals a full re-match, on random patients and random criteria."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_strategies import SMALL_TREE, patient_lists, patients, trees

from oncotrials.core.matching import (
    Alteration,
    Category,
    Genomic,
    GenomicReport,
    Level,
    Matcher,
    Node,
    Not,
    Numeric,
    Patient,
    PatientIndex,
    Plan,
    Range,
    Trial,
    Truth,
    evaluate,
)
from oncotrials.core.matching.criteria import walk
from oncotrials.core.matching.engine import unpack

SETTINGS = settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(pts=patient_lists(), criteria=st.lists(trees, min_size=1, max_size=4))
def test_batch_engine_equals_direct_evaluation(pts: list[Patient], criteria: list[Node]) -> None:
    # every sub-criterion is compared, not only the roots
    criteria = [n for c in criteria for n in walk(c)]
    plan = Plan(SMALL_TREE)
    roots = [plan.add(c) for c in criteria]
    plan.seal()
    index = PatientIndex.from_patients(pts)
    result = plan.evaluate_index(index, roots)
    for node, root in zip(criteria, roots, strict=True):
        matched = unpack(result[root], index.n)
        expected = [evaluate(node, p, SMALL_TREE) == Truth.TRUE for p in pts]
        assert matched.tolist() == expected


@SETTINGS
@given(pts=patient_lists(6), criteria=st.lists(trees, min_size=1, max_size=4))
def test_single_patient_engine_equals_direct_three_valued_evaluation(
    pts: list[Patient], criteria: list[Node]
) -> None:
    criteria = [n for c in criteria for n in walk(c)]
    plan = Plan(SMALL_TREE)
    roots = [plan.add(c) for c in criteria]
    plan.seal()
    for p in pts:
        values = plan.evaluate_patient(p)
        got = [Truth(int(values[r])) for r in roots]
        assert got == [evaluate(c, p, SMALL_TREE) for c in criteria]


def _trial(tid: str, criteria: list[Node], open_: bool = True) -> Trial:
    levels = tuple(
        Level(tid, "cohort", f"C{i}", f"C{i}", open_, None, c) for i, c in enumerate(criteria)
    )
    return Trial(tid, tid, open_, levels)


trial_lists = st.lists(st.lists(trees, min_size=1, max_size=3), min_size=0, max_size=3)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("patient"), st.integers(0, 15), st.data()),
        st.tuples(st.just("remove_patient"), st.integers(0, 15), st.none()),
        st.tuples(st.just("trial"), st.integers(0, 4), st.lists(trees, min_size=1, max_size=3)),
        st.tuples(st.just("remove_trial"), st.integers(0, 4), st.none()),
    ),
    max_size=8,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pts=patient_lists(8), initial=trial_lists, ops=operations)
def test_incremental_rematch_equals_full_rematch(
    pts: list[Patient], initial: list[list[Node]], ops: list[tuple[str, int, object]]
) -> None:
    trials = {f"T{i}": _trial(f"T{i}", c) for i, c in enumerate(initial)}
    current = {p.id: p for p in pts}
    matcher = Matcher(list(trials.values()), pts, SMALL_TREE)
    for kind, number, payload in ops:
        if kind == "patient":
            assert isinstance(payload, st.DataObject)
            patient = payload.draw(patients(f"P{number}"))
            current[patient.id] = patient
            matcher.upsert_patient(patient)
        elif kind == "remove_patient":
            if f"P{number}" in current:
                del current[f"P{number}"]
                matcher.remove_patient(f"P{number}")
        elif kind == "trial":
            assert isinstance(payload, list)
            trials[f"T{number}"] = _trial(f"T{number}", payload)
            matcher.upsert_trial(trials[f"T{number}"])
        elif f"T{number}" in trials:
            del trials[f"T{number}"]
            matcher.remove_trial(f"T{number}")
    fresh = Matcher(list(trials.values()), list(current.values()), SMALL_TREE)
    assert matcher.match_sets() == fresh.match_sets()
    # a full re-match of the incremental state changes nothing, nor does folding the updates
    # into a new index (compaction) and re-matching from it
    before = matcher.match_sets()
    matcher.run_full()
    assert matcher.match_sets() == before
    matcher.compact()
    assert matcher.match_sets() == before
    assert sorted(matcher.index.p.ids) == sorted(current)


def test_bitsets_ignore_padding_beyond_the_last_patient() -> None:
    # 65 patients need two words; the unused bits of the second word stay zero.
    pts = [Patient(f"P{i}", age=30.0) for i in range(65)]
    plan = Plan(SMALL_TREE)
    root = plan.add(Not(age_under_18()))
    plan.seal()
    bits = plan.evaluate_index(PatientIndex.from_patients(pts), [root])[root]
    assert int(np.bitwise_count(bits).sum()) == 65


def age_under_18() -> Node:

    return Numeric("age", Range(lt=18.0))


@SETTINGS
@given(
    base=patient_lists(8),
    extra=st.lists(st.sampled_from(range(8)), max_size=6, unique=True).flatmap(
        lambda ids: st.tuples(*[patients(f"N{i}") for i in ids]).map(list)
    ),
    keep_bits=st.lists(st.booleans(), min_size=8, max_size=8),
    criteria=st.lists(trees, min_size=1, max_size=3),
)
def test_merged_index_equals_index_built_from_scratch(
    base: list[Patient],
    extra: list[Patient],
    keep_bits: list[bool],
    criteria: list[Node],
) -> None:
    criteria = [n for c in criteria for n in walk(c)]
    keep = [i for i in range(len(base)) if keep_bits[i]]
    merged = PatientIndex.from_patients(base).merged(np.array(keep, dtype=np.intp), extra)
    direct = PatientIndex.from_patients([base[i] for i in keep] + extra)
    assert merged.p.ids == direct.p.ids
    plan = Plan(SMALL_TREE)
    roots = [plan.add(c) for c in criteria]
    plan.seal()
    got, want = plan.evaluate_index(merged, roots), plan.evaluate_index(direct, roots)
    for root in roots:
        assert (got[root] == want[root]).all()


def test_merged_index_remaps_every_vocabulary() -> None:
    # base and extra patients intern their strings in different orders
    def pt(pid: str, gene: str, protein: str, vc: str, diag: str, partner: str) -> Patient:
        alts = (
            Alteration(gene, protein_change=protein, variant_classification=vc),
            Alteration(gene, "sv", fusion_partner=partner),
        )
        return Patient(pid, diagnosis=diag, report=GenomicReport(alts))

    base = [pt("a", "EGFR", "p.L858R", "Missense_Mutation", "LUAD", "KRAS")]
    extra = [pt("b", "KRAS", "p.G12C", "Nonsense", "IDC", "EGFR")]
    merged = PatientIndex.from_patients(base).merged(np.array([0], dtype=np.intp), extra)
    plan = Plan(SMALL_TREE)
    crits: list[Node] = [
        Genomic(gene="KRAS", protein_change="p.G12C", variant_classification="Nonsense"),
        Genomic(gene="KRAS", wildcard_protein_change="P.G12"),
        Genomic(gene="KRAS", fusion_partner="EGFR"),
        Genomic(gene="EGFR", fusion_partner="KRAS"),
        age_under_18(),
    ]
    crits.append(Category("diagnosis", "BREAST"))
    roots = [plan.add(c) for c in crits]
    plan.seal()
    result = plan.evaluate_index(merged, roots)
    got = [unpack(result[r], 2).tolist() for r in roots]
    assert got == [
        [False, True],
        [False, True],
        [True, True],  # a fusion between the two genes, both orientations, in both patients
        [True, True],
        [False, False],
        [False, True],
    ]
