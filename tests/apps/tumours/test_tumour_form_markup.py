"""The tumour-assessment forms render with the shared accessible fields: a refused submit shows
one error summary (``role="alert"``) linking every error to its field, grid cells included, the
date, method and new lesion marked ``aria-invalid`` with their error beside them, what was typed
kept and nothing saved."""

from __future__ import annotations

import html
import re

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


def test_grid_cells_are_marked_like_fields_with_their_error_beside_them(registered, client_for):
    c = registered(1)
    rid = f"r{c.reg.pk}"
    nurse = client_for("nurse")
    assert nurse.post(f"/registrations/{c.reg.pk}/tumour-baseline/", BASELINE).status_code == 302
    r = nurse.post(
        f"/registrations/{c.reg.pk}/tumour-assessments/",
        {"date": "2027-01-08", "complete": "on", "diameter_T1": "2x", "diameter_T2": ""},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "assessment-form")
    _refused(form, f"{rid}-diameter_T1", kept='value="2x"')
    _refused(form, f"{rid}-diameter_T2")
    assert "2x is not a number" in form.split(f'id="{rid}-diameter_T1-error"', 1)[1]
    # Each cell is named by its column and its lesion (the header is its only visible label).
    assert 'aria-label="Diameter (mm) (T1)"' in form
    assert 'aria-label="Status (T2)"' in form
    # A cell without error says nothing more.
    status = re.search(rf'<select[^>]*id="{rid}-status_T1"[^>]*>', form)
    assert status is not None
    assert "aria-invalid" not in status.group(0)
    assert 'class="errorlist"' not in form
    assert Assessment.objects.filter(kind="follow_up").count() == 0


def test_the_engines_refusal_is_shown_beside_its_cell_in_french(registered, client_for):
    """RECIST does not record a normal lymph node: the core says so with a code and its
    values, and the page shows it in French next to the diameter of that lesion's row."""
    c = registered(1)
    rid = f"r{c.reg.pk}"
    nurse = client_for("nurse")
    nurse.cookies["django_language"] = "fr"
    r = nurse.post(
        f"/registrations/{c.reg.pk}/tumour-baseline/",
        {**BASELINE, "nodal_1": "on", "diameter_1": "8"},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "baseline-form")
    _refused(form, f"{rid}-diameter_1", kept='name="organ_1" value="lung"')
    beside = html.unescape(form.split(f'id="{rid}-diameter_1-error"', 1)[1].split("</span>")[0])
    assert "un ganglion dont le petit axe mesure 8.00 mm" in beside
    assert "Rien n'a été enregistré" in beside
    assert "lymph node" not in form
    assert not Lesion.objects.exists()


def test_the_efficacy_settings_form_presets_nothing_and_keeps_its_input(registered, client_for):
    from oncotrials.apps.tumours.models import TumourAssessmentSettings

    c = registered(1)
    trial = c.reg.trial_id
    inv = client_for("investigator")
    page = _form(inv.get(f"/trials/{trial}/efficacy/").content.decode(), "settings-form")
    # Until the protocol's criteria are stored, none is chosen for the investigator.
    assert '<option value="" selected>' in page
    assert 'name="reason"' not in page
    r = inv.post(f"/trials/{trial}/tumour-settings/", {"version": "0"})
    assert r.status_code == 422
    form = _form(r.content.decode(), "settings-form")
    _refused(form, "id_criteria")
    assert "Choose the response criteria of the protocol." in form
    assert not TumourAssessmentSettings.objects.exists()

    r = inv.post(f"/trials/{trial}/tumour-settings/", {"criteria": "irecist", "version": "0"})
    assert r.status_code == 302
    # A change of stored criteria needs its reason; what was chosen stays chosen.
    inv.cookies["django_language"] = "fr"
    r = inv.post(
        f"/trials/{trial}/tumour-settings/",
        {"criteria": "recist1.1", "confirmation_required": "on", "version": "1"},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "settings-form")
    _refused(form, "id_reason")
    assert '<option value="recist1.1" selected>' in form
    assert re.search(r'<input[^>]*name="confirmation_required"[^>]*checked', form)
    assert "Ce champ est obligatoire." in form
    # A stale version: the service's refusal, in French, in the form's summary.
    r = inv.post(
        f"/trials/{trial}/tumour-settings/",
        {"criteria": "recist1.1", "version": "0", "reason": "amendement 2"},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "settings-form")
    assert "ont été modifiés par quelqu’un d’autre (version 1" in form
    assert 'value="amendement 2"' in form
    assert TumourAssessmentSettings.objects.get().criteria == "irecist"
