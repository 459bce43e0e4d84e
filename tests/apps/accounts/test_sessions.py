"""Idle-session timeout and absolute lifetime; logins, logouts, failed logins in the trail."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from oncotrials.apps.accounts.middleware import LAST_ACTIVITY_KEY
from oncotrials.apps.audit.models import AuditEvent

PASSWORD = "a-long-test-password-42"  # tests/conftest.py

STATIC_JS = Path(__file__).parents[3] / "src/oncotrials/web/static/js/oncotrials.js"


def _login(name: str = "nurse") -> Client:
    c = Client()
    r = c.post("/login/", {"username": name, "password": PASSWORD})
    assert r.status_code == 302, r.content[:300]
    return c


def _idle_for(c: Client, seconds: float) -> None:
    s = c.session
    s[LAST_ACTIVITY_KEY] = time.time() - seconds
    s.save()


def test_an_active_session_goes_on(unit):
    c = _login()
    _idle_for(c, 14 * 60)
    assert c.get("/patients/").status_code == 200
    assert c.session[LAST_ACTIVITY_KEY] > time.time() - 5  # the request counted as activity


def test_an_idle_session_ends_at_the_login_page_with_a_message(unit):
    c = _login()
    _idle_for(c, 15 * 60 + 1)
    r = c.get("/patients/?q=x")
    assert r.status_code == 302
    assert r["Location"] == "/login/?next=%2Fpatients%2F%3Fq%3Dx"
    assert "_auth_user_id" not in c.session
    page = c.get(r["Location"])
    assert b"logged out after 15 minutes without activity" in page.content
    event = AuditEvent.objects.filter(action="logout").latest("pk")
    assert event.object_id == str(unit.users["nurse"].pk)
    assert event.reason == "idle for 15 min"
    assert event.channel == "web"


def test_the_timeout_follows_the_setting(unit, settings):
    settings.SESSION_IDLE_TIMEOUT = 120
    c = _login()
    _idle_for(c, 100)
    assert c.get("/patients/").status_code == 200
    _idle_for(c, 121)
    assert c.get("/patients/").status_code == 302


def test_an_idle_htmx_request_is_redirected_by_htmx(unit):
    c = _login()
    _idle_for(c, 3600)
    r = c.get("/patients/", headers={"HX-Request": "true"})
    assert r.status_code == 204
    assert r["HX-Redirect"].startswith("/login/")


def test_an_idle_session_gets_401_from_the_api_but_a_token_does_not_idle(unit):
    from oncotrials.apps.accounts.services import token_create

    c = _login()
    assert c.get("/api/v1/me").status_code == 200
    _idle_for(c, 3600)
    assert c.get("/api/v1/me").status_code == 401
    _, raw = token_create(user=unit.users["nurse"], name="script")
    api = Client()
    r = api.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 200
    assert r.json()["username"] == "nurse"


def test_reading_the_remaining_time_is_not_activity_but_staying_is(unit):
    c = _login()
    _idle_for(c, 600)
    r = c.get("/account/session/")
    assert r.status_code == 200
    data = r.json()
    assert 295 <= data["remaining"] <= 300
    assert data["timeout"] == 900
    assert data["warning"] == 120
    assert c.session[LAST_ACTIVITY_KEY] < time.time() - 590  # unchanged
    r = c.post("/account/session/")
    assert r.json()["remaining"] >= 895
    assert c.session[LAST_ACTIVITY_KEY] > time.time() - 5


def test_the_remaining_time_after_the_end(unit, client):
    c = _login()
    _idle_for(c, 901)
    r = c.get("/account/session/")
    assert r.json() == {"remaining": 0, "login_url": "/login/"}
    assert client.get("/account/session/").status_code == 401  # never logged in


def test_the_absolute_lifetime_counts_from_the_login(unit):
    c = _login()
    expiry = c.session.get_expiry_date()
    expected = timezone.now() + dt.timedelta(hours=8)
    assert abs((expiry - expected).total_seconds()) < 10
    _idle_for(c, 60)
    c.get("/patients/")  # activity does not extend the absolute lifetime
    assert c.session.get_expiry_date() == expiry


def test_pages_carry_the_warning_without_inline_script(unit):
    c = _login()
    html = c.get("/patients/").content.decode()
    assert 'data-idle-timeout="900"' in html
    assert 'data-idle-warning="120"' in html
    assert 'data-session-url="/account/session/"' in html
    assert "data-idle-banner hidden" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # CSP: script-src 'self'
    js = STATIC_JS.read_text()
    assert "data-idle-banner" in js
    assert "/account/session/" not in js


def test_login_and_logout_are_audited(unit):
    c = _login()
    nurse = unit.users["nurse"]
    login = AuditEvent.objects.filter(action="login").latest("pk")
    assert (login.object_type, login.object_id, login.actor_id) == (
        "accounts.user",
        str(nurse.pk),
        nurse.pk,
    )
    assert login.channel == "web"
    assert login.changes["ip_address"] == [None, "127.0.0.1"]
    c.post("/logout/")
    logout = AuditEvent.objects.filter(action="logout").latest("pk")
    assert (logout.object_id, logout.actor_id, logout.reason) == (
        str(nurse.pk),
        nurse.pk,
        "logged out",
    )


@pytest.mark.parametrize("name", ["nurse", "nobody-by-that-name"])
def test_failed_logins_are_audited(unit, client, name):
    r = client.post("/login/", {"username": name, "password": "not-the-password"})
    assert r.status_code == 200
    event = AuditEvent.objects.filter(action="login_failed").latest("pk")
    assert event.actor_id is None
    if name == "nurse":
        assert event.object_type == "accounts.user"
        assert event.object_id == str(unit.users["nurse"].pk)
    else:
        assert (event.object_type, event.object_id) == ("accounts.login", name)
    assert event.changes["ip_address"] == [None, "127.0.0.1"]
