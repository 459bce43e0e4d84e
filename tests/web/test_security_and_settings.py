"""Secure defaults, loud failure on bad settings, login lockout."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("ONCOTRIALS_", "DATABASE_URL"))
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import oncotrials.web.settings as s; print(s.SESSION_COOKIE_SECURE, s.DATABASES['default']['ENGINE'])",
        ],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "ONCOTRIALS_SECRET_KEY (or ONCOTRIALS_SECRET_KEY_FILE) is required"),
        ({"ONCOTRIALS_DEBUG": "maybe"}, "ONCOTRIALS_DEBUG must be 1 or 0"),
        ({"ONCOTRIALS_SECRET_KEY": "short"}, "at least 32 characters"),
        (
            {"ONCOTRIALS_DEBUG": "1", "DATABASE_URL": "mysql://x@y/z"},
            "must point at PostgreSQL or SQLite",
        ),
        (
            {"ONCOTRIALS_DEBUG": "1", "ONCOTRIALS_LOGIN_FAILURE_LIMIT": "five"},
            "must be a whole number",
        ),
        ({"ONCOTRIALS_SECRET_KEY_FILE": "/nonexistent/key"}, "cannot be read"),
        (
            {"ONCOTRIALS_DEBUG": "1", "ONCOTRIALS_LOGIN_FAILURE_LIMIT_PER_ADDRESS": "2"},
            "ONCOTRIALS_LOGIN_FAILURE_LIMIT_PER_ADDRESS at least as high",
        ),
        ({"ONCOTRIALS_DEBUG": "1", "ONCOTRIALS_IDLE_TIMEOUT_MINUTES": "0"}, "at least 1"),
    ],
)
def test_bad_settings_fail_loudly(env, message):
    result = _import_settings(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_defaults_are_secure():
    result = _import_settings(
        {"ONCOTRIALS_SECRET_KEY": "x" * 50, "ONCOTRIALS_AUDIT_KEY": "k1:" + "y" * 40}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "django.db.backends.sqlite3"]


def test_responses_carry_security_headers(client):
    r = client.get("/login/")
    assert "default-src 'self'" in r["Content-Security-Policy"]
    assert r["X-Frame-Options"] == "DENY"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Referrer-Policy"] == "same-origin"


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cur:
        cur.execute("PRAGMA busy_timeout")
        assert cur.fetchone()[0] == 20000


def test_lockout(unit, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        r = client.post("/login/", {"username": "nurse", "password": "wrong-password-123"})
    r = client.post("/login/", {"username": "nurse", "password": "a-long-test-password-42"})
    assert r.status_code == 429 or b"Account locked" in r.content
    assert "_auth_user_id" not in client.session


def test_good_login_reaches_the_dashboard(unit, client):
    r = client.post(
        "/login/", {"username": "nurse", "password": "a-long-test-password-42"}, follow=True
    )
    assert r.status_code == 200
    assert b"Dashboard" in r.content


@pytest.mark.django_db
def test_weak_passwords_are_refused():
    from oncotrials.apps.accounts.services import user_create
    from oncotrials.core.errors import ValidationError

    with pytest.raises(ValidationError, match=r"too short|too common|entirely numeric"):
        user_create(username="weak", password="12345")
