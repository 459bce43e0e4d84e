"""Accrual forecasts and activity reports over the database: the plan, the centres, the scope,
and the exports."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.operations.analytics import activity_for, trial_accrual
from oncotrials.apps.operations.models import AccrualPlan
from oncotrials.apps.operations.services import accrual_plan_save
from oncotrials.core.errors import PermissionDeniedError, ValidationError

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)


def _plan(journey: Any, **extra: Any) -> Any:
    return accrual_plan_save(
        trial=journey.cohort.trial,
        cohort=None,
        target=40,
        starts_on=dt.date(2026, 1, 1),
        duration_months=24,
        certainty=0.5,
        by=journey.unit.users["admin"],
        **extra,
    )


def test_forecast_counts_the_registrations_the_user_may_see(enrol: Any, journey: Any) -> None:
    enrol(3)
    enrol(2, site="partner")
    _plan(journey)
    trial = journey.cohort.trial
    admin = trial_accrual(trial=trial, user=journey.unit.users["admin"], today=TODAY)
    partner = trial_accrual(
        trial=trial, user=journey.unit.users["partner_investigator"], today=TODAY
    )
    assert admin.result is not None
    assert admin.result.accrued == 5
    assert partner.result is not None
    assert partner.result.accrued == 2
    assert admin.result.poisson_gamma is None  # two centres: Gajewski only
    assert admin.best_dates is not None


def test_other_centres_bring_the_poisson_gamma_model(enrol: Any, journey: Any) -> None:
    enrol(3)
    _plan(
        journey,
        external_centres=[
            {"name": "Lyon", "opens_on": "2026-02-01", "recruited": 4},
            {"name": "Bordeaux", "opens_on": "2026-03-01", "recruited": 2},
            {"name": "Lille", "opens_on": "2027-01-15", "recruited": 0},
        ],
    )
    acc = trial_accrual(trial=journey.cohort.trial, user=journey.unit.users["admin"], today=TODAY)
    assert acc.result is not None
    assert acc.result.accrued == 9
    assert acc.result.poisson_gamma is not None
    assert acc.result.pg_simulated is not None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target": 0}, "target"),
        ({"duration_months": -1}, "duration_months"),
        ({"certainty": 1.5}, "certainty"),
        ({"external_centres": [{"name": "X", "opens_on": "soon"}]}, "external_centres"),
        (
            {"external_centres": [{"name": "X", "opens_on": "2026-01-01", "recruited": -2}]},
            "external_centres[0].recruited",
        ),
    ],
)
def test_a_bad_plan_names_the_field_and_saves_nothing(
    journey: Any, kwargs: dict[str, Any], field: str
) -> None:
    base = {
        "trial": journey.cohort.trial,
        "cohort": None,
        "target": 40,
        "starts_on": dt.date(2026, 1, 1),
        "duration_months": 24.0,
        "certainty": 0.5,
        "by": journey.unit.users["admin"],
    }
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as err:
        accrual_plan_save(**{**base, **kwargs})
    assert err.value.extra["field"] == field
    assert not AccrualPlan.objects.exists()
    assert AuditEvent.objects.count() == before


def test_a_monitor_cannot_plan(journey: Any) -> None:
    with pytest.raises(PermissionDeniedError):
        accrual_plan_save(
            trial=journey.unit.trial_main,
            cohort=None,
            target=10,
            starts_on=dt.date(2026, 1, 1),
            duration_months=12,
            certainty=0.5,
            by=journey.unit.users["monitor"],
        )


def test_activity_report_is_scoped_and_exported(enrol: Any, journey: Any, client_for: Any) -> None:
    enrol(3)
    enrol(2, site="partner")
    admin = activity_for(user=journey.unit.users["admin"], year=2026)
    partner = activity_for(user=journey.unit.users["partner_investigator"], year=2026)
    assert sum(i for _p, _s, i in admin.by_phase) == 5
    assert sum(i for _p, _s, i in partner.by_phase) == 2
    consent_c1d1 = next(d for d in admin.delays if d.name == "consent → C1D1")
    assert consent_c1d1.median == 11  # consent 2 Nov, C1D1 13 Nov (tests/conftest.py)
    c = client_for("admin")
    page = c.get("/operations/activity/?year=2026")
    assert page.status_code == 200
    assert "new patients referred to the unit" in page.content.decode()
    xlsx = c.get("/operations/activity/?year=2026&format=xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(xlsx.content))
    assert {"by_phase", "delays", "share_in_study", "definitions"} <= set(wb.sheetnames)
    api = c.get("/api/v1/operations/activity?year=2026")
    assert api.status_code == 200
    assert json.loads(api.content)["tables"]["share_in_study"][0]["numerator"] == 5
    bad = c.get("/api/v1/operations/activity?year=2026&denominator=treated")
    assert bad.status_code == 422
    assert bad.json()["extra"]["field"] == "treated_total"


def test_accrual_pages_and_plot(enrol: Any, journey: Any, client_for: Any) -> None:
    enrol(3)
    trial = journey.cohort.trial
    c = client_for("investigator")
    saved = c.post(
        f"/trials/{trial.pk}/accrual/",
        {"target": "30", "starts_on": "2026-01-01", "duration_months": "18", "certainty": "0.5"},
    )
    assert saved.status_code == 302
    page = c.get(f"/trials/{trial.pk}/accrual/")
    assert page.status_code == 200
    assert 'data-testid="accrual-plot"' in page.content.decode()
    svg = c.get(f"/trials/{trial.pk}/accrual.svg").content.decode()
    assert svg.startswith("<?xml")
    assert 'id="band' in svg
    assert 'id="observed' in svg
    api = c.get(f"/api/v1/operations/trials/{trial.pk}/accrual-forecast").json()
    assert api["target"] == 30
    assert api["accrued"] == 3
    assert api["gajewski"]["median_date"] is not None
    refused = client_for("monitor").get(f"/api/v1/operations/trials/{trial.pk}/accrual-forecast")
    assert refused.status_code == 404  # the monitor's trial is T-MAIN
