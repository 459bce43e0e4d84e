"""An escalation cohort's plan is set up from the web: any live design, its parameters checked
field by field, a preview of its decision table; afterwards the escalation page works.

The plan transcribes the protocol: those who edit the portfolio set it up (EDIT_PORTFOLIO).
"""

from __future__ import annotations

import re

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.dosing.models import EscalationPlan
from oncotrials.apps.dosing.services import escalation_decide, plan_create
from oncotrials.apps.trials.models import Cohort
from oncotrials.apps.trials.services import cohort_create, dose_level_create
from oncotrials.core.designs.registry import design_names

PASSWORD = "a-long-test-password-42"  # tests/conftest.py


@pytest.fixture
def cohort(unit):
    """The escalation cohort of T-MAIN, with three dose levels and no plan yet."""
    c = Cohort.objects.get(trial=unit.trial_main, code="ESC")
    admin = unit.users["admin"]
    for level, dose in [(2, "20"), (3, "40")]:
        dose_level_create(cohort=c, level=level, agent="Drug A", dose=dose, unit="mg", by=admin)
    return c


def _boin(cohort, **extra):
    return {
        "design": "boin",
        "target": "0.3",
        "cohort_size": "3",
        "max_sample_size": "36",
        "start_level": cohort.dose_levels.get(level=1).pk,
        **extra,
    }


def _page(response) -> str:
    return response.content.decode()


def test_an_escalation_cohort_without_plan_leads_its_editors_to_the_plan_page(cohort, client_for):
    r = client_for("investigator").get(f"/cohorts/{cohort.pk}/escalation/")
    assert r.status_code == 302
    assert r.url == f"/cohorts/{cohort.pk}/escalation/plan/"
    assert client_for("nurse").get(f"/cohorts/{cohort.pk}/escalation/").status_code == 404
    page = _page(client_for("investigator").get(f"/trials/{cohort.trial_id}/"))
    assert f'href="/cohorts/{cohort.pk}/escalation/plan/"' in page


def test_the_plan_form_offers_every_live_design(cohort, client_for):
    r = client_for("datamanager").get(f"/cohorts/{cohort.pk}/escalation/plan/")
    assert r.status_code == 200
    offered = [value for value, _label in r.context["form"].fields["design"].choices]
    assert offered == ["", *design_names(live=True)]  # "" first: no design pre-selected
    assert '<option value="" selected>—</option>' in _page(r)
    assert 'name="param_skeleton"' in _page(r)
    assert 'data-designs="crm tite-crm"' in _page(r)


def test_a_boin_plan_is_saved_audited_and_the_escalation_page_works(cohort, client_for):
    client = client_for("investigator")
    r = client.post(f"/cohorts/{cohort.pk}/escalation/plan/", _boin(cohort, param_n_earlystop="9"))
    assert r.status_code == 302
    assert r.url == f"/cohorts/{cohort.pk}/escalation/"
    plan = EscalationPlan.objects.get(cohort=cohort)
    assert (plan.design, float(plan.target), plan.parameters) == ("boin", 0.3, {"n_earlystop": 9})
    event = AuditEvent.objects.get(object_type="dosing.escalationplan", object_id=str(plan.pk))
    assert event.action == "create"
    assert event.actor_username == "investigator"
    page = client.get(f"/cohorts/{cohort.pk}/escalation/")
    assert page.status_code == 200
    assert "20 mg" in _page(page)


def test_the_preview_shows_the_decision_table_and_saves_nothing(cohort, client_for):
    r = client_for("investigator").post(
        f"/cohorts/{cohort.pk}/escalation/plan/", _boin(cohort, preview="1")
    )
    assert r.status_code == 200
    assert not EscalationPlan.objects.filter(cohort=cohort).exists()
    preview = r.context["preview"]
    # Liu & Yuan (2015) boundaries; reproduced with BOIN::get.boundary(target=0.3, ncohort=12,
    # cohortsize=3): at n = 3 escalate if 0 DLT, de-escalate if >= 2, eliminate if 3.
    assert preview["n"][:2] == [3, 6]
    escalate, deescalate, eliminate = (values for _label, values in preview["rows"])
    assert (escalate[0], deescalate[0], eliminate[0]) == (0, 2, 3)
    assert 'data-testid="decision-table"' in _page(r)


