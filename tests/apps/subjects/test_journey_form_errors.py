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
    if marker in page:
        return page.split(marker, 1)[1].split("</ul>", 1)[0]
    marker = f'id="{field_id}-error"'  # the shared field rendering (accounts/templates/forms)
    return page.split(marker, 1)[1].split("</span>", 1)[0] if marker in page else ""


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
    assert r.status_code == 422
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
    assert "This field is required." in _errors_of(page, "screening-kind")
    assert "Enter a valid date." in _errors_of(page, "screening-started_on")
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
    assert "does not offer “Sample storage”; nothing was recorded" in form
    assert 'name="sample_storage"' not in form  # not offered by the only version in force
    assert 'name="genetic_analysis"' in form
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


def test_the_consent_form_offers_each_option_with_the_versions_declaring_it(journey, client_for):
    import datetime as dt

    from oncotrials.apps.subjects.services import consent_form_create

    other = consent_form_create(
        kind="trial",
        trial=journey.cohort.trial,
        version="2.0",
        version_date=dt.date(2026, 3, 1),
        ethics_approval_date=dt.date(2026, 3, 2),
        valid_from=dt.date(2026, 3, 2),
        by=journey.unit.users["admin"],
        options=["sample_storage"],
    )
    c = client_for("nurse")
    page = c.get(f"/patients/{journey.patient.pk}/").content.decode()
    form = page.split('data-testid="form-consent"', 1)[1].split("</form>", 1)[0]
    # no version preselected when there is a choice; each box names the versions offering it
    assert '<option value="" selected>—</option>' in form
    assert f'data-consent-option="{other.pk}"' in form
    assert f'data-consent-option="{journey.form.pk}"' in form
    assert "Sample storage" in form
    base = f"/patients/{journey.patient.pk}/journey"
    r = c.post(
        f"{base}/consent/",
        {"form": journey.form.pk, "signed_on": "2026-11-02", "sample_storage": "on"},
    )
    assert r.status_code == 422
    assert "does not offer this option" in " ".join(
        r.context["consent_form"].errors["sample_storage"]
    )
    assert not journey.patient.consents.exists()
    r = c.post(
        f"{base}/consent/",
        {"form": other.pk, "signed_on": "2026-11-02", "sample_storage": "on"},
    )
    assert r.status_code == 302
    page = c.get(f"/patients/{journey.patient.pk}/").content.decode()
    assert "Sample storage: yes" in page  # the option's label, not its key
    assert "sample_storage: " not in page


def test_screening_has_no_preset_kind(journey, client_for):
    page = client_for("nurse").get(f"/patients/{journey.patient.pk}/").content.decode()
    form = page.split('data-testid="form-screen"', 1)[1].split("</form>", 1)[0]
    kind = form.split('name="kind"', 1)[1].split("</select>", 1)[0]
    assert '<option value="" selected>—</option>' in kind


def test_the_patient_page_forms_never_share_an_id(journey, screen, client_for):
    """Several journey forms have a date ``on`` or a ``reason``: each form's ids carry its own
    prefix, so a label always names its own field (WCAG 1.3.1, 4.1.1)."""
    screen(journey, journey.patient, journey.unit.users["nurse"])
    page = client_for("nurse").get(f"/patients/{journey.patient.pk}/").content.decode()
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert "withdraw-on" in ids or "status-on" in ids or "screening-started_on" in ids
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    assert repeated == []
