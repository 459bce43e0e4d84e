"""Pages and endpoints by persona: partner-site staff and outsiders get 404, monitors read and
verify but never edit, the site enters data, the investigator signs."""

from __future__ import annotations

import re

import pytest

from oncotrials.apps.crfs.models import DataQuery, FormInstance, LabResult, Signature
from oncotrials.apps.crfs.services import form_save

PASSWORD = "a-long-test-password-42"  # tests/conftest.py
VITALS = {"assessed_on": "2026-11-13", "systolic_bp": "120", "heart_rate": "72"}


def _client(cb, name):
    from django.test import Client

    c = Client()
    c.force_login(cb.users[name], backend="django.contrib.auth.backends.ModelBackend")
    return c


def _form(cb):
    return form_save(
        registration=cb.registration,
        visit_code="C1D1",
        form_name="vital_signs",
        data=VITALS,
        version=0,
        complete=True,
        by=cb.users["nurse"],
    )


def _urls(cb, form):
    r = cb.registration.pk
    return [
        f"/crfs/registrations/{r}/",
        f"/crfs/registrations/{r}/forms/C1D1/vital_signs/",
        f"/crfs/registrations/{r}/labs/",
        f"/crfs/registrations/{r}/exposure/",
        f"/api/v1/crfs/registrations/{r}/casebook",
        f"/api/v1/crfs/registrations/{r}/forms/C1D1/vital_signs",
        f"/api/v1/crfs/registrations/{r}/labs",
        f"/api/v1/crfs/registrations/{r}/administrations",
        f"/api/v1/crfs/registrations/{r}/dose-intensity",
        f"/api/v1/crfs/records/crfs.forminstance/{form.pk}/status",
    ]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("nurse", 200),
        ("investigator", 200),
        ("datamanager", 200),
        ("shared_monitor", 200),
        ("admin", 200),
        ("partner_investigator", 404),
        ("outsider", 404),
        ("monitor", 404),  # a monitor of another trial
    ],
)
def test_read_access_matrix(cb, persona, expected):
    form = _form(cb)
    c = _client(cb, persona)
    assert {u: c.get(u).status_code for u in _urls(cb, form)} == dict.fromkeys(
        _urls(cb, form), expected
    )


@pytest.mark.parametrize("persona", ["partner_investigator", "outsider", "monitor"])
def test_writes_by_those_who_may_not_see_are_404_and_change_nothing(cb, persona):
    form = _form(cb)
    c = _client(cb, persona)
    r = cb.registration.pk
    assert (
        c.post(f"/crfs/registrations/{r}/forms/C1D1/vital_signs/", {"version": 1}).status_code
        == 404
    )
    assert (
        c.post(
            f"/crfs/records/crfs.forminstance/{form.pk}/sign/",
            {"password": PASSWORD, "meaning": "reviewed"},
        ).status_code
        == 404
    )
    assert (
        c.post(f"/crfs/records/crfs.forminstance/{form.pk}/queries/", {"text": "?"}).status_code
        == 404
    )
    api = c.post(
        "/api/v1/crfs/queries",
        {"record_type": "crfs.forminstance", "record_id": form.pk, "text": "?"},
        content_type="application/json",
    )
    assert api.status_code == 404
    assert c.get("/api/v1/crfs/queries").json() == {"items": [], "count": 0}
    assert not DataQuery.objects.exists()
    assert not Signature.objects.exists()


def test_monitor_sees_the_form_read_only_verifies_it_and_cannot_edit(cb):
    form = _form(cb)
    c = _client(cb, "shared_monitor")
    page = c.get(
        f"/crfs/registrations/{cb.registration.pk}/forms/C1D1/vital_signs/"
    ).content.decode()
    assert 'data-testid="form-readonly"' in page
    assert "Mark source-verified" in page
    post = c.post(
        f"/crfs/registrations/{cb.registration.pk}/forms/C1D1/vital_signs/",
        {**VITALS, "heart_rate": "99", "version": form.version, "action": "draft", "reason": "x"},
    )
    assert post.status_code == 403
    api = c.put(
        f"/api/v1/crfs/registrations/{cb.registration.pk}/forms/C1D1/vital_signs",
        {"data": VITALS, "version": form.version, "reason": "x"},
        content_type="application/json",
    )
    assert api.status_code == 403
    lab = c.post(
        f"/api/v1/crfs/registrations/{cb.registration.pk}/labs",
        {"analyte": "ALT", "value": 30, "unit": "U/L", "sampled_on": "2026-11-13"},
        content_type="application/json",
    )
    assert lab.status_code == 403
    form.refresh_from_db()
    assert form.data["heart_rate"] == 72
    ok = c.post(
        f"/crfs/records/crfs.forminstance/{form.pk}/verify/",
        {"note": "chart"},
        HTTP_HX_REQUEST="true",
    )
    assert ok.status_code == 200
    assert "source-verified" in ok.content.decode()


