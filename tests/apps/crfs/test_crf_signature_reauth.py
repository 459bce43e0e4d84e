"""E-signature re-authentication: wrong passwords audited, signing locked after N, the right
password refused while locked; the printed name and the meaning on the record and its pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from oncotrials.apps.accounts.models import Role, SigningThrottle
from oncotrials.apps.accounts.services import membership_grant, user_create
from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.crfs.models import Signature
from oncotrials.apps.crfs.services import form_save, signature_sign
from oncotrials.core.errors import PermissionDeniedError

PASSWORD = "a-long-test-password-42"  # tests/conftest.py
VITALS = {"assessed_on": "2026-11-13", "systolic_bp": "120", "heart_rate": 72}


def _form(cb):
    return form_save(
        registration=cb.registration,
        visit_code="C1D1",
        form_name="vital_signs",
        data=VITALS,
        version=0,
        complete=True,
        by=cb.users["nurse"],
    )


def _events(user, action):
    return AuditEvent.objects.filter(
        action=action, object_type="accounts.user", object_id=str(user.pk)
    ).order_by("pk")


def test_every_wrong_password_is_audited_and_the_fifth_locks_signing(cb, settings):
    form = _form(cb)
    inv = cb.users["investigator"]
    assert settings.SIGNATURE_FAILURE_LIMIT == 5
    for n in range(1, 5):
        with pytest.raises(PermissionDeniedError, match="password does not match"):
            signature_sign(record=form, meaning="reviewed", password=f"wrong-{n}", by=inv)
        assert _events(inv, "signature_password_failed").count() == n
    with pytest.raises(PermissionDeniedError, match="signing is locked until"):
        signature_sign(record=form, meaning="reviewed", password="wrong-5", by=inv)
    (lock,) = _events(inv, "signature_locked")
    assert lock.actor_id == inv.pk
    assert lock.reason == "5 wrong passwords when signing"
    # The right password is refused until the lock lifts; the refusal is audited too.
    with pytest.raises(PermissionDeniedError, match="Signing is locked until"):
        signature_sign(record=form, meaning="reviewed", password=PASSWORD, by=inv)
    assert _events(inv, "signature_refused").count() == 1
    assert not Signature.objects.exists()
    throttle = SigningThrottle.objects.get(user=inv)
    throttle.locked_until = timezone.now() - dt.timedelta(seconds=1)  # the lock time has passed
    throttle.save()
    sig = signature_sign(record=form, meaning="reviewed", password=PASSWORD, by=inv)
    assert sig.signer_name == "Ines Vidal"


def test_failures_outside_the_window_do_not_add_up(cb, settings):
    form = _form(cb)
    inv = cb.users["investigator"]
    settings.SIGNATURE_FAILURE_LIMIT = 2
    with pytest.raises(PermissionDeniedError):
        signature_sign(record=form, meaning="reviewed", password="wrong", by=inv)
    SigningThrottle.objects.filter(user=inv).update(
        window_started_at=timezone.now() - settings.SIGNATURE_FAILURE_WINDOW - dt.timedelta(1)
    )
    with pytest.raises(PermissionDeniedError, match="password does not match: the"):
        signature_sign(record=form, meaning="reviewed", password="wrong", by=inv)
    assert not _events(inv, "signature_locked").exists()
    assert signature_sign(record=form, meaning="reviewed", password=PASSWORD, by=inv)
    assert SigningThrottle.objects.get(user=inv).failures == 0  # a success starts afresh


def test_the_lock_is_per_user(cb, settings):
    settings.SIGNATURE_FAILURE_LIMIT = 1
    form = _form(cb)
    with pytest.raises(PermissionDeniedError, match="locked"):
        signature_sign(record=form, meaning="reviewed", password="x", by=cb.users["investigator"])
    other = user_create(username="second.investigator", password=PASSWORD)
    membership_grant(user=other, role=Role.INVESTIGATOR, site=cb.unit.main)
    sig = signature_sign(record=form, meaning="approved", password=PASSWORD, by=other)
    assert sig.signer_name == "second.investigator"  # no first or last name: the user name


def test_the_api_answers_403_and_the_lock_holds_there_too(cb, settings):
    settings.SIGNATURE_FAILURE_LIMIT = 3
    form = _form(cb)
    c = Client()
    c.force_login(cb.users["investigator"], backend="django.contrib.auth.backends.ModelBackend")
    body = {"record_type": "crfs.forminstance", "record_id": form.pk, "meaning": "reviewed"}
    for _ in range(3):
        r = c.post(
            "/api/v1/crfs/signatures", {**body, "password": "nope"}, content_type="application/json"
        )
        assert r.status_code == 403
    assert "locked" in r.json()["message"]
    r = c.post(
        "/api/v1/crfs/signatures", {**body, "password": PASSWORD}, content_type="application/json"
    )
    assert r.status_code == 403
    assert "Signing is locked until" in r.json()["message"]
    failed = _events(cb.users["investigator"], "signature_password_failed")
    assert [e.channel for e in failed] == ["api"] * 3


def test_the_page_shows_the_printed_name_and_the_meaning(cb):
    form = _form(cb)
    c = Client()
    c.force_login(cb.users["investigator"], backend="django.contrib.auth.backends.ModelBackend")
    r = c.post(
        f"/crfs/records/crfs.forminstance/{form.pk}/sign/",
        {"password": "wrong", "meaning": "approved"},
        HTTP_HX_REQUEST="true",
    )
    assert "password does not match" in r.content.decode()
    r = c.post(
        f"/crfs/records/crfs.forminstance/{form.pk}/sign/",
        {"password": PASSWORD, "meaning": "approved"},
        HTTP_HX_REQUEST="true",
    )
    html = r.content.decode()
    assert "Ines Vidal" in html
    assert "I approve these data as accurate and complete" in html
    assert ">investigator<" not in html


def test_a_batch_checks_each_signers_password_once_and_every_wrong_one(cb, monkeypatch):
    from oncotrials.apps.accounts.models import User
    from oncotrials.apps.accounts.services import signing_checks_remembered

    form = _form(cb)
    inv = cb.users["investigator"]
    checked: list[str] = []
    real = User.check_password

    def counting(self, raw):
        checked.append(raw)
        return real(self, raw)

    monkeypatch.setattr(User, "check_password", counting)
    with signing_checks_remembered():
        signature_sign(record=form, meaning="reviewed", password=PASSWORD, by=inv)
        signature_sign(record=form, meaning="approved", password=PASSWORD, by=inv)
        with pytest.raises(PermissionDeniedError, match="password does not match"):
            signature_sign(record=form, meaning="reviewed", password="wrong", by=inv)
        assert checked == [PASSWORD, "wrong"]  # the right one once, the wrong one checked
        assert _events(inv, "signature_password_failed").count() == 1
        # A lock is honoured whatever was checked before in the block.
        SigningThrottle.objects.filter(user=inv).update(
            locked_until=timezone.now() + dt.timedelta(minutes=5)
        )
        with pytest.raises(PermissionDeniedError, match="Signing is locked until"):
            signature_sign(record=form, meaning="reviewed", password=PASSWORD, by=inv)
        SigningThrottle.objects.filter(user=inv).update(locked_until=None)
    # Outside the block, every signature checks the password again.
    signature_sign(record=form, meaning="reviewed", password=PASSWORD, by=inv)
    assert checked == [PASSWORD, "wrong", PASSWORD]


def test_a_batch_checks_a_shared_stored_hash_once_and_a_different_one_again(cb, monkeypatch):
    """Accounts given one stored hash (the demo hashes its published password once) share a
    check within the block; an account with its own hash is checked, and a wrong password
    against the shared hash still is."""
    from oncotrials.apps.accounts.models import Role, User
    from oncotrials.apps.accounts.services import (
        membership_grant,
        signing_checks_remembered,
        user_create,
    )

    form = _form(cb)
    inv = cb.users["investigator"]
    site = cb.registration.patient.site
    co, other = (user_create(username=n, password=PASSWORD) for n in ("co_inv", "other_inv"))
    for u in (co, other):
        membership_grant(user=u, role=Role.INVESTIGATOR, site=site)
    User.objects.filter(pk=co.pk).update(password=inv.password)
    co.refresh_from_db()
    checked: list[str] = []
    real = User.check_password

    def counting(self, raw):
        checked.append(f"{self.username}:{raw}")
        return real(self, raw)

    monkeypatch.setattr(User, "check_password", counting)
    with signing_checks_remembered():
        signature_sign(record=form, meaning="reviewed", password=PASSWORD, by=inv)
        signature_sign(record=form, meaning="reviewed", password=PASSWORD, by=co)
        assert checked == [f"investigator:{PASSWORD}"]
        with pytest.raises(PermissionDeniedError, match="password does not match"):
            signature_sign(record=form, meaning="reviewed", password="wrong", by=co)
        assert checked[-1] == "co_inv:wrong"
        # Its own stored hash (its own salt), the same password: checked.
        signature_sign(record=form, meaning="reviewed", password=PASSWORD, by=other)
        assert checked[-1] == f"other_inv:{PASSWORD}"
