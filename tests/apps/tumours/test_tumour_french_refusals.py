"""The tumour services' refusals are worded in the user's language, naming the same row."""

from __future__ import annotations

import json

from oncotrials.apps.tumours.models import Assessment
from oncotrials.apps.tumours.services import baseline_save


def test_a_negative_diameter_is_refused_in_french_and_in_english(registered, tm, client_for):
    c = registered(1)
    nurse = c.journey.unit.users["nurse"]
    baseline_save(registration=c.reg, date=tm.BASELINE, method="CT", lesions=tm.lesions(), by=nurse)
    body = json.dumps(
        {
            "date": "2027-02-12",
            "measurements": [
                {"lesion_id": "T1", "diameter_mm": "-1"},
                {"lesion_id": "T2", "diameter_mm": "15"},
                {"lesion_id": "NT1", "status": "present"},
            ],
        }
    )
    url = f"/api/v1/registrations/{c.reg.pk}/tumour-assessments"
    english = client_for("nurse").post(url, body, content_type="application/json")
    assert english.status_code == 422
    assert english.json()["message"] == (
        "Assessment of 2027-02-12, lesion T1, field measurements[0].diameter_mm: -1 is negative "
        "or not finite; diameters are millimetres, zero or more."
    )
    nurse.language = "fr"
    nurse.save(update_fields=["language"])
    french = client_for("nurse").post(url, body, content_type="application/json")
    assert french.status_code == 422
    assert french.json()["message"] == (
        "Évaluation du 2027-02-12, lésion T1, champ measurements[0].diameter_mm : -1 est négatif "
        "ou non fini ; les diamètres sont en millimètres, nuls ou positifs."
    )
    assert french.json()["extra"]["field"] == english.json()["extra"]["field"]
    assert not Assessment.objects.filter(kind="follow_up").exists()


def test_a_baseline_without_lesions_is_refused_in_french(registered, client_for):
    c = registered(1)
    client = client_for("nurse")
    client.cookies["django_language"] = "fr"
    r = client.put(
        f"/api/v1/registrations/{c.reg.pk}/tumour-baseline",
        json.dumps({"date": "2026-11-05", "method": "CT", "lesions": []}),
        content_type="application/json",
    )
    assert r.status_code == 422, r.content
    assert r.json()["message"] == (
        "Un bilan initial demande au moins une lésion ; enregistrez les lésions cibles et non "
        "cibles."
    )
    assert not Assessment.objects.exists()