def test_form_page_draft_with_errors_then_completion(cb):
    c = _client(cb, "nurse")
    url = f"/crfs/registrations/{cb.registration.pk}/forms/C1D1/vital_signs/"
    bad = {**VITALS, "systolic_bp": "400", "version": "0"}
    refused = c.post(url, {**bad, "action": "complete"})
    assert refused.status_code == 422
    assert "between 40 and 300" in refused.content.decode()
    assert not FormInstance.objects.exists()
    # The refused field says so to assistive technology, its message is tied to it, and the
    # summary (focused on arrival) links to it; the unit is part of the label.
    page = refused.content.decode()
    field = re.search(r'<input id="f-systolic_bp"[^>]*>', page)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="f-systolic_bp-issue-1"' in field.group(0)
    assert 'id="f-systolic_bp-issue-1"' in page
    assert "data-error-summary" in page
    assert 'href="#f-systolic_bp"' in page
    assert re.search(r'<input id="f-heart_rate"[^>]*aria-invalid', page) is None
    draft = c.post(url, {**bad, "action": "draft"}, HTTP_HX_REQUEST="true")
    assert draft.status_code == 200
    assert 'data-check="range"' in draft.content.decode()
    done = c.post(url, {**VITALS, "version": "1", "action": "complete"})
    assert done.status_code == 302
    assert FormInstance.objects.get().status == "complete"


def test_two_users_edit_one_form_page_the_second_is_shown_the_first_users_values(cb):
    form = _form(cb)
    url = f"/crfs/registrations/{cb.registration.pk}/forms/C1D1/vital_signs/"
    nurse, investigator = _client(cb, "nurse"), _client(cb, "investigator")
    first = investigator.post(
        url,
        {
            **VITALS,
            "heart_rate": "80",
            "version": form.version,
            "action": "complete",
            "reason": "chart",
        },
    )
    assert first.status_code == 302
    second = nurse.post(
        url,
        {
            **VITALS,
            "heart_rate": "90",
            "version": form.version,
            "action": "complete",
            "reason": "x",
        },
        HTTP_HX_REQUEST="true",
    )
    assert second.status_code == 409  # htmx swaps a 409 into the form like a 200
    html = second.content.decode()
    assert "<html" not in html  # the form's fragment, not a page
    assert 'data-testid="conflict"' in html
    assert "<dd>80</dd>" in html  # the investigator's value
    assert "<dd>90</dd>" in html  # the nurse's unsaved value
    assert 'name="version" value="2"' in html
    assert FormInstance.objects.get().data["heart_rate"] == 80


