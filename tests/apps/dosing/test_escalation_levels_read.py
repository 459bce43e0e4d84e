"""The escalation's recommendation reads its cohort's dose levels once, and a level added later
is in the next recommendation."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from oncotrials.apps.dosing.models import EscalationPlan
from oncotrials.apps.dosing.services import escalation_recommend, plan_create
from oncotrials.apps.trials.services import dose_level_create


def _level_reads(queries) -> int:
    """Reads of the cohort's dose levels (not the plan's current level, read by its id)."""
    return sum('WHERE "trials_doselevel"."cohort_id"' in q["sql"] for q in queries)


def test_recommendation_reads_the_dose_levels_once_and_sees_a_new_level(journey):
    admin = journey.unit.users["admin"]
    dose_level_create(
        cohort=journey.cohort, level=2, agent="Drug B", dose="100", unit="mg", by=admin
    )
    plan = plan_create(
        cohort=journey.cohort,
        design="3+3",
        start_level=journey.dose_level,
        by=journey.unit.users["investigator"],
    )
    with CaptureQueriesContext(connection) as queries:
        state, rec = escalation_recommend(plan=EscalationPlan.objects.get(pk=plan.pk))
    assert [s.dose_level.level for s in state] == [1, 2]
    assert rec.next_dose is not None
    assert _level_reads(queries) == 1  # the state, the current level and the settings share it

    dose_level_create(
        cohort=journey.cohort, level=3, agent="Drug B", dose="200", unit="mg", by=admin
    )
    state, _rec = escalation_recommend(plan=EscalationPlan.objects.get(pk=plan.pk))
    assert [s.dose_level.level for s in state] == [1, 2, 3]
