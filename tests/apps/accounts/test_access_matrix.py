"""Role × site × action: nobody reads or writes beyond their memberships.

Every cell names a persona, an action on a trial and the expected status. Reads of what a
persona may not see answer 404 (existence is not revealed); writes by read-only roles 403.
"""

from __future__ import annotations

import json

import pytest

VISIBLE = {
    "admin": {"T-MAIN", "T-SHARED", "T-PARTNER", "T-OTHER"},
    "investigator": {"T-MAIN", "T-SHARED", "T-OTHER"},
    "datamanager": {"T-MAIN", "T-SHARED", "T-OTHER"},
    "nurse": {"T-MAIN", "T-SHARED", "T-OTHER"},
    "partner_investigator": {"T-SHARED", "T-PARTNER"},
    "monitor": {"T-MAIN"},
    "monitor_other": {"T-OTHER"},
    "outsider": set(),
}
ALL = ["T-MAIN", "T-SHARED", "T-PARTNER", "T-OTHER"]
EDITORS = {"admin", "investigator", "datamanager", "partner_investigator"}


def _trial(unit, code):
    return {
        "T-MAIN": unit.trial_main,
        "T-SHARED": unit.trial_shared,
        "T-PARTNER": unit.trial_partner,
        "T-OTHER": unit.trial_other,
    }[code]


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_api_list_shows_exactly_the_trials_of_the_memberships(client_for, persona):
    response = client_for(persona).get("/api/v1/trials")
    assert response.status_code == 200
    assert {t["protocol_code"] for t in response.json()} == VISIBLE[persona]


@pytest.mark.parametrize("persona", sorted(VISIBLE))
@pytest.mark.parametrize("code", ALL)
def test_api_detail_is_404_for_what_the_persona_may_not_see(unit, client_for, persona, code):
    trial = _trial(unit, code)
    response = client_for(persona).get(f"/api/v1/trials/{trial.pk}")
    expected = 200 if code in VISIBLE[persona] else 404
    assert response.status_code == expected
    if expected == 404:
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("persona", sorted(VISIBLE))
@pytest.mark.parametrize("code", ALL)
def test_web_detail_is_404_for_what_the_persona_may_not_see(unit, client_for, persona, code):
    trial = _trial(unit, code)
    response = client_for(persona).get(f"/trials/{trial.pk}/")
    assert response.status_code == (200 if code in VISIBLE[persona] else 404)


@pytest.mark.parametrize("persona", sorted(VISIBLE))
@pytest.mark.parametrize("code", ALL)
def test_api_write_needs_an_editing_role_on_a_visible_trial(unit, client_for, persona, code):
    trial = _trial(unit, code)
    body = {"code": f"NEW-{persona[:10]}", "name": "New cohort", "kind": "expansion"}
    response = client_for(persona).post(
        f"/api/v1/trials/{trial.pk}/cohorts", json.dumps(body), content_type="application/json"
    )
    if code not in VISIBLE[persona]:
        assert response.status_code == 404
    elif persona in EDITORS:
        assert response.status_code == 201, response.content
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    created = trial.cohorts.filter(code=body["code"]).exists()
    assert created == (response.status_code == 201)


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_status_change_by_persona(unit, client_for, persona):
    trial = unit.trial_main
    body = {"status": "set_up", "reason": "Feasibility done"}
    response = client_for(persona).post(
        f"/api/v1/trials/{trial.pk}/status", json.dumps(body), content_type="application/json"
    )
    trial.refresh_from_db()
    if "T-MAIN" not in VISIBLE[persona]:
        assert response.status_code == 404
        assert trial.status == "feasibility"
    elif persona in EDITORS:
        assert response.status_code == 200
        assert trial.status == "set_up"
    else:
        assert response.status_code == 403
        assert trial.status == "feasibility"


def test_partner_user_cannot_create_a_trial_for_the_main_site(client_for):
    body = {
        "protocol_code": "X-1",
        "title": "x",
        "sponsor": "s",
        "sponsor_type": "industry",
        "phase": "II",
        "modality": "drug",
        "sites": ["main"],
    }
    response = client_for("partner_investigator").post(
        "/api/v1/trials", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 404
    from oncotrials.apps.trials.models import Trial

    assert not Trial.objects.filter(protocol_code="X-1").exists()


def test_dose_levels_of_invisible_cohorts_are_404(unit, client_for):
    cohort = unit.trial_main.cohorts.get()
    assert (
        client_for("partner_investigator")
        .get(f"/api/v1/cohorts/{cohort.pk}/dose-levels")
        .status_code
        == 404
    )
    assert client_for("monitor").get(f"/api/v1/cohorts/{cohort.pk}/dose-levels").status_code == 200
    assert (
        client_for("monitor")
        .post(
            f"/api/v1/cohorts/{cohort.pk}/dose-levels",
            json.dumps({"level": 2, "agent": "Drug A", "dose": "20", "unit": "mg"}),
            content_type="application/json",
        )
        .status_code
        == 403
    )


def test_expired_membership_grants_nothing(unit, client_for):
    import datetime as dt

    from django.utils import timezone

    from oncotrials.apps.accounts.models import Membership

    m = Membership.objects.get(user=unit.users["nurse"])
    Membership.objects.filter(pk=m.pk).update(
        valid_from=timezone.now() - dt.timedelta(days=10),
        valid_to=timezone.now() - dt.timedelta(days=1),
    )
    assert client_for("nurse").get("/api/v1/trials").json() == []


def test_anonymous_gets_401_from_the_api_and_a_login_redirect_from_the_web(unit, client):
    r = client.get("/api/v1/trials")
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated"
    r = client.get("/trials/")
    assert r.status_code == 302
    assert r["Location"].startswith("/login/")


def test_outsider_dashboard_shows_nothing(client_for):
    r = client_for("outsider").get("/")
    assert r.status_code == 200
    assert b"no active membership" in r.content


def test_portfolio_page_lists_only_visible_trials(client_for):
    body = client_for("monitor").get("/trials/").content.decode()
    assert "T-MAIN" in body
    for code in ("T-SHARED", "T-PARTNER", "T-OTHER"):
        assert code not in body
