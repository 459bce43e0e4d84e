"""Personal access tokens: default expiry, scope, no token minted by a token, 401 once expired or
revoked, the "My API tokens" page, and `oncotrials token list|revoke`."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

from django.test import Client
from django.utils import timezone
from typer.testing import CliRunner

from oncotrials.apps.accounts.models import ApiToken
from oncotrials.apps.accounts.services import token_create
from oncotrials.apps.audit.models import AuditEvent
from oncotrials.cli.main import app

runner = CliRunner()


def _bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_token_expires_after_the_default_days(unit, client_for, settings):
    r = client_for("nurse").post(
        "/api/v1/tokens", {"name": "notebook"}, content_type="application/json"
    )
    assert r.status_code == 201
    body = r.json()
    assert body["scope"] == "read_write"
    expires = dt.datetime.fromisoformat(body["expires_at"])
    expected = timezone.now() + dt.timedelta(days=settings.API_TOKEN_DAYS)
    assert abs((expires - expected).total_seconds()) < 60
    assert settings.API_TOKEN_DAYS == 90
    event = AuditEvent.objects.filter(object_type="accounts.apitoken", action="create").get()
    assert event.changes["scope"] == [None, "read_write"]


def test_a_token_cannot_create_tokens(unit, client):
    _, raw = token_create(user=unit.users["nurse"], name="script")
    r = client.post(
        "/api/v1/tokens", {"name": "another"}, content_type="application/json", **_bearer(raw)
    )
    assert r.status_code == 403
    assert "cannot create tokens" in r.json()["message"]
    assert ApiToken.objects.count() == 1


def test_a_read_only_token_reads_but_writes_nothing(unit, client):
    token, raw = token_create(user=unit.users["investigator"], name="reader", scope="read")
    assert client.get("/api/v1/trials", **_bearer(raw)).status_code == 200
    r = client.delete(f"/api/v1/tokens/{token.pk}", **_bearer(raw))
    assert r.status_code == 403
    assert r.json()["message"] == "This personal access token is read-only."
    token.refresh_from_db()
    assert token.revoked_at is None


def test_expired_and_revoked_tokens_answer_401(unit, client):
    expired, raw_expired = token_create(user=unit.users["nurse"], name="old")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    assert client.get("/api/v1/me", **_bearer(raw_expired)).status_code == 401
    revoked, raw_revoked = token_create(user=unit.users["nurse"], name="gone")
    assert client.get("/api/v1/me", **_bearer(raw_revoked)).status_code == 200
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    r = client.get("/api/v1/me", **_bearer(raw_revoked))
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated"


def test_an_administrator_revokes_anyones_token_others_only_their_own(unit, client_for):
    token, _ = token_create(user=unit.users["nurse"], name="nurse's")
    assert client_for("investigator").delete(f"/api/v1/tokens/{token.pk}").status_code == 404
    page = client_for("investigator").post(f"/account/tokens/{token.pk}/revoke/")
    assert page.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    r = client_for("admin").post(f"/account/tokens/{token.pk}/revoke/")
    assert r.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(object_type="accounts.apitoken", action="revoke")
    assert event.actor_id == unit.users["admin"].pk


def test_my_api_tokens_page_lists_creates_and_revokes(unit, client_for):
    other, _ = token_create(user=unit.users["investigator"], name="not-mine")
    c = client_for("nurse")
    page = c.get("/account/tokens/")
    assert page.status_code == 200
    assert "not-mine" not in page.content.decode()
    r = c.post("/account/tokens/", {"name": "notebook", "scope": "read", "days": "30"})
    html = r.content.decode()
    token = ApiToken.objects.get(user=unit.users["nurse"])
    assert token.scope == "read"
    assert abs((token.expires_at - timezone.now()).days - 30) <= 1
    assert 'data-testid="token-secret">otk_' in html
    # shown in the nurse's site's zone (the page's), whatever the hour in UTC
    site_zone = zoneinfo.ZoneInfo(unit.users["nurse"].memberships.get().site.time_zone)
    assert f"{token.expires_at.astimezone(site_zone):%Y-%m-%d}" in html
    assert "Read only" in html
    # Shown once: the list afterwards carries only the prefix.
    again = c.get("/account/tokens/").content.decode()
    assert "token-secret" not in again
    assert f"{token.prefix}…" in again
    bad = c.post("/account/tokens/", {"name": "x", "scope": "read", "days": "0"})
    assert bad.status_code == 422
    assert ApiToken.objects.filter(user=unit.users["nurse"]).count() == 1
    c.post(f"/account/tokens/{token.pk}/revoke/")
    after = c.get("/account/tokens/").content.decode()
    assert "Revoked" in after
    assert other.pk != token.pk


def test_the_token_page_needs_a_session(unit, client):
    _, raw = token_create(user=unit.users["nurse"], name="script")
    r = client.post("/account/tokens/", {"name": "x", "days": "30"}, **_bearer(raw))
    assert r.status_code == 302  # to the login page: a token is no session
    assert ApiToken.objects.count() == 1


def test_cli_lists_and_revokes_tokens(unit):
    token, raw = token_create(user=unit.users["nurse"], name="script", scope="read")
    token_create(user=unit.users["investigator"], name="notebook")
    listed = runner.invoke(app, ["token", "list", "nurse", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.stdout)
    assert (row["id"], row["user"], row["scope"], row["state"]) == (
        token.pk,
        "nurse",
        "read",
        "active",
    )
    assert row["expires_at"] is not None
    assert raw not in listed.stdout
    every = runner.invoke(app, ["token", "list", "--format", "json"])
    assert {(r["user"], r["name"]) for r in json.loads(every.stdout)} == {
        ("nurse", "script"),
        ("investigator", "notebook"),
    }
    assert runner.invoke(app, ["token", "list"]).exit_code == 0  # the table for people
    revoked = runner.invoke(app, ["token", "revoke", str(token.pk)])
    assert revoked.exit_code == 0, revoked.output
    assert f"Revoked token {token.pk} (script) of nurse." in revoked.stdout
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(object_type="accounts.apitoken", action="revoke")
    assert event.channel == "cli"
    active = runner.invoke(app, ["token", "list", "nurse", "--active", "--format", "json"])
    assert json.loads(active.stdout) == []
    missing = runner.invoke(app, ["token", "revoke", "999999"])
    assert missing.exit_code == 1
    assert "No token 999999" in missing.stderr


def test_cli_creates_a_token_with_scope_and_days(unit):
    r = runner.invoke(
        app, ["token", "create", "nurse", "--scope", "read", "--days", "7", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    token = ApiToken.objects.get(pk=out["id"])
    assert token.scope == "read"
    assert abs((token.expires_at - timezone.now()) - dt.timedelta(days=7)) < dt.timedelta(minutes=1)
    assert Client().get("/api/v1/me", **_bearer(out["token"])).status_code == 200


def test_the_token_page_and_the_idle_warning_in_french(unit, client_for):
    nurse = unit.users["nurse"]
    nurse.language = "fr"
    nurse.save()
    html = client_for("nurse").get("/account/tokens/").content.decode()
    assert "Mes jetons d’API" in html
    assert "Jours avant expiration" in html
    assert "Rester connecté" in html
