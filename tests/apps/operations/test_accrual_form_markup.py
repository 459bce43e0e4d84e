"""The accrual plan form renders with the shared accessible fields: a refused plan comes back
with status 422 on the accrual page, the error summary linking each error to its field, the
field marked ``aria-invalid`` with its error beside it, what was typed kept and nothing saved;
a saved plan goes back to the page (PRG)."""

from __future__ import annotations

from typing import Any

import pytest

from form_markup import form_html as _form
from form_markup import refused as _refused
from oncotrials.apps.operations.models import AccrualPlan

pytestmark = pytest.mark.django_db

PLAN = {"target": "30", "starts_on": "2026-01-01", "duration_months": "18", "certainty": "0.5"}


def test_a_plan_with_a_bad_centre_line_keeps_the_input_and_saves_nothing(
    journey: Any, client_for: Any
) -> None:
    trial = journey.cohort.trial
    c = client_for("investigator")
    r = c.post(
        f"/trials/{trial.pk}/accrual/",
        {**PLAN, "target": "0", "external_centres": "Lyon; 2026-03-01; 4\nNantes"},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "plan-form")
    _refused(form, "plan-target", kept='value="18"')
    _refused(form, "plan-external_centres", kept="Lyon; 2026-03-01; 4\nNantes")
    assert "Line 2 of the centres" in form
    assert 'value="2026-01-01"' in form
    assert not AccrualPlan.objects.filter(trial=trial).exists()
    c.cookies["django_language"] = "fr"
    r = c.post(f"/trials/{trial.pk}/accrual/", {**PLAN, "external_centres": "Lyon; mars; 4"})
    form = _form(r.content.decode(), "plan-form")
    _refused(form, "plan-external_centres", kept="Lyon; mars; 4")
    assert "Ligne 1 des centres : donnez la date d’ouverture au format AAAA-MM-JJ." in form
    assert not AccrualPlan.objects.filter(trial=trial).exists()


def test_changing_a_plan_needs_a_reason_beside_its_field(journey: Any, client_for: Any) -> None:
    trial = journey.cohort.trial
    c = client_for("investigator")
    r = c.post(f"/trials/{trial.pk}/accrual/", PLAN)
    assert r.status_code == 302
    assert r["Location"] == f"/trials/{trial.pk}/accrual/"
    page = c.get(f"/trials/{trial.pk}/accrual/").content.decode()
    assert "Accrual plan saved." in page
    assert 'value="30"' in _form(page, "plan-form")
    r = c.post(f"/trials/{trial.pk}/accrual/", {**PLAN, "target": "45", "reason": ""})
    assert r.status_code == 422
    form = _form(r.content.decode(), "plan-form")
    _refused(form, "plan-reason", kept='value="45"')
    plan = AccrualPlan.objects.get(trial=trial)
    assert (plan.target, plan.version) == (30, 1)
    r = c.post(f"/trials/{trial.pk}/accrual/", {**PLAN, "target": "45", "reason": "amendment 3"})
    assert r.status_code == 302
    plan.refresh_from_db()
    assert (plan.target, plan.version) == (45, 2)
