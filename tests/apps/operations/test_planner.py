"""The week planner: the instance built from the database is solved (the engine hinted by its
first fit), the plan passes the independent validator, and saving it books the week."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.operations import tasks
from oncotrials.apps.operations.models import Booking, PlanRun
from oncotrials.apps.operations.services import (
    care_request_create,
    plan_run_execute,
    plan_run_save,
    plan_run_start,
)
from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError
from oncotrials.core.scheduling import load_instance, validate

# The Monday of the week the tests plan (as in tests/apps/operations/conftest.py).
MONDAY = dt.date(2026, 11, 16)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(monkeypatch: Any) -> list[int]:
    """Runs queued, not started: the test runs them itself (no thread)."""
    ids: list[int] = []
    monkeypatch.setattr(tasks, "plan_run_dispatch", ids.append)
    return ids


def _requests(site: Any, by: Any, n: int) -> None:
    for i in range(n):
        care_request_create(
            site=site,
            data={
                "label": f"P-{i:02d} infusion",
                "unit": "chair",
                "earliest": MONDAY,
                "latest": MONDAY + dt.timedelta(days=4),
                "target": MONDAY + dt.timedelta(days=i % 5),
                "duration_min": 180 if i % 2 else 60,
                "pre_min": 30,
                "prep_min": 30,
                "sample_offsets": [0, 30] if i % 3 == 0 else [],
                "weight": 3 if i % 3 == 0 else 1,
            },
            by=by,
        )


def test_a_solved_week_is_valid_and_saved_as_bookings(
    equipped: Any, manager: Any, queued: list[int]
) -> None:
    _requests(equipped.main, manager, 14)
    run = plan_run_start(site=equipped.main, monday=MONDAY, time_limit=3, by=manager)
    assert queued == [run.pk]  # queued after the commit
    run = plan_run_execute(run_id=run.pk, deterministic=True)
    assert run.status == "done", run.error
    assert run.objective is not None
    assert run.first_fit_objective is not None
    assert run.objective <= run.first_fit_objective
    solution = {k: tuple(v) for k, v in run.solution.items()}
    assert validate(load_instance(run.instance), solution) == []
    saved = plan_run_save(run=run, by=manager)
    assert len(saved) == len(solution) == Booking.objects.count()
    # Wednesday is closed: nothing is booked on it.
    assert not any(b.starts_at.date() == MONDAY + dt.timedelta(days=2) for b in saved)
    with pytest.raises(ConflictError):
        plan_run_save(run=PlanRun.objects.get(pk=run.pk), by=manager)


def test_an_empty_week_is_refused_and_nothing_is_queued(
    equipped: Any, manager: Any, queued: list[int]
) -> None:
    before = (PlanRun.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as err:
        plan_run_start(site=equipped.main, monday=MONDAY, time_limit=3, by=manager)
    assert err.value.extra["field"] == "week"
    with pytest.raises(ValidationError) as err:
        plan_run_start(site=equipped.main, monday=MONDAY, time_limit=0, by=manager)
    assert err.value.extra["field"] == "time_limit"
    assert (PlanRun.objects.count(), AuditEvent.objects.count()) == before
    assert queued == []


def test_only_a_manager_plans(equipped: Any, manager: Any, queued: list[int]) -> None:
    _requests(equipped.main, manager, 2)
    for name in ("investigator", "nurse", "partner_investigator", "monitor"):
        with pytest.raises(PermissionDeniedError):
            plan_run_start(site=equipped.main, monday=MONDAY, time_limit=3, by=equipped.users[name])
    assert not PlanRun.objects.exists()


def test_the_planner_pages_follow_the_run(
    equipped: Any, manager: Any, queued: list[int], client_for: Any
) -> None:
    _requests(equipped.main, manager, 4)
    c = client_for("manager")
    page = c.get(f"/operations/planner/?site={equipped.main.pk}&week={MONDAY}")
    assert page.status_code == 200
    assert page.context["chair_visits"] == 4
    started = c.post(
        "/operations/planner/",
        {"site": equipped.main.pk, "week": MONDAY.isoformat(), "time_limit": "2"},
    )
    assert started.status_code == 302
    run = PlanRun.objects.get()
    polled = c.get(f"/operations/planner/runs/{run.pk}/progress/")
    assert 'hx-trigger="every 1s"' in polled.content.decode()  # still queued: keep polling
    plan_run_execute(run_id=run.pk, deterministic=True)
    done = c.get(f"/operations/planner/runs/{run.pk}/progress/").content.decode()
    assert "hx-trigger" not in done
    assert 'data-testid="save-plan"' in done
    saved = c.post(f"/operations/planner/runs/{run.pk}/save/")
    assert saved.status_code == 302
    assert Booking.objects.count() == 4 - len(PlanRun.objects.get().unscheduled)
    # A nurse of the site sees the run but may not save or start one.
    nurse = client_for("nurse")
    assert nurse.get(f"/operations/planner/runs/{run.pk}/").status_code == 200
    assert (
        nurse.post(
            "/operations/planner/", {"site": equipped.main.pk, "week": MONDAY.isoformat()}
        ).status_code
        == 403
    )
    # The partner's investigator does not see the main site's run.
    assert (
        client_for("partner_investigator").get(f"/operations/planner/runs/{run.pk}/").status_code
        == 404
    )
