"""The case report form services' refusals are worded in the user's language."""

from __future__ import annotations

from oncotrials.apps.crfs.models import FormInstance


def test_a_visit_outside_the_calendar_is_refused_in_french_and_in_english(cb, client_for):
    url = f"/api/v1/crfs/registrations/{cb.registration.pk}/forms/C9D9/vital_signs"
    body = {"data": {}, "version": 0}
    english = client_for("nurse").put(url, body, content_type="application/json")
    assert english.status_code == 404
    assert english.json()["message"].startswith(
        "Visit 'C9D9' is not in the calendar of this registration; expected one of "
    )
    c = client_for("nurse")
    c.cookies["django_language"] = "fr"
    french = c.put(url, body, content_type="application/json")
    assert french.status_code == 404
    assert french.json()["message"].startswith(
        "La visite 'C9D9' ne figure pas dans le calendrier de cette inclusion ; visites "
        "attendues : "
    )
    assert not FormInstance.objects.exists()


def test_an_empty_query_is_refused_beside_its_field_in_french(cb, client_for):
    from oncotrials.apps.crfs.services import form_save

    inst = form_save(
        registration=cb.registration,
        visit_code="C1D1",
        form_name="vital_signs",
        data={},
        version=0,
        by=cb.users["nurse"],
    )
    c = client_for("datamanager")
    c.cookies["django_language"] = "fr"
    r = c.post(
        "/api/v1/crfs/queries",
        {"record_type": "crfs.forminstance", "record_id": inst.pk, "field": "", "text": "  "},
        content_type="application/json",
    )
    assert r.status_code == 422, r.content
    assert r.json()["message"] == "Précisez ce qui ne va pas ou ce qu’il faut vérifier."