def test_under_htmx_a_refused_form_answers_422_in_its_fragment(cb):
    c = _client(cb, "nurse")
    url = f"/crfs/registrations/{cb.registration.pk}/forms/C1D1/vital_signs/"
    bad = {**VITALS, "systolic_bp": "400", "version": "0", "action": "complete"}
    refused = c.post(url, bad, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422  # htmx swaps a 422 into the form like a 200
    html = refused.content.decode()
    assert "<html" not in html
    assert "between 40 and 300" in html
    field = re.search(r'<input id="f-systolic_bp"[^>]*>', html)
    assert field is not None
    assert 'value="400"' in field.group(0)  # what was typed is kept
    assert 'aria-invalid="true"' in field.group(0)
    assert not FormInstance.objects.exists()


def test_under_htmx_a_refused_query_answers_422_in_the_record_panel(cb):
    form = _form(cb)
    dm = _client(cb, "datamanager")
    url = f"/crfs/records/crfs.forminstance/{form.pk}/queries/"
    refused = dm.post(url, {"field": "heart_rate", "text": "  "}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "<html" not in html
    assert "Say what is wrong or what to check." in html
    assert not DataQuery.objects.exists()
    raised = dm.post(url, {"field": "heart_rate", "text": "Check HR"}, HTTP_HX_REQUEST="true")
    assert raised.status_code == 200
    assert DataQuery.objects.get().text == "Check HR"


def test_api_form_round_trip_and_conflict(cb):
    c = _client(cb, "nurse")
    url = f"/api/v1/crfs/registrations/{cb.registration.pk}/forms/C1D1/vital_signs"
    assert c.get(url).json()["status"] == "new"
    r = c.put(url, {"data": VITALS, "version": 0}, content_type="application/json")
    assert r.status_code == 200
    assert r.json()["version"] == 1
    assert r.json()["data"]["heart_rate"] == 72
    bad = c.put(url, {"data": VITALS, "version": 0}, content_type="application/json")
    assert bad.status_code == 409
    assert bad.json()["extra"]["current_version"] == 1
    refused = c.put(
        url,
        {"data": {**VITALS, "systolic_bp": 400}, "version": 1, "complete": True},
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert refused.json()["extra"]["issues"][0]["code"] == "range"


def test_labs_page_refuses_a_unit_that_does_not_fit(cb):
    c = _client(cb, "nurse")
    url = f"/crfs/registrations/{cb.registration.pk}/labs/"
    bad = c.post(
        url, {"analyte": "neutrophils", "value": "0.7", "unit": "mg/dL", "sampled_on": "2026-11-13"}
    )
    assert bad.status_code == 422
    assert "does not fit" in bad.content.decode()
    assert not LabResult.objects.exists()
    ok = c.post(
        url,
        {"analyte": "neutrophils", "value": "0.7", "unit": "10^9/L", "sampled_on": "2026-11-13"},
    )
    assert ok.status_code == 302
    assert LabResult.objects.get().grade == 3


def test_labs_page_takes_the_unit_of_the_limits(cb):
    # Neutrophils 1800 /mm3 with an LLN of 2.0 meant as 10^9/L: refused as implausible without
    # the limits' unit; with it, graded 1 (CTCAE v5.0: <LLN - 1500/mm3) and stored in /mm3.
    c = _client(cb, "nurse")
    url = f"/crfs/registrations/{cb.registration.pk}/labs/"
    row = {"analyte": "neutrophils", "value": "1800", "unit": "/mm3", "lln": "2.0"}
    bad = c.post(url, {**row, "sampled_on": "2026-11-13"})
    assert bad.status_code == 422
    assert "not a plausible LLN" in bad.content.decode()
    assert not LabResult.objects.exists()
    ok = c.post(url, {**row, "limit_unit": "10^9/L", "sampled_on": "2026-11-13"})
    assert ok.status_code == 302
    lab = LabResult.objects.get()
    assert (lab.grade, lab.lln) == (1, 2000)
    assert "Unit of the limits" in c.get(url).content.decode()
    wrong = c.post(url, {**row, "limit_unit": "mg/dL", "sampled_on": "2026-11-12"})
    assert wrong.status_code == 422
    assert LabResult.objects.count() == 1


def test_sign_and_invalidate_through_the_pages(cb):
    form = _form(cb)
    c = _client(cb, "investigator")
    signed = c.post(
        f"/crfs/records/crfs.forminstance/{form.pk}/sign/",
        {"password": PASSWORD, "meaning": "reviewed"},
        HTTP_HX_REQUEST="true",
    )
    assert 'class="sig-valid"' in signed.content.decode()
    assert "Ines Vidal" in signed.content.decode()
    form_save(
        registration=cb.registration,
        visit_code="C1D1",
        form_name="vital_signs",
        data={**VITALS, "heart_rate": "70"},
        version=form.version,
        complete=True,
        reason="correction",
        by=cb.users["nurse"],
    )
    page = c.get(
        f"/crfs/registrations/{cb.registration.pk}/forms/C1D1/vital_signs/"
    ).content.decode()
    assert 'class="sig-invalid"' in page
    status = c.get(f"/api/v1/crfs/records/crfs.forminstance/{form.pk}/status").json()
    assert status["signed_valid"] is False
    assert status["signatures"][0]["signer_name"] == "Ines Vidal"


def test_query_work_list_and_answer_through_the_pages(cb):
    form = _form(cb)
    dm = _client(cb, "datamanager")
    dm.post(
        f"/crfs/records/crfs.forminstance/{form.pk}/queries/",
        {"field": "heart_rate", "text": "Check HR"},
    )
    q = DataQuery.objects.get()
    nurse = _client(cb, "nurse")
    assert "Check HR" in nurse.get("/crfs/queries/").content.decode()
    nurse.post(f"/crfs/queries/{q.pk}/answer/", {"text": "HR is 72"})
    dm.post(f"/crfs/queries/{q.pk}/close/", {"text": "ok"})
    q.refresh_from_db()
    assert q.status == "closed"
    assert "Check HR" not in nurse.get("/crfs/queries/").content.decode()
    assert "Check HR" in nurse.get("/crfs/queries/?status=closed").content.decode()


def test_casebook_and_exposure_pages_render(cb):
    _form(cb)
    c = _client(cb, "nurse")
    page = c.get(f"/crfs/registrations/{cb.registration.pk}/").content.decode()
    assert 'data-form="C1D1-vital_signs">complete' in page
    # The registration attests the screening visit (never overdue once registered); its
    # eligibility form, not entered, is missing.
    assert 'data-form="SCR-eligibility">missing' in page
    r = c.post(
        f"/crfs/registrations/{cb.registration.pk}/exposure/",
        {
            "agent": "Drug B",
            "dose": "50",
            "unit": "mg",
            "administered_on": "2026-11-13",
            "modification": "none",
        },
    )
    assert r.status_code == 302
    page = c.get(f"/crfs/registrations/{cb.registration.pk}/exposure/").content.decode()
    assert "100 %" in page
    assert cb.registration.patient.research_id in c.get("/crfs/").content.decode()


def test_query_work_list_reads_a_bounded_number_of_times(cb, django_assert_max_num_queries):
    from oncotrials.apps.crfs.services import query_raise

    form = _form(cb)
    for i in range(6):
        query_raise(record=form, field="heart_rate", text=f"check {i}", by=cb.users["datamanager"])
    c = _client(cb, "nurse")
    with django_assert_max_num_queries(9):
        assert len(c.get("/api/v1/crfs/queries").json()["items"]) == 6
    with django_assert_max_num_queries(10):
        assert c.get("/crfs/queries/").content.decode().count("check ") == 6


def test_casebook_signature_through_the_api_and_its_invalidation(cb):
    _form(cb)
    c = _client(cb, "investigator")
    ref = {"record_type": "subjects.registration", "record_id": cb.registration.pk}
    wrong = c.post(
        "/api/v1/crfs/signatures",
        {**ref, "meaning": "approved", "password": "nope"},
        content_type="application/json",
    )
    assert wrong.status_code == 403
    signed = c.post(
        "/api/v1/crfs/signatures",
        {**ref, "meaning": "approved", "password": PASSWORD},
        content_type="application/json",
    )
    assert signed.status_code == 201
    assert signed.json()["signer_name"] == "Ines Vidal"
    casebook_url = f"/api/v1/crfs/registrations/{cb.registration.pk}/casebook"
    assert c.get(casebook_url).json()["signed"] is True
    page = c.get(f"/crfs/registrations/{cb.registration.pk}/").content.decode()
    assert 'class="sig-valid"' in page
    nurse = _client(cb, "nurse")
    added = nurse.post(
        f"/api/v1/crfs/registrations/{cb.registration.pk}/administrations",
        {"agent": "Drug B", "dose": 50, "unit": "mg", "administered_on": "2026-11-13"},
        content_type="application/json",
    )
    assert added.status_code == 201
    assert c.get(casebook_url).json()["signed"] is False
    assert (
        'class="sig-invalid"'
        in c.get(f"/crfs/registrations/{cb.registration.pk}/").content.decode()
    )
