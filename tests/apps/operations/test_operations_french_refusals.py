"""The operations services' refusals are worded in the user's language."""

from __future__ import annotations


def test_the_activity_report_refuses_a_year_in_french_and_in_english(unit, client_for):
    url = "/api/v1/operations/activity?year=1800"
    english = client_for("admin").get(url)
    assert english.status_code == 422
    assert english.json()["message"] == "year must lie in 1990..2100; got 1800."
    c = client_for("admin")
    c.cookies["django_language"] = "fr"
    french = c.get(url)
    assert french.status_code == 422
    assert french.json()["message"] == "L’année doit être comprise entre 1990 et 2100 ; reçu 1800."
    assert french.json()["extra"] == english.json()["extra"] == {"field": "year"}


def test_a_resource_code_twice_is_refused_in_french(unit, client_for):
    from oncotrials.apps.operations.models import Resource
    from oncotrials.apps.operations.services import resource_save

    resource_save(
        site=unit.main, kind="chair", code="CH-01", name="Chair 1", by=unit.users["admin"]
    )
    admin = unit.users["admin"]
    admin.language = "fr"
    admin.save(update_fields=["language"])
    r = client_for("admin").post(
        "/api/v1/operations/resources",
        {"site_id": unit.main.pk, "kind": "chair", "code": "CH-01", "name": "Chair again"},
        content_type="application/json",
    )
    assert r.status_code == 422, r.content
    assert r.json()["message"] == "main a déjà une ressource CH-01."
    assert Resource.objects.filter(site=unit.main, code="CH-01").count() == 1
