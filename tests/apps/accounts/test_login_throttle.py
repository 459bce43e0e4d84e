"""Login throttling by name at an address and by address alone; lockouts in the audit trail."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import Client, RequestFactory

from oncotrials.apps.accounts.throttle import client_ip
from oncotrials.apps.audit.models import AuditEvent

PASSWORD = "a-long-test-password-42"  # tests/conftest.py


def _try(name: str, password: str, address: str) -> Client:
    c = Client(REMOTE_ADDR=address)
    c.post("/login/", {"username": name, "password": password})
    return c


def _logged_in(c: Client) -> bool:
    return "_auth_user_id" in c.session


def test_a_name_is_locked_only_at_the_address_that_failed(unit, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _try("nurse", "wrong-password-123", "203.0.113.7")
    assert not _logged_in(_try("nurse", PASSWORD, "203.0.113.7"))  # locked there
    assert _logged_in(_try("nurse", PASSWORD, "198.51.100.20"))  # the owner, elsewhere
    assert _logged_in(_try("investigator", PASSWORD, "203.0.113.7"))  # others, there


def test_password_spraying_from_one_address_is_stopped(unit, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 8
    names = ["admin", "investigator", "datamanager", "partner_investigator", "monitor", "x", "y"]
    for name in names:  # one guess per name: never the per-name limit
        _try(name, "Spring2026!", "192.0.2.50")
    # A successful login from there forgets only that name's failures, not the address's.
    assert _logged_in(_try("outsider", PASSWORD, "192.0.2.50"))
    _try("z", "Spring2026!", "192.0.2.50")  # the 8th failure from the address
    assert not _logged_in(_try("nurse", PASSWORD, "192.0.2.50"))
    assert _logged_in(_try("nurse", PASSWORD, "192.0.2.51"))
    # The lockout, then the refused attempt during it, are both in the trail.
    first, refused = AuditEvent.objects.filter(action="lockout").order_by("pk")
    assert (first.object_type, first.object_id) == ("accounts.login", "z")
    assert first.changes["ip_address"] == [None, "192.0.2.50"]
    assert (refused.object_type, refused.object_id) == (
        "accounts.user",
        str(unit.users["nurse"].pk),
    )


def test_a_lockout_is_audited_against_the_user(unit, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _try("nurse", "wrong-password-123", "203.0.113.8")
    lock = AuditEvent.objects.get(action="lockout")
    assert (lock.object_type, lock.object_id) == ("accounts.user", str(unit.users["nurse"].pk))
    assert lock.channel == "web"
    assert lock.changes["locked_until"][1] > lock.occurred_at.isoformat()[:19]
    failed = AuditEvent.objects.filter(action="login_failed", object_id=str(unit.users["nurse"].pk))
    assert failed.count() == settings.AXES_FAILURE_LIMIT


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.1"),  # no proxy trusted: the header is ignored
        (1, "", "10.0.0.1"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # the left entry is the client's own claim
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (3, "203.0.113.5", "203.0.113.5"),
    ],
)
def test_the_client_address_behind_proxies(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    meta = {"REMOTE_ADDR": "10.0.0.1"}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(RequestFactory().get("/", **meta)) == expected


def test_the_system_check_has_no_axes_warning():
    problems = checks.run_checks(include_deployment_checks=False)
    assert [p.id for p in problems if p.id.startswith("axes.")] == []
