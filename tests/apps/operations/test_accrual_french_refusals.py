"""The accrual core's refusal of a forecast (framework-free) reads in French on the trial's
accrual for a French user, and in the core's English otherwise; a plan without target says so in
both languages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils.translation import override

from oncotrials.apps.operations.analytics import trial_accrual
from oncotrials.apps.operations.services import accrual_plan_save

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)


def _accrual(journey: Any, *, french: bool) -> Any:
    with override("fr" if french else "en"):
        return trial_accrual(
            trial=journey.cohort.trial, user=journey.unit.users["admin"], today=TODAY
        )


def test_a_centre_recruiting_before_it_opens_is_refused_in_french(enrol: Any, journey: Any):
    """With three centres open the Poisson-gamma model runs, and refuses a planned centre that
    already counts patients."""
    enrol(3)
    accrual_plan_save(
        trial=journey.cohort.trial,
        cohort=None,
        target=40,
        starts_on=dt.date(2026, 1, 1),
        duration_months=24,
        certainty=0.5,
        by=journey.unit.users["admin"],
        external_centres=[
            {"name": "Lyon", "opens_on": "2026-02-01", "recruited": 4},
            {"name": "Bordeaux", "opens_on": "2026-03-01", "recruited": 2},
            {"name": "Lille", "opens_on": "2027-01-15", "recruited": 3},
        ],
    )
    english = _accrual(journey, french=False)
    assert english.result is None
    assert english.problem.startswith("Centre Lille opens at ")
    assert english.problem.endswith("yet has 3 patients.")
    french = _accrual(journey, french=True)
    assert french.result is None
    assert french.problem.startswith("Le centre Lille ouvre à ")
    assert french.problem.endswith("et compte pourtant 3 patients.")
    assert "after now" not in french.problem


def test_a_trial_without_target_says_so_in_french(journey: Any):
    assert _accrual(journey, french=False).problem == (
        "No target: save an accrual plan or give the cohorts a target accrual."
    )
    assert _accrual(journey, french=True).problem == (
        "Pas d’objectif : enregistrez un plan d’inclusion ou donnez aux cohortes un objectif "
        "d’inclusion."
    )
