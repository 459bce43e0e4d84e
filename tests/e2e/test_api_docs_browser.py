"""The API docs render in the browser under the Content-Security-Policy, with no network but
the server's (the `page` fixture fails on any CSP violation)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"


def test_swagger_ui_renders_offline_under_the_csp(page, live_server, unit):
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "investigator")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/api/v1/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "oncotrials API" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-tag").first.wait_for()
    assert [u for u in requested if not u.startswith(live_server.url)] == []
