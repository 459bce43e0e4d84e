"""The tumour-assessment forms render with the shared accessible fields: a refused submit shows
one error summary (``role="alert"``) linking every error to its field, grid cells included, the
date, method and new lesion marked ``aria-invalid`` with their error beside them, what was typed
kept and nothing saved."""

from __future__ import annotations

import pytest

from form_markup import form_html as _form
from form_markup import refused as _refused
from oncotrials.apps.tumours.models import Assessment, Lesion

pytestmark = pytest.mark.django_db

BASELINE = {
    "date": "2026-11-05",
    "method": "CT",
    "lesion_id_0": "T1",
    "organ_0": "liver",
    "role_0": "target",
    "diameter_0": "30",
    "lesion_id_1": "T2",
    "organ_1": "lung",
    "role_1": "target",
    "diameter_1": "20",
}


def test_a_baseline_without_date_links_the_date_and_the_grid_cell(registered, client_for):
    c = registered(1)
    rid = f"r{c.reg.pk}"
    r = client_for("nurse").post(
        f"/registrations/{c.reg.pk}/tumour-baseline/",
        {**BASELINE, "date": "", "organ_1": ""},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "baseline-form")
    _refused(form, f"{rid}-date", kept='name="organ_0" value="liver"')
    # The grid cell's error is in the summary too, linked to its input.
    assert f'href="#{rid}-organ_1"' in form
    assert form.count('data-testid="error-summary"') == 1
    assert not Lesion.objects.exists()
    assert not Assessment.objects.exists()


def test_a_follow_up_new_lesion_without_id_is_refused_beside_it_in_french(registered, client_for):
    c = registered(1)
    rid = f"r{c.reg.pk}"
    nurse = client_for("nurse")
    assert nurse.post(f"/registrations/{c.reg.pk}/tumour-baseline/", BASELINE).status_code == 302
    nurse.cookies["django_language"] = "fr"
    r = nurse.post(
        f"/registrations/{c.reg.pk}/tumour-assessments/",
        {
            "date": "2027-01-08",
            "complete": "on",
            "diameter_T1": "20",
            "diameter_T2": "15",
            "new_organ": "foie",
        },
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "assessment-form")
    _refused(form, f"{rid}-new_lesion_id", kept='value="foie"')
    assert "rien n’a été enregistré" in form
    assert Assessment.objects.filter(kind="follow_up").count() == 0


def test_an_override_without_response_keeps_the_reason_and_saves_nothing(registered, client_for):
    import datetime as dt

    from oncotrials.apps.tumours.models import ResponseOverride
    from oncotrials.apps.tumours.services import assessment_save, baseline_save

    c = registered(1)
    rid = f"r{c.reg.pk}"
    nurse = c.journey.unit.users["nurse"]
    lesions = [{"lesion_id": "T1", "organ": "liver", "role": "target", "diameter_mm": "30"}]
    baseline_save(
        registration=c.reg, date=dt.date(2026, 11, 5), method="CT", lesions=lesions, by=nurse
    )
    follow_up = assessment_save(
        registration=c.reg,
        date=dt.date(2027, 1, 8),
        measurements=[{"lesion_id": "T1", "diameter_mm": "20"}],
        by=nurse,
    )
    inv = client_for("investigator")
    r = inv.post(
        f"/registrations/{c.reg.pk}/tumour-override/",
        {"assessment_id": follow_up.pk, "response": "", "reason": "re-read by radiologist"},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "override-form")
    _refused(form, f"{rid}-override-response", kept="re-read by radiologist")
    assert "Choose the response you read." in form
    assert f'<option value="{follow_up.pk}" selected>' in form
    inv.cookies["django_language"] = "fr"
    r = inv.post(
        f"/registrations/{c.reg.pk}/tumour-override/",
        {"assessment_id": follow_up.pk, "response": "SD", "reason": ""},
    )
    form = _form(r.content.decode(), "override-form")
    _refused(form, f"{rid}-override-reason")
    assert '<option value="SD" selected>' in form
    assert "Ce champ est obligatoire." in form
    assert not ResponseOverride.objects.exists()
