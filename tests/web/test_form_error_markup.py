"""The forms that used Django's default layout now render with the shared accessible fields: a
refused submit shows the error summary (``role="alert"``, each error a link to its field), the
field marked ``aria-invalid`` with its error beside it, what was typed kept, and nothing saved.
Required fields carry the "*" and the note explaining it; no choice with clinical weight is
pre-selected."""

from __future__ import annotations

import re

import pytest

from form_markup import form_html as _form
from form_markup import refused as _refused
from oncotrials.apps.subjects.models import ConsentForm, Patient
from oncotrials.apps.trials.models import Trial, TrialStatus

pytestmark = pytest.mark.django_db


def test_the_referral_form_keeps_the_input_and_marks_the_missing_fields(unit, client_for):
    c = client_for("nurse")
    before = Patient.objects.count()
    page = _form(c.get("/patients/new/").content.decode(), "referral-form")
    assert 'class="required-note"' in page
    assert 'aria-required="true"' in page
    assert '<option value="" selected>—</option>' in page  # sex and source have no default
    r = c.post(
        "/patients/new/",
        {"site": "main", "family_name": "Lopez", "given_name": "Ana", "birth_date": "1958-03-02"},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "referral-form")
    _refused(form, "id_hospital_number", kept='value="Lopez"')
    _refused(form, "id_sex")
    _refused(form, "id_referral_source")
    assert 'value="1958-03-02"' in form
    assert Patient.objects.count() == before


def test_the_consent_form_version_form_shows_each_error_beside_its_field(unit, client_for):
    trial = unit.trial_main
    r = client_for("datamanager").post(
        f"/trials/{trial.pk}/consent-forms/",
        {"icf-version": "2.0", "icf-version_date": "not a date", "icf-options": ["sample_storage"]},
        HTTP_HX_REQUEST="true",
    )
    form = _form(r.content.decode(), "consent-form-form")
    _refused(form, "id_icf-version_date", kept='value="2.0"')
    _refused(form, "id_icf-ethics_approval_date")
    assert 'value="not a date"' in form
    assert re.search(r'<input[^>]*value="sample_storage"[^>]*checked', form)
    assert not re.search(r'<input[^>]*value="future_research"[^>]*checked', form)
    assert not ConsentForm.objects.filter(trial=trial).exists()


def test_the_visit_schedule_upload_keeps_the_text_and_marks_the_document(unit, client_for):
    trial = unit.trial_main
    r = client_for("datamanager").post(
        f"/trials/{trial.pk}/visit-schedule/",
        {"schedule-document": "visits: [unclosed", "schedule-reason": "Amendment 4"},
        HTTP_HX_REQUEST="true",
    )
    form = _form(r.content.decode(), "visit-schedule-form")
    _refused(form, "id_schedule-document", kept="visits: [unclosed")
    assert 'value="Amendment 4"' in form
    assert "Not valid YAML or JSON" in form


def test_a_lifecycle_change_without_reason_is_marked_on_its_own_form(unit, client_for):
    trial = unit.trial_main
    r = client_for("investigator").post(
        f"/trials/{trial.pk}/status/", {"to_status": "set_up", "reason": ""}
    )
    assert r.status_code == 422
    html = r.content.decode()
    _refused(_form(html, "status-set_up"), "status-set_up-reason")
    assert 'aria-invalid="true"' not in _form(html, "status-closed")
    assert len(re.findall(r'id="status-set_up-reason"', html)) == 1
    assert Trial.objects.get(pk=trial.pk).status == TrialStatus.FEASIBILITY
