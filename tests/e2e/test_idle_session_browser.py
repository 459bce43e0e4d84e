"""The idle-session warning in the browser, under the Content-Security-Policy: the banner comes
before the end, *Stay signed in* defers it, and at the end the login page says why."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"


def test_the_warning_then_the_login_page(page, live_server, unit, settings):
    settings.SESSION_IDLE_TIMEOUT = 6
    settings.SESSION_IDLE_WARNING = 4
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "nurse")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/patients/")
    banner = page.locator("[data-idle-banner]")
    banner.wait_for(state="visible", timeout=5000)
    assert "logged out in" in banner.inner_text()
    page.click("[data-idle-stay]")
    banner.wait_for(state="hidden", timeout=3000)
    page.wait_for_url(f"{live_server.url}/login/?next=%2Fpatients%2F", timeout=15000)
    assert "logged out after 1 minute without activity" in page.content()
