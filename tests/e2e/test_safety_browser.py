"""Safety pages in a browser: a research nurse records an adverse event through the form (a grade
the CTCAE term does not define is refused on screen, then a valid event is saved), the SAE work
list shows what is due and overdue, an investigator adjudicates the DLT case the event raised and
the toxicity board reviews it. Screenshots are kept to look at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"  # tests/conftest.py
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
TODAY = dt.date(2026, 11, 20)  # the journey fixture's clinical date
RULES = {
    "dlt": {
        "protocol": "T-SHARED",
        "window": {"anchor": "first_dose", "days": 21},
        "rules": [{"id": "NONHEME_G3", "category": "non_hematologic", "min_grade": 3}],
    }
}


def _login(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    # caret="initial": hiding the caret leaves empty style attributes that htmx would copy on
    # its next swap (a CSP report the application itself never causes)
    page.screenshot(path=str(ARTIFACTS / f"safety-{name}.png"), full_page=True, caret="initial")


def _registered(journey: Any, screen: Any) -> Any:
    from django.utils import timezone

    from oncotrials.apps.safety.dlt_review import dlt_rules_save
    from oncotrials.apps.safety.services import adverse_event_create
    from oncotrials.apps.subjects.services import registration_create

    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    dlt_rules_save(trial=reg.trial, document=RULES, by=journey.unit.users["investigator"])
    now = timezone.now()
    for term, hours_ago in (("Pneumonitis", 30), ("Sepsis", 2)):  # initial report due in 24 h
        adverse_event_create(
            registration=reg,
            data={
                "term": term,
                "grade": 2 if term == "Pneumonitis" else 4,
                "onset_date": "2026-11-15",
                "seriousness": ["hospitalisation"],
                "awareness_at": (now - dt.timedelta(hours=hours_ago)).isoformat(),
                "attribution": {"Drug B": "unlikely"},
            },
            by=nurse,
        )
    return reg


def test_adverse_event_form_sae_work_list_dlt_adjudication_and_toxicity_board(
    page, browser, live_server, journey, screen
):
    from oncotrials.apps.safety.dlt_review import dlt_status_for
    from oncotrials.apps.safety.models import AdverseEvent, DltCase, ToxicityBoardCase

    reg = _registered(journey, screen)
    assert AdverseEvent.objects.count() == 2

    # --- a research nurse records an adverse event through the form
    _login(page, live_server, "nurse")
    page.goto(f"{live_server.url}/patients/{reg.patient_id}/adverse-events/")
    page.click("text=Record an adverse event")
    form = page.locator("#ae-form")
    form.wait_for()
    form.locator("input[name=term]").fill("Alopecia")  # CTCAE v5.0 defines grades 1 and 2 only
    form.locator("select[name=grade]").select_option("3")
    form.locator("input[name=onset_date]").fill("2026-11-14")
    form.locator("button[name=action][value=draft]").click()
    error = page.locator("#ae-form [role=alert]")
    error.wait_for()
    assert "Grade 3 does not exist for Alopecia; its grades are 1, 2." in error.inner_text()
    assert AdverseEvent.objects.count() == 2  # nothing saved
    _shot(page, "ae-form-error")
    form = page.locator("#ae-form")
    form.locator("input[name=term]").fill("Colitis")
    form.locator("select[name=grade]").select_option("3")
    form.locator("input[name=onset_date]").fill("2026-11-14")
    form.locator('select[name="attribution__Drug B"]').select_option("probable")
    form.locator("select[name=action_taken]").select_option("interrupted")
    form.locator("select[name=outcome]").select_option("recovering")
    form.locator("input[name=immune_related]").check()
    form.locator("button[name=action][value=complete]").click()
    page.wait_for_selector("[data-testid=ae-list] >> text=Colitis")
    colitis = AdverseEvent.objects.get(term="Colitis")
    assert (colitis.status, colitis.grade, colitis.attribution) == (
        "complete",
        3,
        {"Drug B": "probable"},
    )
    _shot(page, "patient-aes")

    # --- the SAE work list: the report known for 30 h is overdue, the one known for 2 h is due
    page.goto(f"{live_server.url}/safety/")
    rows = page.locator("[data-testid=sae-worklist] tbody tr")
    assert rows.count() == 2
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "Pneumonitis" in first
    assert "overdue" in first
    aware = AdverseEvent.objects.get(term="Pneumonitis").sae_aware_at
    due = (aware + dt.timedelta(hours=24)).astimezone(dt.UTC)  # shown in UTC, as labelled
    assert due.strftime("%Y-%m-%d %H:%M") in first
    assert "Sepsis" in second
    assert "due in 22" in second
    _shot(page, "sae-worklist")

    # --- an investigator adjudicates the DLT case the colitis raised
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    inv = context.new_page()
    _login(inv, live_server, "investigator")
    inv.goto(f"{live_server.url}/safety/dlt/")
    row = inv.locator("[data-testid=dlt-cases] tbody tr", has_text="Colitis")
    assert "NONHEME_G3" in row.inner_text()
    row.locator("select[name=decision]").select_option("confirm")
    row.locator("input[name=reason]").fill("grade 3 colitis needing steroids")
    row.locator("input[name=password]").fill(PASSWORD)
    row.locator("button[type=submit]").click()
    inv.wait_for_selector("[data-testid=dlt-cases] >> text=Signed investigator")
    case = DltCase.objects.get(adverse_event=colitis)
    assert (case.status, case.signed_name) == ("confirmed", "investigator")
    assert dlt_status_for(reg).outcome == "dlt"
    _shot(inv, "dlt-review")

    # --- the toxicity board: a meeting, its case list and a recommendation
    inv.goto(f"{live_server.url}/safety/toxicity-board/")
    inv.fill("input[name=held_on]", TODAY.isoformat())
    inv.fill("input[name=title]", "Novel agents toxicity board")
    inv.click("form.card button[type=submit]")
    inv.wait_for_selector("h1 >> text=Novel agents toxicity board")
    inv.click("button[name=action][value=build]")
    board = inv.locator("[data-testid=board-cases] tbody tr", has_text="Colitis")
    board.wait_for()
    assert "grade 3 immune-related" in board.inner_text()
    assert "Sepsis" not in inv.locator("[data-testid=board-cases]").inner_text()  # expected
    board.locator("textarea[name=recommendation]").fill("Steroid taper; resume at DL-1")
    board.locator("button[type=submit]").click()
    inv.wait_for_selector("[data-testid=board-cases] >> text=Steroid taper; resume at DL-1")
    assert ToxicityBoardCase.objects.get().recommendation == "Steroid taper; resume at DL-1"
    _shot(inv, "toxicity-board")
    context.close()
