"""Escalation cohorts run a design; the committee's signed decision is kept beside its recommendation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from oncotrials.apps.dosing.models import EscalationDecision, EscalationPlan
from oncotrials.apps.dosing.services import (
    design_for,
    escalation_decide,
    escalation_recommend,
    plan_create,
)
from oncotrials.apps.safety.dlt_review import dlt_case_adjudicate
from oncotrials.apps.safety.models import DltCase
from oncotrials.apps.safety.services import adverse_event_create
from oncotrials.apps.subjects.services import patient_create, registration_create
from oncotrials.apps.trials.services import dose_level_create
from oncotrials.core.designs.base import Action
from oncotrials.core.designs.registry import design_names, live_designs
from oncotrials.core.errors import PermissionDeniedError, ValidationError

PASSWORD = "a-long-test-password-42"  # tests/conftest.py

AFTER_THE_WINDOW = dt.date(2026, 12, 20)  # registered 2026-11-12: the 28-day window has closed


@pytest.fixture
def escalation(journey, monkeypatch):
    admin = journey.unit.users["admin"]
    dl2 = dose_level_create(
        cohort=journey.cohort, level=2, agent="Drug B", dose="100", unit="mg", by=admin
    )
    dl3 = dose_level_create(
        cohort=journey.cohort, level=3, agent="Drug B", dose="200", unit="mg", by=admin
    )
    journey.monkeypatch = monkeypatch
    return journey, [journey.dose_level, dl2, dl3]


def _related_grade_3_plus(registration, nurse, grade):
    """A complete AE probably related, on day 3: in a trial without DLT rules it is proposed
    as a pending DLT case in the DLT review (the trial is in escalation)."""
    ae = adverse_event_create(
        registration=registration,
        data={
            "term": "Neutrophil count decreased",
            "grade": grade,
            "onset_date": "2026-11-14",
            "attribution": {"Drug B": "probable"},
            "action_taken": "interrupted",
            "outcome": "recovering",
        },
        by=nurse,
        complete=True,
    )
    return DltCase.objects.get(adverse_event=ae)


def _treat(journey, levels, level_index, outcomes, screen, start=0):
    """Register patients; their DLT outcome goes through the DLT review, the one record of DLTs:
    "dlt" a confirmed case, None a case awaiting adjudication, "no_dlt" nothing. Then the clock
    moves past the DLT window."""
    nurse, investigator = journey.unit.users["nurse"], journey.unit.users["investigator"]
    # Registered on 2026-11-12 but entered after the window of the earlier patients closed, so
    # that a time-to-event design does not suspend accrual while they are pending.
    journey.monkeypatch.setattr(timezone, "localdate", lambda *a, **k: AFTER_THE_WINDOW)
    regs = []
    for i, outcome in enumerate(outcomes):
        n = start + i
        p = patient_create(
            site=journey.unit.main,
            by=nurse,
            family_name=f"P{n}",
            given_name="X",
            birth_date=dt.date(1960, 1, 1),
            hospital_number=f"E-{n}",
            sex="F",
            referral_source="department",
            referral_date=dt.date(2026, 10, 1),
        )
        screen(journey, p, nurse)
        reg = registration_create(
            patient=p,
            cohort=journey.cohort,
            dose_level=levels[level_index],
            registered_on=dt.date(2026, 11, 12),
            by=nurse,
        )
        if outcome == "dlt":
            dlt_case_adjudicate(
                case=_related_grade_3_plus(reg, nurse, 4),
                decision="confirm",
                reason="grade 4 neutropenia",
                password=PASSWORD,
                meaning="I confirm this DLT",
                version=1,
                by=investigator,
            )
        elif outcome is None:
            _related_grade_3_plus(reg, nurse, 3)
        regs.append(reg)
    journey.monkeypatch.setattr(timezone, "localdate", lambda *a, **k: AFTER_THE_WINDOW)
    return regs


def test_three_plus_three_escalates_after_0_of_3_and_the_decision_is_signed(escalation, screen):
    journey, levels = escalation
    investigator = journey.unit.users["investigator"]
    plan = plan_create(cohort=journey.cohort, design="3+3", start_level=levels[0], by=investigator)
    _treat(journey, levels, 0, ["no_dlt", "no_dlt", "no_dlt"], screen)
    state, rec = escalation_recommend(plan=plan)
    assert [(s.treated, s.evaluable, s.dlts, s.pending) for s in state] == [
        (3, 3, 0, 0),
        (0, 0, 0, 0),
        (0, 0, 0, 0),
    ]
    assert rec.action.value == "escalate"
    assert rec.next_dose == 1
    decision = escalation_decide(
        plan=plan,
        action="escalate",
        next_dose_level=levels[1],
        by=investigator,
        password=PASSWORD,
        meaning="Approved by the safety review committee",
    )
    plan.refresh_from_db()
    assert plan.current_dose_level == levels[1]
    assert decision.recommended_action == "escalate"
    assert decision.deviation_reason == ""
    assert decision.signed_by == investigator
    # The printed name is kept with the signature (no first or last name here: the user name).
    assert decision.signed_name == investigator.username


def test_one_dlt_in_three_expands_the_dose_under_3_plus_3(escalation, screen):
    journey, levels = escalation
    plan = plan_create(
        cohort=journey.cohort,
        design="3+3",
        start_level=levels[0],
        by=journey.unit.users["investigator"],
    )
    _treat(journey, levels, 0, ["dlt", "no_dlt", "no_dlt"], screen)
    _, rec = escalation_recommend(plan=plan)
    assert rec.action.value == "stay"  # 1/3: treat 3 more at the same dose


def test_pending_patients_suspend_the_recommendation(escalation, screen):
    journey, levels = escalation
    plan = plan_create(
        cohort=journey.cohort,
        design="boin",
        target=0.3,
        start_level=levels[0],
        by=journey.unit.users["investigator"],
    )
    _treat(journey, levels, 0, ["no_dlt", "no_dlt", None], screen)
    _, rec = escalation_recommend(plan=plan)
    assert rec.action.value == "suspend"
    assert "still in the DLT window" in rec.reason


def test_boin_de_escalation_boundary_and_deviation_needs_a_reason(escalation, screen):
    # Liu & Yuan (2015), target 0.3: lambda_d = 0.358, so 2/3 DLTs (0.67 > 0.358) means de-escalate.
    journey, levels = escalation
    investigator = journey.unit.users["investigator"]
    plan = plan_create(
        cohort=journey.cohort, design="boin", target=0.3, start_level=levels[1], by=investigator
    )
    _treat(journey, levels, 1, ["dlt", "dlt", "no_dlt"], screen)
    _, rec = escalation_recommend(plan=plan)
    assert rec.action.value == "de-escalate"
    assert rec.next_dose == 0
    with pytest.raises(ValidationError, match="needs the committee's reason"):
        escalation_decide(
            plan=plan,
            action="stay",
            next_dose_level=levels[1],
            by=investigator,
            password=PASSWORD,
            meaning="SRC",
        )
    assert not EscalationDecision.objects.exists()
    d = escalation_decide(
        plan=plan,
        action="stay",
        next_dose_level=levels[1],
        by=investigator,
        password=PASSWORD,
        meaning="SRC",
        deviation_reason="One DLT judged unrelated after review",
    )
    assert d.recommended_action == "de-escalate"
    assert d.decided_action == "stay"


def test_an_eliminated_dose_cannot_be_chosen(escalation, screen):
    # BOIN elimination (cutoff 0.95, Beta(1,1)): 3/3 DLTs eliminates the dose (P(p > 0.3) = 0.992).
    journey, levels = escalation
    investigator = journey.unit.users["investigator"]
    plan = plan_create(
        cohort=journey.cohort, design="boin", target=0.3, start_level=levels[1], by=investigator
    )
    _treat(journey, levels, 1, ["dlt", "dlt", "dlt"], screen)
    _, rec = escalation_recommend(plan=plan)
    assert 1 in rec.eliminated
    with pytest.raises(ValidationError, match="eliminated"):
        escalation_decide(
            plan=plan,
            action="stay",
            next_dose_level=levels[1],
            by=investigator,
            password=PASSWORD,
            meaning="SRC",
            deviation_reason="we disagree",
        )


def test_only_investigators_sign(escalation, screen):
    journey, levels = escalation
    plan = plan_create(
        cohort=journey.cohort, design="3+3", start_level=levels[0], by=journey.unit.users["admin"]
    )
    with pytest.raises(PermissionDeniedError):
        escalation_decide(
            plan=plan,
            action="stay",
            next_dose_level=levels[0],
            by=journey.unit.users["nurse"],
            password=PASSWORD,
            meaning="x",
        )


def test_bad_plans(escalation, screen):
    journey, levels = escalation
    with pytest.raises(ValidationError, match=r"must lie in \(0, 1\); got 1.3"):
        plan_create(
            cohort=journey.cohort,
            design="boin",
            target=1.3,
            start_level=levels[0],
            by=journey.unit.users["admin"],
        )
    with pytest.raises(ValidationError, match="design must be one of"):
        plan_create(
            cohort=journey.cohort,
            design="crm?",
            start_level=levels[0],
            by=journey.unit.users["admin"],
        )


def test_escalation_page_api_and_plot(escalation, screen, client_for):
    journey, levels = escalation
    investigator = journey.unit.users["investigator"]
    plan_create(
        cohort=journey.cohort, design="boin", target=0.3, start_level=levels[0], by=investigator
    )
    _treat(journey, levels, 0, ["no_dlt", "no_dlt", "no_dlt"], screen)
    c = client_for("investigator")
    page = c.get(f"/cohorts/{journey.cohort.pk}/escalation/").content.decode()
    assert "The design recommends" in page
    assert "escalate" in page
    svg = c.get(f"/cohorts/{journey.cohort.pk}/escalation/plot.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    state = c.get(f"/api/v1/cohorts/{journey.cohort.pk}/escalation").json()
    assert state["recommendation"]["action"] == "escalate"
    assert [d["treated"] for d in state["doses"]] == [3, 0, 0]
    r = c.post(
        f"/api/v1/cohorts/{journey.cohort.pk}/escalation/decisions",
        {
            "action": "escalate",
            "next_dose_level_id": levels[1].pk,
            "meaning": "SRC approval",
            "password": PASSWORD,
        },
        content_type="application/json",
    )
    assert r.status_code == 201
    # A form decision that differs from the design without a reason is refused, with the message shown.
    r = c.post(
        f"/cohorts/{journey.cohort.pk}/escalation/decisions/",
        {
            "action": "de-escalate",
            "next_dose_level": levels[0].pk,
            "meaning": "SRC",
            "password": PASSWORD,
        },
        follow=True,
    )
    assert "needs the committee&#x27;s reason" in r.content.decode()
    assert journey.cohort.escalation_plan.decisions.count() == 1
    # The trial is shared with the partner site: its staff see the state; others see nothing.
    assert (
        client_for("partner_investigator")
        .get(f"/cohorts/{journey.cohort.pk}/escalation/")
        .status_code
        == 200
    )
    for persona in ("monitor_other", "outsider"):
        assert (
            client_for(persona).get(f"/cohorts/{journey.cohort.pk}/escalation/").status_code == 404
        )
        assert (
            client_for(persona).get(f"/api/v1/cohorts/{journey.cohort.pk}/escalation").status_code
            == 404
        )
    assert (
        client_for("nurse")
        .post(
            f"/api/v1/cohorts/{journey.cohort.pk}/escalation/decisions",
            {
                "action": "stay",
                "next_dose_level_id": levels[1].pk,
                "meaning": "x",
                "password": PASSWORD,
            },
            content_type="application/json",
        )
        .status_code
        == 403
    )


# --- every live design of the registry runs a cohort --------------------------------------

# Design-specific settings of the plan (three dose levels: 50, 100 and 200 mg).
PARAMETERS: dict[str, dict[str, object]] = {
    "crm": {"skeleton": [0.1, 0.2, 0.35]},
    "tite-crm": {"skeleton": [0.1, 0.2, 0.35], "dlt_window_days": 28},
    "tite-boin": {"dlt_window_days": 28},
}


def test_the_plan_offers_exactly_the_live_designs() -> None:
    field = EscalationPlan._meta.get_field("design")
    assert [value for value, _ in field.choices] == list(design_names(live=True))
    assert {"3+3", "boin", "keyboard", "i3+3", "mtpi2", "tite-boin", "crm", "tite-crm", "ewoc"} <= {
        value for value, _ in field.choices
    }


@pytest.mark.parametrize("design", list(live_designs()))
def test_every_live_design_runs_a_cohort(design, escalation, screen):
    journey, levels = escalation
    investigator = journey.unit.users["investigator"]
    plan = plan_create(
        cohort=journey.cohort,
        design=design,
        target=None if design == "3+3" else 0.3,
        parameters=PARAMETERS.get(design),
        start_level=levels[0],
        by=investigator,
    )
    assert plan.get_design_display() == live_designs()[design].label
    _treat(journey, levels, 0, ["no_dlt", "no_dlt", "no_dlt"], screen)
    state, rec = escalation_recommend(plan=plan)
    assert [s.evaluable for s in state] == [3, 0, 0]
    assert rec.action in (Action.ESCALATE, Action.STAY)
    assert rec.next_dose in (0, 1)
    decision = escalation_decide(
        plan=plan,
        action=rec.action.value,
        next_dose_level=levels[rec.next_dose],
        by=investigator,
        password=PASSWORD,
        meaning="Approved by the safety review committee",
    )
    assert decision.deviation_reason == ""
    plan.refresh_from_db()
    here = [dl.pk for dl in levels].index(plan.current_dose_level.pk)
    # Two DLTs in three patients at the current dose: never escalate past it. (The DLTs come
    # last: two DLTs in the first two patients may eliminate the dose, and then the escalation
    # refuses the third patient.)
    _treat(journey, levels, here, ["no_dlt", "dlt", "dlt"], screen, start=3)
    _, rec = escalation_recommend(plan=plan)
    assert rec.action is not Action.ESCALATE
    assert rec.next_dose is None or rec.next_dose <= here


@pytest.mark.parametrize("design", ["tite-boin", "tite-crm"])
def test_time_to_event_designs_weigh_pending_patients(design, escalation, screen):
    journey, levels = escalation
    plan = plan_create(
        cohort=journey.cohort,
        design=design,
        target=0.3,
        parameters=PARAMETERS[design],
        start_level=levels[0],
        by=journey.unit.users["investigator"],
    )
    _treat(journey, levels, 0, ["no_dlt", "no_dlt", None], screen)
    state, rec = escalation_recommend(plan=plan)
    assert state[0].pending == 1
    assert state[0].pending_since == (dt.date(2026, 11, 12),)
    assert timezone.localdate() > state[0].pending_since[0]
    # Rule-based and model-assisted designs suspend here; the time-to-event ones decide.
    assert rec.action is not Action.SUSPEND


def test_design_specific_parameters_are_checked_and_kept(escalation, screen):
    journey, levels = escalation
    admin = journey.unit.users["admin"]
    with pytest.raises(ValidationError, match=r"crm needs parameters\.skeleton") as exc:
        plan_create(
            cohort=journey.cohort, design="crm", target=0.3, start_level=levels[0], by=admin
        )
    assert exc.value.extra["field"] == "parameters.skeleton"
    with pytest.raises(ValidationError, match="gives 2 values but the cohort has 3 dose levels"):
        plan_create(
            cohort=journey.cohort,
            design="crm",
            target=0.3,
            parameters={"skeleton": [0.1, 0.2]},
            start_level=levels[0],
            by=admin,
        )
    with pytest.raises(ValidationError, match="skeleton must be strictly increasing"):
        plan_create(
            cohort=journey.cohort,
            design="crm",
            target=0.3,
            parameters={"skeleton": [0.3, 0.2, 0.1]},
            start_level=levels[0],
            by=admin,
        )
    with pytest.raises(ValidationError, match="boin has no parameter 'window'"):
        plan_create(
            cohort=journey.cohort,
            design="boin",
            target=0.3,
            parameters={"window": 28},
            start_level=levels[0],
            by=admin,
        )
    with pytest.raises(ValidationError, match=r"give the window in days as parameters\.dlt_win"):
        plan_create(
            cohort=journey.cohort, design="tite-boin", target=0.3, start_level=levels[0], by=admin
        )
    with pytest.raises(ValidationError, match="design must be one of 3\\+3, boin"):
        plan_create(
            cohort=journey.cohort, design="boin12", target=0.3, start_level=levels[0], by=admin
        )
    assert not EscalationPlan.objects.exists()
    plan = plan_create(
        cohort=journey.cohort,
        design="boin",
        target=0.25,
        parameters={"p_saf": 0.15, "extrasafe": True},
        start_level=levels[0],
        by=admin,
    )
    plan.refresh_from_db()
    assert plan.parameters == {"p_saf": 0.15, "extrasafe": True}


def test_following_a_suspend_recommendation_is_no_deviation(escalation, screen):
    journey, levels = escalation
    investigator = journey.unit.users["investigator"]
    plan = plan_create(
        cohort=journey.cohort, design="boin", target=0.3, start_level=levels[0], by=investigator
    )
    _treat(journey, levels, 0, ["no_dlt", "no_dlt", None], screen)
    _, rec = escalation_recommend(plan=plan)
    assert rec.action.value == "suspend"
    # No level given: suspending keeps the current one; no reason needed.
    d = escalation_decide(
        plan=plan, action="suspend", by=investigator, password=PASSWORD, meaning="SRC"
    )
    assert (d.recommended_action, d.decided_action, d.deviation_reason) == (
        "suspend",
        "suspend",
        "",
    )
    assert d.next_dose_level.level == levels[0].level
    with pytest.raises(ValidationError, match="Suspending accrual keeps DL1"):
        escalation_decide(
            plan=plan,
            action="suspend",
            next_dose_level=levels[1],
            by=investigator,
            password=PASSWORD,
            meaning="SRC",
            deviation_reason="x",
        )


def test_the_committee_eliminates_and_the_levels_stay_eliminated(escalation, screen):
    journey, levels = escalation
    investigator = journey.unit.users["investigator"]
    plan = plan_create(
        cohort=journey.cohort, design="boin", target=0.3, start_level=levels[1], by=investigator
    )
    _treat(journey, levels, 1, ["dlt", "dlt", "no_dlt"], screen)
    _, rec = escalation_recommend(plan=plan)
    assert rec.action.value == "de-escalate"  # 2/3: de-escalate, not (yet) eliminate
    with pytest.raises(ValidationError, match="choose a level lower than DL2"):
        escalation_decide(
            plan=plan,
            action="eliminate",
            next_dose_level=levels[1],
            by=investigator,
            password=PASSWORD,
            meaning="SRC",
            deviation_reason="two grade 4 events",
        )
    d = escalation_decide(
        plan=plan,
        action="eliminate",
        next_dose_level=levels[0],
        by=investigator,
        password=PASSWORD,
        meaning="SRC",
        deviation_reason="two grade 4 events",
    )
    assert (d.recommended_action, d.decided_action) == ("de-escalate", "eliminate")
    with pytest.raises(ValidationError, match="committee eliminated DL2"):
        escalation_decide(
            plan=plan,
            action="escalate",
            next_dose_level=levels[2],
            by=investigator,
            password=PASSWORD,
            meaning="SRC",
            deviation_reason="x",
        )


def test_the_form_offers_every_action_and_defaults_to_the_recommendation(
    escalation, screen, client_for
):
    journey, levels = escalation
    investigator = journey.unit.users["investigator"]
    plan_create(
        cohort=journey.cohort, design="boin", target=0.3, start_level=levels[0], by=investigator
    )
    _treat(journey, levels, 0, ["no_dlt", "no_dlt", None], screen)
    c = client_for("investigator")
    page = c.get(f"/cohorts/{journey.cohort.pk}/escalation/").content.decode()
    for action in ("escalate", "stay", "de-escalate", "eliminate", "suspend", "stop"):
        assert f'<option value="{action}"' in page
    assert '<option value="suspend" selected>' in page
    # Signing the recommendation as offered by the form records no deviation.
    r = c.post(
        f"/cohorts/{journey.cohort.pk}/escalation/decisions/",
        {
            "action": "suspend",
            "next_dose_level": levels[0].pk,
            "meaning": "SRC",
            "password": PASSWORD,
        },
        follow=True,
    )
    assert r.status_code == 200
    (decision,) = journey.cohort.escalation_plan.decisions.all()
    assert decision.decided_action == "suspend"
    assert decision.deviation_reason == ""


def test_recommendation_text_and_plot_name_doses_by_their_labels(escalation, screen, client_for):
    journey, levels = escalation
    investigator = journey.unit.users["investigator"]
    plan = plan_create(
        cohort=journey.cohort, design="boin", target=0.3, start_level=levels[0], by=investigator
    )
    _treat(journey, levels, 0, ["no_dlt", "no_dlt", "no_dlt"], screen)
    _, rec = escalation_recommend(plan=plan)
    assert "DL2" in rec.reason
    assert not re.search(r"\bdose \d", rec.reason + rec.rule)
    c = client_for("investigator")
    state = c.get(f"/api/v1/cohorts/{journey.cohort.pk}/escalation").json()
    assert "DL2" in state["recommendation"]["reason"]
    svg = c.get(f"/cohorts/{journey.cohort.pk}/escalation/plot.svg").content.decode()
    assert "DL2 (100 mg)" in svg


def test_the_plans_extrasafe_and_early_stop_settings_reach_the_design(escalation, screen):
    journey, levels = escalation
    plan = plan_create(
        cohort=journey.cohort,
        design="boin",
        target=0.3,
        parameters={"extrasafe": True, "n_earlystop": 9},
        start_level=levels[0],
        by=journey.unit.users["investigator"],
    )
    design = design_for(plan)
    assert (design.extrasafe, design.n_earlystop) == (True, 9)
    # BOIN extra-safe rule at the lowest dose (cutoff 0.95 - 0.05): 3 DLTs of 3 stops the trial
    _treat(journey, levels, 0, ["dlt", "dlt", "dlt"], screen)
    _, rec = escalation_recommend(plan=plan)
    assert rec.action.value == "stop"


def test_a_committee_decision_asks_for_the_password_again(escalation, screen, client):
    """A wrong password records no decision, is audited, and the page says why."""
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.core.errors import PermissionDeniedError

    journey, levels = escalation
    investigator = journey.unit.users["investigator"]
    plan = plan_create(cohort=journey.cohort, design="3+3", start_level=levels[0], by=investigator)
    _treat(journey, levels, 0, ["no_dlt", "no_dlt", "no_dlt"], screen)
    with pytest.raises(PermissionDeniedError, match="password does not match"):
        escalation_decide(
            plan=plan,
            action="escalate",
            next_dose_level=levels[1],
            by=investigator,
            password="not-my-password",
            meaning="Approved by the safety review committee",
        )
    assert not EscalationDecision.objects.exists()
    failed = AuditEvent.objects.filter(
        action="signature_password_failed",
        object_type="accounts.user",
        object_id=str(investigator.pk),
    )
    assert failed.count() == 1
    client.force_login(investigator)
    r = client.post(
        f"/cohorts/{journey.cohort.pk}/escalation/decisions/",
        {"action": "escalate", "next_dose_level": levels[1].pk, "meaning": "SRC", "password": "x"},
        follow=True,
    )
    assert "password does not match" in r.content.decode()
    assert not EscalationDecision.objects.exists()
    assert failed.count() == 2


def test_counts_the_design_has_no_rule_for_give_a_page_not_an_error(escalation, screen, client):
    """3+3 with 5 evaluable patients at one dose (a unit that over-enrolled): the design cannot
    recommend; the page says so and the committee can still decide."""
    journey, levels = escalation
    investigator = journey.unit.users["investigator"]
    plan = plan_create(cohort=journey.cohort, design="3+3", start_level=levels[0], by=investigator)
    _treat(journey, levels, 0, ["no_dlt"] * 3, screen)
    escalation_decide(
        plan=plan,
        action="stay",
        next_dose_level=levels[0],
        by=investigator,
        password=PASSWORD,
        meaning="SRC",
        deviation_reason="expand DL1 for PK",
    )
    _treat(journey, levels, 0, ["no_dlt"] * 2, screen, start=3)
    _state, rec = escalation_recommend(plan=plan)
    assert rec.action.value == "suspend"
    assert "cannot recommend" in rec.reason
    assert "got 5" in rec.reason
    client.force_login(investigator)
    r = client.get(f"/cohorts/{journey.cohort.pk}/escalation/")
    assert r.status_code == 200
    assert "cannot recommend on these counts" in r.content.decode()
