"""Property: after any sequence of database changes, the incrementally updated engine equals a
full re-match (reports arriving, patients added, criteria amended, cohorts closed)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_helpers import TODAY, import_report, make_patient, precision_unit

VARIANTS = [
    {"gene": "KRAS", "protein_change": "p.G12C"},
    {"gene": "KRAS", "protein_change": "p.G12D"},
    {"gene": "BRAF", "protein_change": "p.V600E"},
    {"gene": "BRAF", "protein_change": "p.V600K"},
    {"gene": "TP53", "protein_change": "p.R273H"},
]
CRITERIA = [
    {"genomic": {"gene": "KRAS", "wildcard_protein_change": "p.G12"}},
    {"and": [{"diagnosis": "NSCLC"}, {"not": {"genomic": {"gene": "TP53"}}}]},
    {"or": [{"genomic": {"gene": "BRAF"}}, {"age": {"lt": 60}}]},
    {"and": [{"sex": "male"}, {"genomic": {"gene": "KRAS", "category": "mutation"}}]},
    None,
]
op = st.one_of(
    st.tuples(st.just("patient"), st.sampled_from(["LUAD", "COAD", "BRCA", ""]), st.booleans()),
    st.tuples(
        st.just("report"), st.integers(0, 50), st.lists(st.sampled_from(VARIANTS), max_size=3)
    ),
    st.tuples(st.just("criteria"), st.integers(0, 2), st.sampled_from(CRITERIA)),
)


@pytest.fixture
def unit_p(unit: Any, tmp_path: Any) -> Any:
    from oncotrials.apps.matching.engine import reset_matching_cache

    reset_matching_cache()
    yield precision_unit(unit, tmp_path)
    reset_matching_cache()


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(op, min_size=1, max_size=4))
def test_incremental_equals_full_after_any_changes(
    unit_p: Any, tmp_path: Any, ops: list[Any]
) -> None:
    from oncotrials.apps.matching.criteria import match_criteria_set
    from oncotrials.apps.matching.engine import build_full_state, matching_state
    from oncotrials.apps.subjects.models import Patient

    matching_state(today=TODAY)
    cohorts = [unit_p.g12c, unit_p.braf, unit_p.her2]
    for kind, a, b in ops:
        if kind == "patient":
            p = make_patient(unit_p.unit.main, unit_p.unit.users["nurse"], diagnosis=a, sex="M")
            if b:
                import_report(tmp_path, p, variants=[VARIANTS[0]])
        elif kind == "report":
            patients = list(Patient.objects.order_by("pk"))
            import_report(tmp_path, patients[a % len(patients)], variants=list(b))
        else:
            trial = unit_p.trial
            trial.refresh_from_db()
            match_criteria_set(
                trial=trial,
                cohort_id=cohorts[a].pk,
                criteria=b,
                by=unit_p.unit.users["admin"],
                reason="amendment",
                expected_version=trial.version,
            )
        later = matching_state(today=TODAY)
        assert later.matcher.match_sets() == build_full_state(today=TODAY).matcher.match_sets()
