"""Setting up a trial from the web: create, edit, lifecycle, cohorts, dose levels, consent forms.

Personas (tests/conftest.py): the investigator and the data manager of the main site may edit the
portfolio of its trials; the nurse of the main site sees them but may not; the partner
investigator does not see the main site's trials at all.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.subjects.models import ConsentForm
from oncotrials.apps.trials.models import Cohort, DoseLevel, Trial, TrialStatus

NEW_TRIAL = {
    "protocol_code": "ONC-2027-01",
    "title": "A first-in-human study of XB-101",
    "sponsor": "Institut",
    "sponsor_type": "academic",
    "phase": "I-esc",
    "modality": "drug",
    "tumour_types": "nsclc, COAD",
    "targets": "KRAS G12C; EGFR",
}


def _events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("pk"))


def _page(response) -> str:
    return response.content.decode()


# --- create a trial ----------------------------------------------------------------------------


def test_the_portfolio_offers_a_new_trial_to_those_who_may_create_one(unit, client_for):
    assert 'data-testid="trial-new"' in _page(client_for("datamanager").get("/trials/"))
    assert 'data-testid="trial-new"' not in _page(client_for("nurse").get("/trials/"))


def test_the_new_trial_form_offers_only_the_sites_where_the_user_may_edit(unit, client_for):
    r = client_for("investigator").get("/trials/new/")
    assert r.status_code == 200
    sites = r.context["form"].fields["sites"].queryset
    assert [s.code for s in sites] == ["main"]
    assert 'list="oncotree-codes"' in _page(r)
    assert '<option value="NSCLC">' in _page(r)


def test_a_trial_is_created_and_audited(unit, client_for):
    r = client_for("investigator").post("/trials/new/", {**NEW_TRIAL, "sites": [unit.main.pk]})
    trial = Trial.objects.get(protocol_code="ONC-2027-01")
    assert r.status_code == 302
    assert r.url == f"/trials/{trial.pk}/"
    assert trial.tumour_types == ["NSCLC", "COAD"]
    assert trial.targets == ["KRAS G12C", "EGFR"]
    assert [s.code for s in trial.sites.all()] == ["main"]
    (event,) = _events(object_type="trials.trial", object_id=str(trial.pk))
    assert event.action == "create"
    assert event.actor_username == "investigator"
    assert event.changes["sites"] == [None, ["main"]]


def test_an_invalid_trial_keeps_the_input_and_shows_each_error_by_its_field(unit, client_for):
    before = Trial.objects.count()
    data = {**NEW_TRIAL, "title": "", "tumour_types": "NSCLC, NOTACODE", "nct_number": "NCT12"}
    r = client_for("investigator").post("/trials/new/", {**data, "sites": [unit.main.pk]})
    assert r.status_code == 422
    form = r.context["form"]
    assert set(form.errors) == {"title", "tumour_types"}
    assert "NOTACODE is not an OncoTree code" in form.errors["tumour_types"][0]
    page = _page(r)
    assert 'value="ONC-2027-01"' in page
    assert 'value="NSCLC, NOTACODE"' in page
    assert Trial.objects.count() == before


def test_a_service_refusal_is_shown_next_to_its_field(unit, client_for):
    data = {**NEW_TRIAL, "nct_number": "NCT12", "sites": [unit.main.pk]}
    r = client_for("investigator").post("/trials/new/", data)
    assert "nct_number must look like NCT01234567" in r.context["form"].errors["nct_number"][0]
    duplicate = {**NEW_TRIAL, "protocol_code": "T-MAIN", "sites": [unit.main.pk]}
    r = client_for("investigator").post("/trials/new/", duplicate)
    assert "already exists" in r.context["form"].errors["protocol_code"][0]


def test_a_site_where_the_user_may_not_edit_is_refused(unit, client_for):
    r = client_for("investigator").post("/trials/new/", {**NEW_TRIAL, "sites": [unit.partner.pk]})
    assert r.status_code == 422
    assert "sites" in r.context["form"].errors
    assert not Trial.objects.filter(protocol_code="ONC-2027-01").exists()


@pytest.mark.parametrize("persona", ["nurse", "monitor", "outsider"])
def test_who_may_not_edit_the_portfolio_cannot_create_a_trial(unit, client_for, persona):
    client = client_for(persona)
    assert client.get("/trials/new/").status_code == 403
    r = client.post("/trials/new/", {**NEW_TRIAL, "sites": [unit.main.pk]})
    assert r.status_code == 403
    assert not Trial.objects.filter(protocol_code="ONC-2027-01").exists()


# --- edit a trial ------------------------------------------------------------------------------


def _edit_data(trial: Trial, **changes: str) -> dict[str, object]:
    data: dict[str, object] = {
        "protocol_code": trial.protocol_code,
        "title": trial.title,
        "sponsor": trial.sponsor,
        "sponsor_type": trial.sponsor_type,
        "phase": trial.phase,
        "modality": trial.modality,
        "tumour_types": ", ".join(trial.tumour_types),
        "targets": ", ".join(trial.targets),
        "expected_version": trial.version,
        "reason": "Protocol amendment 2",
        "sites": [ts.site_id for ts in trial.trial_sites.all()],
    }
    return {**data, **changes}


def test_the_edit_form_shows_the_trial(unit, client_for):
    r = client_for("datamanager").get(f"/trials/{unit.trial_main.pk}/edit/")
    assert r.status_code == 200
    assert 'value="NSCLC"' in _page(r)
    assert 'value="KRAS G12C"' in _page(r)


def test_a_trial_is_edited_with_a_reason_and_audited(unit, client_for):
    trial = unit.trial_main
    data = _edit_data(trial, title="New title", targets="KRAS G12C, SHP2")
    r = client_for("datamanager").post(f"/trials/{trial.pk}/edit/", data)
    assert r.status_code == 302
    trial.refresh_from_db()
    assert (trial.title, trial.targets, trial.version) == ("New title", ["KRAS G12C", "SHP2"], 2)
    event = _events(object_type="trials.trial", object_id=str(trial.pk), action="update")[-1]
    assert event.reason == "Protocol amendment 2"
    assert set(event.changes) == {"title", "targets"}


def test_an_edit_without_reason_or_on_a_stale_version_is_refused(unit, client_for):
    trial = unit.trial_main
    client = client_for("datamanager")
    r = client.post(f"/trials/{trial.pk}/edit/", _edit_data(trial, title="X", reason=""))
    assert r.status_code == 422
    assert "reason" in r.context["form"].errors
    assert 'value="X"' in _page(r)
    r = client.post(f"/trials/{trial.pk}/edit/", _edit_data(trial, title="X", expected_version="9"))
    assert "changed by someone else" in " ".join(r.context["form"].non_field_errors())
    trial.refresh_from_db()
    assert trial.title == "Trial T-MAIN"


def test_editing_needs_the_right_and_the_trial_in_sight(unit, client_for):
    trial = unit.trial_main
    assert client_for("nurse").get(f"/trials/{trial.pk}/edit/").status_code == 403
    assert client_for("partner_investigator").get(f"/trials/{trial.pk}/edit/").status_code == 404
    r = client_for("nurse").post(f"/trials/{trial.pk}/edit/", _edit_data(trial, title="X"))
    assert r.status_code == 403
    trial.refresh_from_db()
    assert trial.title == "Trial T-MAIN"


# --- lifecycle ---------------------------------------------------------------------------------


def test_the_trial_page_offers_the_next_statuses_of_the_lifecycle(unit, client_for):
    page = _page(client_for("investigator").get(f"/trials/{unit.trial_main.pk}/"))
    assert 'data-testid="status-set_up"' in page
    assert 'data-testid="status-closed"' in page
    assert 'data-testid="status-open"' not in page  # feasibility -> set-up or closed only
    nurse_page = _page(client_for("nurse").get(f"/trials/{unit.trial_main.pk}/"))
    assert 'data-testid="lifecycle"' not in nurse_page


def test_a_status_change_calls_the_lifecycle_service(unit, client_for):
    trial = unit.trial_main
    client = client_for("investigator")
    r = client.post(f"/trials/{trial.pk}/status/", {"to_status": "set_up", "reason": "SIV done"})
    assert r.status_code == 302
    trial.refresh_from_db()
    assert trial.status == TrialStatus.SET_UP
    assert trial.status_history.last().reason == "SIV done"
    event = _events(object_type="trials.trial", object_id=str(trial.pk), action="status")[-1]
    assert event.changes == {"status": ["feasibility", "set_up"]}


def test_a_status_change_needs_a_reason_and_an_allowed_status(unit, client_for):
    trial = unit.trial_main
    client = client_for("investigator")
    r = client.post(f"/trials/{trial.pk}/status/", {"to_status": "set_up", "reason": ""})
    assert r.status_code == 422
    assert 'id="status-set_up-reason"' in _page(r)
    assert "This field is required." in _page(r)
    # The refusal is told on the form, once: no flash message above the page repeats it.
    assert 'class="messages"' not in _page(r)
    r = client.post(f"/trials/{trial.pk}/status/", {"to_status": "open", "reason": "go"})
    assert r.status_code == 422
    trial.refresh_from_db()
    assert trial.status == TrialStatus.FEASIBILITY


def test_a_status_change_needs_the_right(unit, client_for):
    trial = unit.trial_main
    data = {"to_status": "set_up", "reason": "x"}
    assert client_for("nurse").post(f"/trials/{trial.pk}/status/", data).status_code == 403
    assert client_for("monitor").post(f"/trials/{trial.pk}/status/", data).status_code == 403
    assert (
        client_for("partner_investigator").post(f"/trials/{trial.pk}/status/", data).status_code
        == 404
    )
    trial.refresh_from_db()
    assert trial.status == TrialStatus.FEASIBILITY


# --- cohorts and dose levels -------------------------------------------------------------------


def test_a_cohort_is_added_on_the_trial_page(unit, client_for):
    trial = unit.trial_main
    data = {"cohort-code": "EXP", "cohort-name": "Expansion", "cohort-kind": "expansion"}
    data["cohort-target_accrual"] = "20"
    r = client_for("datamanager").post(f"/trials/{trial.pk}/cohorts/new/", data)
    assert r.status_code == 302
    cohort = Cohort.objects.get(trial=trial, code="EXP")
    assert cohort.target_accrual == 20
    assert _events(object_type="trials.cohort", object_id=str(cohort.pk))[0].action == "create"


def test_an_invalid_cohort_is_shown_again_with_its_errors(unit, client_for):
    trial = unit.trial_main
    data = {"cohort-code": "ESC", "cohort-name": "Again", "cohort-kind": "escalation"}
    r = client_for("datamanager").post(f"/trials/{trial.pk}/cohorts/new/", data)
    assert r.status_code == 422
    assert "already has a cohort 'ESC'" in r.context["cohort_form"].errors["code"][0]
    assert 'value="Again"' in _page(r)
    r = client_for("datamanager").post(
        f"/trials/{trial.pk}/cohorts/new/", {"cohort-code": "X", "cohort-kind": "nope"}
    )
    assert set(r.context["cohort_form"].errors) == {"name", "kind"}


def test_a_cohort_is_edited_with_a_reason(unit, client_for):
    cohort = Cohort.objects.get(trial=unit.trial_main, code="ESC")
    client = client_for("investigator")
    assert client.get(f"/cohorts/{cohort.pk}/edit/").status_code == 200
    data = {
        "code": "ESC",
        "name": "Part A escalation",
        "kind": "escalation",
        "is_open": "on",
        "expected_version": cohort.version,
        "reason": "typo",
    }
    assert client.post(f"/cohorts/{cohort.pk}/edit/", data).status_code == 302
    cohort.refresh_from_db()
    assert cohort.name == "Part A escalation"
    event = _events(object_type="trials.cohort", object_id=str(cohort.pk), action="update")[0]
    assert event.changes == {"name": ["Escalation", "Part A escalation"]}
    r = client.post(f"/cohorts/{cohort.pk}/edit/", {**data, "name": "", "reason": ""})
    assert r.status_code == 422
    assert set(r.context["form"].errors) == {"name", "reason"}


def test_a_dose_level_is_added_and_shown_as_written(unit, client_for):
    cohort = Cohort.objects.get(trial=unit.trial_main, code="ESC")
    client = client_for("investigator")
    prefix = f"dl{cohort.pk}"
    data = {f"{prefix}-level": "2", f"{prefix}-agent": "Drug A", f"{prefix}-dose": "50"}
    data[f"{prefix}-unit"] = "mg"
    r = client.post(f"/cohorts/{cohort.pk}/dose-levels/new/", data)
    assert r.status_code == 302
    level = DoseLevel.objects.get(cohort=cohort, level=2)
    assert level.dose == Decimal("50")
    assert _events(object_type="trials.doselevel", object_id=str(level.pk))[0].action == "create"
    page = _page(client.get(f"/trials/{unit.trial_main.pk}/"))
    assert "50 mg" in page
    assert "5E+1" not in page
    assert "10 mg" in page


def test_an_invalid_dose_level_keeps_the_input(unit, client_for):
    cohort = Cohort.objects.get(trial=unit.trial_main, code="ESC")
    prefix = f"dl{cohort.pk}"
    data = {f"{prefix}-level": "1", f"{prefix}-agent": "Drug A", f"{prefix}-dose": "12.5"}
    data[f"{prefix}-unit"] = "mg"
    r = client_for("investigator").post(f"/cohorts/{cohort.pk}/dose-levels/new/", data)
    assert r.status_code == 422
    (_cohort, form) = next(c for c in r.context["cohorts"] if c[0].pk == cohort.pk)
    assert "already has level 1" in form.errors["level"][0]
    assert 'value="12.5"' in _page(r)
    data[f"{prefix}-dose"] = "abc"
    r = client_for("investigator").post(f"/cohorts/{cohort.pk}/dose-levels/new/", data)
    (_cohort, form) = next(c for c in r.context["cohorts"] if c[0].pk == cohort.pk)
    assert "dose" in form.errors


def test_a_dose_level_is_edited_and_its_dose_shown_as_written(unit, client_for):
    level = DoseLevel.objects.get(cohort__trial=unit.trial_main)
    client = client_for("investigator")
    r = client.get(f"/dose-levels/{level.pk}/edit/")
    assert 'value="10"' in _page(r)
    data = {
        "level": "1",
        "agent": "Drug A",
        "dose": "12.5",
        "unit": "mg",
        "schedule": "QD",
        "expected_version": level.version,
        "reason": "protocol v2",
    }
    assert client.post(f"/dose-levels/{level.pk}/edit/", data).status_code == 302
    level.refresh_from_db()
    assert (level.dose_text, level.schedule) == ("12.5", "QD")
    event = _events(object_type="trials.doselevel", object_id=str(level.pk), action="update")[0]
    assert event.changes["schedule"] == ["", "QD"]


def test_a_dose_level_in_use_keeps_its_dose(journey, client_for, screen):
    from oncotrials.apps.subjects.services import registration_create

    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    level = journey.dose_level
    data = {
        "level": "1",
        "agent": "Drug B",
        "dose": "60",
        "unit": "mg",
        "schedule": "",
        "expected_version": level.version,
        "reason": "typo",
    }
    r = client_for("investigator").post(f"/dose-levels/{level.pk}/edit/", data)
    assert r.status_code == 422
    assert "already in use" in r.context["form"].errors["dose"][0]
    level.refresh_from_db()
    assert level.dose == Decimal("50")


def test_cohort_and_dose_level_pages_need_the_right_and_the_trial_in_sight(unit, client_for):
    cohort = Cohort.objects.get(trial=unit.trial_main, code="ESC")
    level = cohort.dose_levels.get()
    for persona, status in [("nurse", 403), ("monitor", 403), ("partner_investigator", 404)]:
        client = client_for(persona)
        assert client.get(f"/cohorts/{cohort.pk}/edit/").status_code == status
        assert client.get(f"/dose-levels/{level.pk}/edit/").status_code == status
        r = client.post(
            f"/trials/{unit.trial_main.pk}/cohorts/new/",
            {"cohort-code": "Z", "cohort-name": "Z", "cohort-kind": "expansion"},
        )
        assert r.status_code == status
        r = client.post(f"/cohorts/{cohort.pk}/dose-levels/new/", {})
        assert r.status_code == status
    assert Cohort.objects.filter(trial=unit.trial_main).count() == 1


# --- consent form versions ---------------------------------------------------------------------


def test_consent_form_versions_are_listed_and_added(unit, client_for):
    trial = unit.trial_main
    client = client_for("datamanager")
    r = client.get(f"/trials/{trial.pk}/consent-forms/", HTTP_HX_REQUEST="true")
    assert "No consent form version yet." in _page(r)
    assert 'data-testid="consent-form-form"' in _page(r)
    data = {
        "icf-version": "1.0",
        "icf-version_date": "2027-01-05",
        "icf-ethics_approval_date": "2027-02-01",
        "icf-valid_from": "2027-02-01",
        "icf-options": ["future_research"],
    }
    r = client.post(f"/trials/{trial.pk}/consent-forms/", data, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    form = ConsentForm.objects.get(trial=trial)
    assert (form.version, form.options) == ("1.0", ["future_research"])
    assert ">1.0<" in _page(r)
    assert _events(object_type="subjects.consentform", object_id=str(form.pk))[0].action == "create"


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx-partial"])
def test_an_invalid_consent_form_version_shows_its_errors(unit, client_for, htmx):
    """With htmx too the refusal answers 422 (htmx swaps it into the panel like a 200)."""
    trial = unit.trial_main
    data = {
        "icf-version": "1.0",
        "icf-version_date": "2027-01-05",
        "icf-ethics_approval_date": "2027-02-01",
        "icf-valid_from": "2027-01-01",
    }
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    r = client_for("datamanager").post(f"/trials/{trial.pk}/consent-forms/", data, **headers)
    assert r.status_code == 422
    assert "valid before its ethics approval" in r.context["form"].errors["valid_from"][0]
    page = _page(r)
    assert "valid before its ethics approval" in page
    assert 'value="2027-01-01"' in page
    assert ("<html" not in page) is htmx  # the panel's fragment, not a page
    assert not ConsentForm.objects.filter(trial=trial).exists()


def test_consent_form_versions_need_the_right_and_the_trial_in_sight(unit, client_for):
    trial = unit.trial_main
    data = {
        "icf-version": "1.0",
        "icf-version_date": "2027-01-05",
        "icf-ethics_approval_date": "2027-02-01",
        "icf-valid_from": "2027-02-01",
    }
    nurse = client_for("nurse")
    assert "consent-form-form" not in _page(nurse.get(f"/trials/{trial.pk}/consent-forms/"))
    assert nurse.post(f"/trials/{trial.pk}/consent-forms/", data).status_code == 403
    outsider = client_for("partner_investigator")
    assert outsider.get(f"/trials/{trial.pk}/consent-forms/").status_code == 404
    assert outsider.post(f"/trials/{trial.pk}/consent-forms/", data).status_code == 404
    assert not ConsentForm.objects.filter(trial=trial).exists()
