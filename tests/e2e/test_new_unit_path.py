"""A new unit's first phase I trial, walked entirely through the pages by an investigator.

Create the trial (3 dose levels, BOIN), open it, add its consent form version; refer a
patient, record the consent, the screening and the registration (the form offers only the
dose level the escalation allows), an adverse event (grade 4, possibly related, in the DLT
window: the trial has no DLT rules, so a pending DLT case is proposed), adjudicate the case on
the DLT review page, see the escalation counts and recommendation change, and sign the
committee's decision. Screenshots of the key steps go to test-results/.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"  # tests/conftest.py
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
CODE = "NU-101-001"


def _login(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"new-unit-{name}.png"), full_page=True, caret="initial")


def _success(page: Any, text: str) -> None:
    """The page after a post carries no error message, and says ``text`` somewhere."""
    errors = page.locator(".messages li.error")
    assert errors.count() == 0, errors.all_inner_texts()
    expect(page.locator(".messages")).to_contain_text(text)


def _create_trial(page: Any, live_server: Any, add_dose_level: Any) -> int:
    page.goto(f"{live_server.url}/trials/")
    page.click("[data-testid=trial-new]")
    page.fill("#id_protocol_code", CODE)
    page.fill("#id_title", "First-in-human study of NU-101 in advanced solid tumours")
    page.fill("#id_sponsor", "Institut")
    page.select_option("#id_sponsor_type", "academic")
    page.select_option("#id_phase", "I-esc")
    page.select_option("#id_modality", "drug")
    page.fill("#id_tumour_types", "NSCLC")
    page.fill("#id_targets", "KRAS G12C")
    page.check("input[name=sites]")
    with page.expect_navigation():
        page.click("[data-testid=trial-form] button[type=submit]")
    expect(page.locator("h1")).to_contain_text(CODE)
    trial_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    page.click("summary:has-text('Add a cohort')")
    page.fill("#id_cohort-code", "ESC")
    page.fill("#id_cohort-name", "Dose escalation")
    page.select_option("#id_cohort-kind", "escalation")
    with page.expect_navigation():
        page.click("[data-testid=cohort-form] button[type=submit]")
    for level, dose in (("1", "50"), ("2", "100"), ("3", "200")):
        add_dose_level(page, "ESC", level, dose, agent="NU-101", schedule="QD d1-28")
    expect(
        page.locator("[data-testid=cohort]", has_text="ESC").locator("[data-testid=dose-level]")
    ).to_have_count(3)
    return trial_id


def _open_trial(page: Any) -> None:
    for status, label in (("set_up", "Set-up"), ("open", "Open")):
        form = page.locator(f"[data-testid=status-{status}]")
        form.locator("[name=reason]").fill(f"{label}: approvals in place")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
    expect(page.locator("h1 .status")).to_contain_text("Open")


def _add_consent_form_version(page: Any, today: dt.date) -> None:
    panel = page.locator("[data-testid=consent-forms]")
    panel.wait_for()
    panel.locator("summary", has_text="Add a consent form version").click()
    form = panel.locator("[data-testid=consent-form-form]")
    form.locator("[name=icf-version]").fill("1.0")
    form.locator("[name=icf-version_date]").fill((today - dt.timedelta(days=60)).isoformat())
    form.locator("[name=icf-ethics_approval_date]").fill(
        (today - dt.timedelta(days=30)).isoformat()
    )
    form.locator("[name=icf-valid_from]").fill((today - dt.timedelta(days=30)).isoformat())
    form.locator("input[name=icf-options][value=future_research]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=consent-forms] [data-testid=consent-form]")).to_have_count(1)


def _boin_plan(page: Any) -> None:
    page.locator("[data-testid=cohort]", has_text="ESC").locator("[data-testid=plan-new]").click()
    page.select_option("#id_design", "boin")
    page.fill("#id_target", "0.3")
    page.click("[data-testid=plan-preview]")
    expect(page.locator("[data-testid=decision-table]")).to_contain_text("target 0.3")
    with page.expect_navigation():
        page.click("[data-testid=plan-save]")
    expect(page.locator("h1")).to_contain_text("Dose escalation")
    expect(page.locator("[data-testid=escalation-state] tbody tr")).to_have_count(3)


def _refer(page: Any, live_server: Any, today: dt.date) -> int:
    page.goto(f"{live_server.url}/patients/new/")
    page.fill("#id_family_name", "Lemoine")
    page.fill("#id_given_name", "Anne")
    page.fill("#id_birth_date", "1958-06-14")
    page.fill("#id_hospital_number", "H-NU-0001")
    page.select_option("#id_sex", "F")
    page.fill("#id_diagnosis", "LUAD")
    page.select_option("#id_referral_source", index=1)  # index 0: the empty choice
    page.fill("#id_referral_date", (today - dt.timedelta(days=14)).isoformat())
    with page.expect_navigation():
        page.click("form.stacked button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Referral registered as")
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def _post(page: Any, testid: str) -> None:
    with page.expect_navigation():
        page.locator(f"[data-testid={testid}] button[type=submit]").click()


def test_new_unit_runs_its_first_boin_trial_through_the_pages(
    page, live_server, unit, add_dose_level
):
    import zoneinfo

    from django.utils import timezone

    from oncotrials.apps.dosing.models import EscalationDecision
    from oncotrials.apps.safety.models import AdverseEvent, DltCase
    from oncotrials.apps.subjects.models import Registration

    # The live server's clock in the investigator's site's zone: forms default to it (after
    # 23:00 UTC, Paris is already on the next day).
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(unit.main.time_zone))
    _login(page, live_server, "investigator")

    # --- the trial, its cohort and three dose levels, opened, with its consent form version
    trial_id = _create_trial(page, live_server, add_dose_level)
    _open_trial(page)
    _add_consent_form_version(page, today)
    _shot(page, "trial")

    # --- the escalation plan: BOIN, target 0.3
    _boin_plan(page)
    escalation_url = page.url
    expect(page.locator("[data-testid=recommendation]")).to_be_visible()

    # --- referral, consent, screening, eligibility
    patient_id = _refer(page, live_server, today)
    consent = page.locator("[data-testid=form-consent]")
    consent.locator("[name=form]").select_option(label=f"{CODE} ICF v1.0")
    consent.locator("[name=future_research]").check()
    _post(page, "form-consent")
    _success(page, "Consent to")
    screen = page.locator("[data-testid=form-screen]")
    screen_options = screen.locator("[name=trial] option").all_inner_texts()
    screen.locator("[name=trial]").select_option(
        label=next(o for o in screen_options if o.startswith(CODE))
    )
    screen.locator("[name=kind]").select_option("screening")
    _post(page, "form-screen")
    _success(page, "Screening for")
    close = page.locator("[data-testid=form-close]")
    close.locator("[name=outcome]").select_option("eligible")
    _post(page, "form-close")
    _success(page, "Screening closed.")

    # --- registration: only the level the escalation allows (DL1) is offered
    register = page.locator("[data-testid=form-register]")
    options = register.locator("[name=cohort] option").all_inner_texts()
    ours = [o for o in options if CODE in o]
    allowed = [o for o in ours if "override" not in o]
    assert allowed == [f"{CODE} / ESC — DL1 50 mg"], options
    # an investigator may decide the dose: the other levels are offered as overrides only
    assert [o for o in ours if "override" in o] == [
        f"{CODE} / ESC — DL2 100 mg — override: give the reason",
        f"{CODE} / ESC — DL3 200 mg — override: give the reason",
    ]
    _shot(page, "registration-form")
    register.locator("[name=cohort]").select_option(label=allowed[0])
    _post(page, "form-register")
    _success(page, "Registered in")
    registration = Registration.objects.get(patient_id=patient_id)
    assert registration.dose_level.level == 1

    # --- an adverse event: grade 4, possibly related, in the DLT window
    page.click("text=Adverse events")
    page.click("text=Record an adverse event")
    form = page.locator("#ae-form")
    form.wait_for()
    form.locator("input[name=term]").fill("Neutrophil count decreased")
    form.locator("select[name=grade]").select_option("4")
    form.locator("input[name=onset_date]").fill(today.isoformat())
    form.locator('select[name="attribution__NU-101"]').select_option("possible")
    form.locator("select[name=action_taken]").select_option("interrupted")
    form.locator("select[name=outcome]").select_option("recovering")
    form.locator("button[name=action][value=complete]").click()
    error = page.locator("#ae-form [role=alert]")
    page.wait_for_selector(
        "[data-testid=ae-list] td:has-text('Neutrophil count decreased'), #ae-form [role=alert]"
    )
    assert error.count() == 0, error.all_inner_texts()
    ae = AdverseEvent.objects.get(registration=registration)
    assert (ae.grade, ae.attribution) == (4, {"NU-101": "possible"})
    page.reload()
    expect(page.locator("[data-testid=dlt-status]")).to_contain_text("pending")
    case = DltCase.objects.get(registration=registration)
    assert case.status == "proposed"
    _shot(page, "adverse-event")

    # --- the escalation counts the patient as pending before adjudication
    page.goto(escalation_url)
    dl1 = page.locator("[data-testid=escalation-state] tbody tr").nth(0)
    expect(dl1.locator("td").nth(2)).to_have_text("1")  # treated
    expect(dl1.locator("td").nth(4)).to_have_text("0")  # DLTs
    expect(dl1.locator("td").nth(5)).to_have_text("1")  # pending
    before = page.locator("[data-testid=recommendation]").inner_text()

    # --- the DLT review page: the investigator confirms the DLT, signed
    page.goto(f"{live_server.url}/safety/dlt/")
    row = page.locator("[data-testid=dlt-cases] tbody tr", has_text="Neutrophil count decreased")
    row.locator("select[name=decision]").select_option("confirm")
    row.locator("input[name=reason]").fill("grade 4 neutropenia within the DLT window")
    row.locator("input[name=password]").fill(PASSWORD)  # signing asks for the password again
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=dlt-cases]")).to_contain_text("Signed investigator")
    case.refresh_from_db()
    assert (case.status, case.signed_name) == ("confirmed", "investigator")
    _shot(page, "dlt-review")

    # --- the escalation page: one DLT at DL1, the recommendation follows
    page.goto(escalation_url)
    dl1 = page.locator("[data-testid=escalation-state] tbody tr").nth(0)
    expect(dl1.locator("td").nth(4)).to_have_text("1")  # DLTs
    expect(dl1.locator("td").nth(5)).to_have_text("0")  # pending
    after = page.locator("[data-testid=recommendation]").inner_text()
    assert "1/1 DLTs at DL1" in after, after  # the page names its levels
    assert after != before, (before, after)
    _shot(page, "escalation-after-dlt")

    # --- the committee's decision, signed: a wrong password is refused beside the password,
    # the choices kept and nothing recorded; the right one records the decision
    form = page.locator("[data-testid=decision-form]")
    recommended = form.locator("select[name=action]").input_value()
    level = form.locator("select[name=next_dose_level]").input_value()
    form.locator("input[name=meaning]").fill("Approved by the safety review committee")
    form.locator("input[name=password]").fill("not-my-password")
    with page.expect_navigation():
        form.locator("[data-testid=decision-submit]").click()
    form = page.locator("[data-testid=decision-form]")
    expect(form.locator("[data-testid=error-summary]")).to_contain_text("password does not match")
    expect(form.locator("[data-testid=error-password]")).to_contain_text("password does not match")
    password = form.locator("input[name=password]")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_attribute("aria-describedby", "decision-password-error")
    expect(password).to_have_value("")  # never sent back
    expect(form.locator("select[name=action]")).to_have_value(recommended)
    expect(form.locator("select[name=next_dose_level]")).to_have_value(level)
    expect(form.locator("input[name=meaning]")).to_have_value(
        "Approved by the safety review committee"
    )
    expect(page.locator("[data-testid=decisions] tbody tr td.empty")).to_have_count(1)
    assert not EscalationDecision.objects.exists()
    _shot(page, "committee-decision-refused")
    password.fill(PASSWORD)
    with page.expect_navigation():
        form.locator("[data-testid=decision-submit]").click()
    _success(page, "Decision recorded and signed.")
    expect(page.locator("[data-testid=decisions] tbody tr")).to_have_count(1)
    expect(page.locator("[data-testid=decisions]")).to_contain_text(recommended)
    decision = EscalationDecision.objects.get()
    assert decision.decided_action == recommended
    assert decision.signed_by.username == "investigator"
    _shot(page, "committee-decision")
    assert trial_id == registration.trial_id
