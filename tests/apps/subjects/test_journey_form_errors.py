"""A refused journey form comes back as typed, every error beside its field; no clinical value is
preset; dates work in French; a consent option the ICF version does not declare is refused."""

from __future__ import annotations

import re

from oncotrials.apps.subjects.models import Patient

REFERRAL = {
    "site": "main",
    "family_name": "Lopez",
    "given_name": "Ana",
    "birth_date": "1958-03-02",
    "hospital_number": "H-5555",
    "sex": "F",
    "referral_source": "department",
    "referral_date": "2026-11-01",
}


def _errors_of(page: str, field_id: str) -> str:
    marker = f'<ul class="errorlist" id="{field_id}_error">'
    return page.split(marker, 1)[1].split("</ul>", 1)[0] if marker in page else ""


def _selected(page: str, name: str) -> list[str]:
    select = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([^"]*)"[^>]* selected>', select)


def test_a_new_referral_presets_neither_sex_nor_referral_source(journey, client_for):
    c = client_for("nurse")
    page = c.get("/patients/new/").content.decode()
    # The empty choice is shown: the nurse picks the sex and the source, none is assumed.
    assert _selected(page, "sex") == [""]
    assert _selected(page, "referral_source") == [""]
    r = c.post("/patients/new/", {**REFERRAL, "sex": "", "referral_source": ""})
    assert r.status_code == 200
    page = r.content.decode()
    assert "This field is required." in _errors_of(page, "id_sex")
    assert "This field is required." in _errors_of(page, "id_referral_source")
    assert 'value="Lopez"' in page
    assert 'value="1958-03-02"' in page
    assert not Patient.objects.filter(identity__hospital_number="H-5555").exists()


def test_a_refused_journey_form_comes_back_with_its_input_and_every_error(journey, client_for):
    c = client_for("nurse")
    base = f"/patients/{journey.patient.pk}/journey"
    r = c.post(
        f"{base}/screen/",
        {"trial": journey.cohort.trial_id, "kind": "", "started_on": "02/11/2026x"},
    )
    assert r.status_code == 422
    page = r.content.decode()
    assert "This field is required." in _errors_of(page, "id_kind")
    assert "Enter a valid date." in _errors_of(page, "id_started_on")
    assert 'value="02/11/2026x"' in page
    assert not journey.patient.screenings.exists()
    # A refusal of the service comes back on the form too, with what was typed.
    r = c.post(
        f"{base}/screen/",
        {"trial": journey.cohort.trial_id, "kind": "screening", "started_on": "2026-11-02"},
    )
    assert r.status_code == 422
    page = r.content.decode()
    form = page.split('data-testid="form-screen"', 1)[1].split("</form>", 1)[0]
    assert "no signed consent" in form
    assert 'value="2026-11-02"' in form


def test_a_consent_option_the_version_does_not_declare_is_refused_by_name(journey, client_for):
    c = client_for("nurse")
    base = f"/patients/{journey.patient.pk}/journey"
    # The journey's ICF declares future_research and genetic_analysis, not sample_storage.
    r = c.post(
        f"{base}/consent/",
        {
            "form": journey.form.pk,
            "signed_on": "2026-11-02",
            "future_research": "on",
            "sample_storage": "on",
        },
    )
    assert r.status_code == 422
    form = r.content.decode().split('data-testid="form-consent"', 1)[1].split("</form>", 1)[0]
    assert "does not declare the option(s) sample_storage" in form
    assert not journey.patient.consents.exists()
    r = c.post(
        f"{base}/consent/",
        {"form": journey.form.pk, "signed_on": "2026-11-02", "future_research": "on"},
    )
    assert r.status_code == 302
    assert journey.patient.consents.get().options_granted == {
        "future_research": True,
        "genetic_analysis": False,
    }


def test_date_inputs_hold_iso_dates_in_french(journey, client_for):
    c = client_for("nurse")
    c.cookies["django_language"] = "fr"
    page = c.get(f"/patients/{journey.patient.pk}/").content.decode()
    assert '<html lang="fr"' in page
    dates = re.findall(r'<input type="date" name="\w+" value="([^"]*)"', page)
    assert dates
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dates), dates
    r = c.post("/patients/new/", {**REFERRAL, "sex": ""})
    page = r.content.decode()
    assert 'type="date" name="birth_date" value="1958-03-02"' in page