def test_a_model_design_has_no_decision_table(cohort, client_for):
    data = _boin(cohort, design="crm", param_skeleton="0.1, 0.2, 0.3", preview="1")
    r = client_for("investigator").post(f"/cohorts/{cohort.pk}/escalation/plan/", data)
    assert r.context["preview"] is None
    assert 'data-testid="no-decision-table"' in _page(r)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"design": "crm"}, "param_skeleton", "crm needs parameters.skeleton"),
        ({"design": "crm", "param_skeleton": "0.3, 0.2, 0.1"}, "param_skeleton", "increasing"),
        ({"design": "crm", "param_skeleton": "0.1, 0.2"}, "param_skeleton", "3 dose levels"),
        ({"design": "crm", "param_skeleton": "a, b"}, "param_skeleton", "one number per dose"),
        ({"target": ""}, "target", "must lie in (0, 1)"),
        ({"target": "1.3"}, "target", "less than or equal to 0.999"),
        ({"param_p_saf": "0.5"}, "param_p_saf", "p_saf must lie in (0, target)"),
        ({"design": "tite-boin"}, "param_dlt_window_days", "dlt_window_days"),
        ({"cohort_size": "0"}, "cohort_size", "greater than or equal to 1"),
        ({"design": "nonsense"}, "design", "Select a valid choice"),
    ],
)
def test_an_invalid_plan_names_the_field_and_keeps_the_input(
    cohort, client_for, changes, field, message
):
    data = _boin(cohort, **changes)
    r = client_for("investigator").post(f"/cohorts/{cohort.pk}/escalation/plan/", data)
    assert r.status_code == 422
    errors = r.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not EscalationPlan.objects.filter(cohort=cohort).exists()
    page = _page(r)
    for key, value in changes.items():
        if key != "design" and value:
            assert f'value="{value}"' in page
    # the shared accessible rendering: the summary links to the field, which is marked invalid
    assert 'data-testid="error-summary"' in page
    assert f'href="#id_{field}"' in page
    tag = re.search(rf'<(?:input|select|textarea)[^>]*id="id_{field}"[^>]*>', page)
    assert tag is not None
    assert 'aria-invalid="true"' in tag.group(0)
    assert f'id="id_{field}-error"' in page


def test_a_plan_is_changed_with_a_reason_and_audited(cohort, client_for, unit):
    levels = list(cohort.dose_levels.order_by("level"))
    plan = plan_create(
        cohort=cohort, design="boin", target=0.3, start_level=levels[0], by=unit.users["admin"]
    )
    client = client_for("datamanager")
    r = client.get(f"/cohorts/{cohort.pk}/escalation/plan/")
    assert r.status_code == 200
    assert r.context["preview"] is not None  # the saved plan's table
    data = _boin(cohort, target="0.25", expected_version=plan.version, reason="")
    r = client.post(f"/cohorts/{cohort.pk}/escalation/plan/", data)
    assert "reason" in r.context["form"].errors
    data["reason"] = "Amendment 3: target 25%"
    r = client.post(f"/cohorts/{cohort.pk}/escalation/plan/", data)
    assert r.status_code == 302
    plan.refresh_from_db()
    assert (float(plan.target), plan.version) == (0.25, 2)
    event = AuditEvent.objects.get(
        object_type="dosing.escalationplan", object_id=str(plan.pk), action="update"
    )
    assert event.reason == "Amendment 3: target 25%"
    assert event.changes == {"target": ["0.300", "0.250"]}


def test_the_start_level_is_fixed_once_a_decision_is_signed(cohort, client_for, unit):
    levels = list(cohort.dose_levels.order_by("level"))
    admin = unit.users["admin"]
    plan = plan_create(cohort=cohort, design="3+3", start_level=levels[0], by=admin)
    escalation_decide(
        plan=plan,
        action="stay",
        next_dose_level=levels[0],
        by=admin,
        password=PASSWORD,
        meaning="SRC",
    )
    r = client_for("investigator").get(f"/cohorts/{cohort.pk}/escalation/plan/")
    assert r.context["form"].fields["start_level"].disabled


@pytest.mark.parametrize(("persona", "status"), [("nurse", 403), ("monitor", 403)])
def test_who_may_not_edit_the_portfolio_cannot_set_up_a_plan(cohort, client_for, persona, status):
    client = client_for(persona)
    assert client.get(f"/cohorts/{cohort.pk}/escalation/plan/").status_code == status
    assert (
        client.post(f"/cohorts/{cohort.pk}/escalation/plan/", _boin(cohort)).status_code == status
    )
    assert not EscalationPlan.objects.filter(cohort=cohort).exists()


def test_an_outsider_does_not_see_the_cohort(cohort, client_for):
    for persona in ("partner_investigator", "outsider"):
        client = client_for(persona)
        assert client.get(f"/cohorts/{cohort.pk}/escalation/plan/").status_code == 404
        r = client.post(f"/cohorts/{cohort.pk}/escalation/plan/", _boin(cohort))
        assert r.status_code == 404
    assert not EscalationPlan.objects.filter(cohort=cohort).exists()


def test_a_cohort_that_does_not_escalate_has_no_plan(unit, client_for):
    expansion = cohort_create(
        trial=unit.trial_main,
        code="EXP",
        name="Expansion",
        kind="expansion",
        by=unit.users["admin"],
    )
    r = client_for("investigator").get(f"/cohorts/{expansion.pk}/escalation/plan/")
    assert r.status_code == 404
