"""The committee's decision form on the escalation page renders with the shared accessible
fields: a refused decision (wrong password, a deviation without reason, a level that cannot be
chosen) comes back with status 422 on the page, the error in the summary and beside its field
(``aria-invalid``, ``aria-describedby``), the chosen decision, dose and reason kept, the password
never sent back, and no decision recorded; a recorded decision goes back to the page (PRG)."""

from __future__ import annotations

import re

import pytest
from test_escalation import PASSWORD, _treat, escalation  # noqa: F401  (a fixture)

from form_markup import form_html as _form
from form_markup import refused as _refused
from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.dosing.models import EscalationDecision
from oncotrials.apps.dosing.services import plan_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(escalation, screen):  # noqa: F811
    """A BOIN plan after three patients without DLT at DL1: the design recommends escalating
    to DL2."""
    journey, levels = escalation
    plan = plan_create(
        cohort=journey.cohort,
        design="boin",
        target=0.3,
        start_level=levels[0],
        by=journey.unit.users["investigator"],
    )
    _treat(journey, levels, 0, ["no_dlt", "no_dlt", "no_dlt"], screen)
    return plan, levels, f"/cohorts/{journey.cohort.pk}/escalation/"


def _selected(form: str, field_id: str) -> str:
    select = re.search(rf'<select[^>]*id="{field_id}"[^>]*>(.*?)</select>', form, re.S)
    assert select is not None, field_id
    chosen = re.findall(r'<option value="([^"]*)"[^>]*selected', select.group(1))
    assert len(chosen) == 1, chosen
    return chosen[0]


def test_the_form_offers_the_recommendation_with_its_fields_named(page, client_for):
    _plan, levels, url = page
    form = _form(client_for("investigator").get(url).content.decode(), "decision-form")
    assert _selected(form, "decision-action") == "escalate"
    assert _selected(form, "decision-next_dose_level") == str(levels[1].pk)
    assert 'class="required-note"' in form
    password = re.search(r'<input[^>]*id="decision-password"[^>]*>', form)
    assert password is not None
    assert 'aria-required="true"' in password.group(0)
    assert 'type="password"' in password.group(0)
    assert 'role="alert"' not in form


def test_a_wrong_password_is_refused_beside_the_password_and_nothing_is_recorded(page, client_for):
    plan, levels, url = page
    failed = AuditEvent.objects.filter(action="signature_password_failed")
    r = client_for("investigator").post(
        f"{url}decisions/",
        {
            "action": "stay",
            "next_dose_level": levels[0].pk,
            "deviation_reason": "PK samples pending at DL1",
            "meaning": "Approved at the SRC of 12 Nov",
            "password": "not-my-password",
        },
    )
    assert r.status_code == 422
    html = r.content.decode()
    form = _form(html, "decision-form")
    _refused(form, "decision-password", kept='value="PK samples pending at DL1"')
    assert "The password does not match" in re.search(
        r'id="decision-password-error"[^>]*>([^<]*)<', form
    ).group(1)
    assert 'value="Approved at the SRC of 12 Nov"' in form
    assert _selected(form, "decision-action") == "stay"
    assert _selected(form, "decision-next_dose_level") == str(levels[0].pk)
    assert "not-my-password" not in html  # a password is never sent back
    assert html.count('data-testid="error-summary"') == 1
    assert not EscalationDecision.objects.filter(plan=plan).exists()
    assert failed.count() == 1  # the wrong password stays audited


def test_a_deviation_without_reason_is_refused_beside_the_reason(page, client_for):
    plan, levels, url = page
    r = client_for("investigator").post(
        f"{url}decisions/",
        {
            "action": "stay",
            "next_dose_level": levels[0].pk,
            "deviation_reason": "  ",
            "meaning": "SRC",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 422
    html = r.content.decode()
    form = _form(html, "decision-form")
    _refused(form, "decision-deviation_reason")
    assert "needs the committee&#x27;s reason" in form
    assert _selected(form, "decision-action") == "stay"
    assert _selected(form, "decision-next_dose_level") == str(levels[0].pk)
    assert PASSWORD not in html
    assert not EscalationDecision.objects.filter(plan=plan).exists()
    plan.refresh_from_db()
    assert plan.current_dose_level_id == levels[0].pk


def test_a_level_the_decision_does_not_allow_is_refused_beside_the_dose(page, client_for):
    plan, levels, url = page
    c = client_for("investigator")
    r = c.post(
        f"{url}decisions/",
        {
            "action": "eliminate",
            "next_dose_level": levels[0].pk,
            "deviation_reason": "hepatotoxicity in the PK cohort",
            "meaning": "SRC",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "decision-form")
    _refused(form, "decision-next_dose_level", kept='value="hepatotoxicity in the PK cohort"')
    assert "choose a level lower than DL1" in form
    assert _selected(form, "decision-action") == "eliminate"
    # A decision that is not one of the committee's, and a signature without meaning.
    r = c.post(
        f"{url}decisions/",
        {"action": "bogus", "next_dose_level": levels[1].pk, "meaning": "", "password": "x"},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "decision-form")
    _refused(form, "decision-action")
    _refused(form, "decision-meaning")
    assert not EscalationDecision.objects.filter(plan=plan).exists()


def test_the_refusal_is_said_in_french(page, client_for):
    _plan, levels, url = page
    c = client_for("investigator")
    c.cookies["django_language"] = "fr"
    r = c.post(
        f"{url}decisions/",
        {"action": "escalate", "next_dose_level": levels[1].pk, "meaning": "CST", "password": "x"},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "decision-form")
    _refused(form, "decision-password", kept='value="CST"')
    assert "Le mot de passe ne correspond pas : la signature n’a pas été appliquée." in form
    assert "Décision du comité" in form


def test_a_recorded_decision_goes_back_to_the_page_with_its_message(page, client_for):
    plan, levels, url = page
    c = client_for("investigator")
    r = c.post(
        f"{url}decisions/",
        {
            "action": "escalate",
            "next_dose_level": levels[1].pk,
            "meaning": "SRC",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 302
    assert r["Location"] == url
    page_html = c.get(url).content.decode()
    assert "Decision recorded and signed." in page_html
    (decision,) = EscalationDecision.objects.filter(plan=plan)
    assert (decision.decided_action, decision.next_dose_level_id) == ("escalate", levels[1].pk)
    assert 'data-testid="error-summary"' not in page_html


def test_who_may_not_decide_is_refused_without_a_form(page, client_for):
    plan, levels, url = page
    c = client_for("nurse")
    assert c.get(url).status_code == 200
    assert 'data-testid="decision-form"' not in c.get(url).content.decode()
    r = c.post(
        f"{url}decisions/",
        {"action": "escalate", "next_dose_level": levels[1].pk, "meaning": "x", "password": "x"},
    )
    assert r.status_code == 403
    assert not EscalationDecision.objects.filter(plan=plan).exists()
