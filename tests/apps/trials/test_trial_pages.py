"""Pages show times in the site's time zone and speak the user's language."""

from __future__ import annotations


def test_times_are_shown_in_the_time_zone_of_the_users_site(unit, client_for):
    paris = client_for("investigator").get(f"/trials/{unit.trial_shared.pk}/").content.decode()
    new_york = (
        client_for("partner_investigator").get(f"/trials/{unit.trial_shared.pk}/").content.decode()
    )
    assert " CET" in paris or " CEST" in paris
    assert " EST" in new_york or " EDT" in new_york


def test_french_interface(unit, client_for):
    c = client_for("nurse")
    c.cookies["django_language"] = "fr"
    body = c.get("/trials/").content.decode()
    assert "Portefeuille d'essais" in body
    assert "essais" in body


def test_htmx_request_gets_only_the_table(unit, client_for):
    r = client_for("nurse").get("/trials/?phase=II", HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert "<html" not in body
    assert "T-SHARED" in body
    assert "T-MAIN" not in body


def test_unknown_filter_values_are_ignored_not_errors(unit, client_for):
    r = client_for("nurse").get("/trials/?phase=XYZ&status=<script>")
    assert r.status_code == 200
    assert "<script>" not in r.content.decode()
