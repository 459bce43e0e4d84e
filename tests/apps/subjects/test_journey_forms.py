"""A research nurse enters the journey from the web forms; bad entries are refused with a message."""

from __future__ import annotations

import datetime as dt

from oncotrials.apps.subjects.models import Patient, Registration


def test_referral_to_registration_through_the_web(journey, client_for):
    c = client_for("nurse")
    r = c.post(
        "/patients/new/",
        {
            "site": "main",
            "family_name": "Lopez",
            "given_name": "Ana",
            "birth_date": "1958-03-02",
            "hospital_number": "H-5555",
            "sex": "F",
            "referral_source": "tumour_board",
            "referral_date": "2026-11-01",
        },
    )
    assert r.status_code == 302
    patient = Patient.objects.get(identity__hospital_number="H-5555")
    page = c.get(f"/patients/{patient.pk}/").content.decode()
    assert 'data-testid="form-consent"' in page
    base = f"/patients/{patient.pk}/journey"
    c.post(
        f"{base}/consent/",
        {"form": journey.form.pk, "signed_on": "2026-11-02", "future_research": "on"},
    )
    assert patient.consents.get().options_granted["future_research"] is True
    c.post(
        f"{base}/screen/",
        {"trial": journey.cohort.trial_id, "kind": "screening", "started_on": "2026-11-02"},
    )
    episode = patient.screenings.get()
    c.post(
        f"{base}/close-screening/",
        {"episode": episode.pk, "outcome": "eligible", "closed_on": "2026-11-09"},
    )
    target = f"{journey.cohort.pk}:{journey.dose_level.pk}"
    r = c.post(f"{base}/register/", {"cohort": target, "registered_on": "2026-11-10"}, follow=True)
    assert "Registered in" in r.content.decode()
    reg = Registration.objects.get(patient=patient)
    c.post(
        f"{base}/status/", {"registration": reg.pk, "status": "on_treatment", "on": "2026-11-11"}
    )
    reg.refresh_from_db()
    assert reg.status == "on_treatment"


def test_a_refused_step_shows_the_reason_and_saves_nothing(journey, client_for):
    c = client_for("nurse")
    base = f"/patients/{journey.patient.pk}/journey"
    r = c.post(
        f"{base}/screen/",
        {"trial": journey.cohort.trial_id, "kind": "screening", "started_on": "2026-11-02"},
        follow=True,
    )
    assert "no signed consent" in r.content.decode()
    assert not journey.patient.screenings.exists()
    r = c.post(
        f"{base}/consent/",
        {
            "form": journey.form.pk,
            "signed_on": (dt.date(2026, 11, 20) + dt.timedelta(days=5)).isoformat(),
        },
        follow=True,
    )
    assert "cannot be in the future" in r.content.decode()
    assert not journey.patient.consents.exists()


def test_read_only_and_other_site_users_cannot_post(journey, client_for, screen):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant

    base = f"/patients/{journey.patient.pk}/journey"
    assert (
        client_for("partner_investigator")
        .post(f"{base}/consent/", {"form": journey.form.pk, "signed_on": "2026-11-02"})
        .status_code
        == 404
    )
    membership_grant(
        user=journey.unit.users["monitor"],
        role=Role.SPONSOR_MONITOR,
        site=journey.unit.main,
        trial=journey.cohort.trial,
    )
    screen(journey, journey.patient, journey.unit.users["nurse"])
    r = client_for("monitor").post(
        f"{base}/status/",
        {"registration": 0, "status": "on_treatment", "on": "2026-11-11"},
        follow=True,
    )
    assert r.status_code == 200
    assert (
        'data-testid="form-status"' not in r.content.decode()
    )  # no data-entry forms for a monitor
    assert journey.patient.consents.count() == 1
    r = client_for("monitor").post(
        f"{base}/consent/", {"form": journey.form.pk, "signed_on": "2026-11-03"}, follow=True
    )
    assert "does not allow" in r.content.decode()
    assert journey.patient.consents.count() == 1
    assert client_for("outsider").get("/patients/new/").status_code == 404


def _form(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"', 1)[1].split("</form>", 1)[0]


def test_the_status_withdrawal_close_and_registration_forms_show_errors_beside_fields(
    journey, client_for, screen
):
    """Each refused form comes back as typed, with the shared field rendering: the summary, the
    error beside the field, ``aria-invalid``; nothing is saved."""
    c = client_for("nurse")
    patient = journey.patient
    base = f"/patients/{patient.pk}/journey"
    screen(journey, patient, journey.unit.users["nurse"])
    episode = patient.screenings.get()
    page = c.get(f"/patients/{patient.pk}/").content.decode()
    for testid in ("form-withdraw", "form-register"):
        form = _form(page, testid)
        assert '<abbr class="required"' in form  # required fields marked, no "as_p" layout
        assert ":</label>" not in form

    r = c.post(
        f"{base}/withdraw/",
        {"consent": patient.consents.get().pk, "on": "2026-11-14", "reason": ""},
    )
    assert r.status_code == 422
    form = _form(r.content.decode(), "form-withdraw")
    assert 'data-testid="error-summary"' in form
    assert 'data-testid="error-reason"' in form
    assert 'aria-describedby="withdraw-reason-error"' in form
    assert 'aria-invalid="true"' in form
    assert 'value="2026-11-14"' in form
    assert patient.consents.get().withdrawn_on is None

    target = f"{journey.cohort.pk}:{journey.dose_level.pk}"
    r = c.post(f"{base}/register/", {"cohort": target, "registered_on": "2026-13-45"})
    assert r.status_code == 422
    form = _form(r.content.decode(), "form-register")
    assert 'data-testid="error-registered_on"' in form
    assert not Registration.objects.filter(patient=patient).exists()

    r = c.post(f"{base}/register/", {"cohort": target, "registered_on": "2026-11-12"})
    assert r.status_code == 302
    reg = Registration.objects.get(patient=patient)
    r = c.post(f"{base}/status/", {"registration": reg.pk, "status": "on_treatment", "on": ""})
    assert r.status_code == 422
    form = _form(r.content.decode(), "form-status")
    assert 'data-testid="error-on"' in form
    assert 'aria-describedby="status-on-error"' in form
    reg.refresh_from_db()
    assert reg.status == "registered"
    assert episode.outcome == "eligible"
