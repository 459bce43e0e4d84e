"""CP-SAT on small slices of the week (deterministic mode: one worker, fixed seed, CP-SAT's
deterministic time), checked by the independent validator. The full week runs in
``bench/scheduling.py`` only."""

from __future__ import annotations

import pytest

from fixtures.scheduling import chair, tiny_doc, wednesday_doc
from oncotrials.core.errors import ValidationError
from oncotrials.core.scheduling import first_fit, load_instance, objective, solve, validate


def tight_slice():
    """20 Wednesday chair visits and 2 ward stays on 4 chairs and 2 nurses: the first-fit
    leaves 6 requests unplanned (8,130), so there is room for CP-SAT to improve."""
    doc = wednesday_doc(20, 2)
    doc["chairs"] = 4
    doc["nurse_profile"] = [[96, 228, 2]]
    return load_instance(doc)


@pytest.fixture(scope="module")
def tight():
    return tight_slice()


@pytest.fixture(scope="module")
def solved(tight):
    seen: list[tuple[float, int, float]] = []
    result = solve(tight, time_limit=0.3, deterministic=True, progress=lambda *a: seen.append(a))
    return result, seen


def test_first_fit_of_the_slice(tight):
    plan = first_fit(tight)
    assert objective(tight, plan) == 8130
    assert validate(tight, plan) == []


def test_solve_improves_on_the_first_fit_and_is_valid(tight, solved):
    result, _ = solved
    assert result.first_fit_objective == 8130
    assert result.objective < 8130
    assert validate(tight, result.solution) == []
    assert objective(tight, result.solution) == result.objective
    assert set(result.unscheduled) == {v.id for v in tight.visits} - set(result.solution)
    assert result.status in {"FEASIBLE", "OPTIMAL"}
    assert result.cpu_seconds > 0
    assert result.wall_seconds > 0


def test_bound_and_gap(solved):
    result, _ = solved
    # the two ward stays are always placed; the bound is at least what is proved for them
    assert result.lower_bound is not None
    assert 0 < result.lower_bound <= result.objective
    assert result.gap is not None
    assert 0 <= result.gap < 1


def test_progress_reports_a_falling_objective(solved):
    result, seen = solved
    assert seen[0][1] == 8130  # the first-fit, reported first
    values = [v for _, v, _ in seen]
    assert values == sorted(values, reverse=True)
    assert len(set(values)) == len(values)
    assert values[-1] == result.objective
    times = [t for t, _, _ in seen]
    assert times == sorted(times)
    assert [v for _, v in result.trace] == values


def test_deterministic_mode_repeats_itself(tight, solved):
    again = solve(tight, time_limit=0.3, deterministic=True)
    assert again.solution == solved[0].solution


def test_without_decomposition(tight):
    result = solve(tight, time_limit=0.2, deterministic=True, decompose=False)
    assert result.objective <= 8130
    assert validate(tight, result.solution) == []


def test_proves_a_small_optimum():
    # one chair, three 18-slot visits due Monday (a second day allowed at 20 each): back to
    # back on Monday the makespan is 54; moving one to Tuesday costs 20 + 18 + makespan 36
    doc = tiny_doc([chair(x, [0, 1], target=0) for x in "ABC"], chairs=1)
    instance = load_instance(doc)
    result = solve(instance, time_limit=2, deterministic=True)
    assert result.objective == 54
    assert result.status == "OPTIMAL"
    assert result.lower_bound == 54
    assert validate(instance, result.solution) == []


def test_time_limit_must_be_positive(tight):
    with pytest.raises(ValidationError, match="time_limit"):
        solve(tight, time_limit=0)
