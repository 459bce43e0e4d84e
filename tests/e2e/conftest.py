"""Headless Chromium (Debian's package) driven by Playwright against a live server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


MISSING_CHROMIUM = "Debian's chromium is not installed: `make e2e-deps` (or `apt-get install chromium`) installs it"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        # Under CI the browser tests must run: a missing browser is a failure, not a skip.
        if os.environ.get("CI") == "true":
            pytest.fail(f"{MISSING_CHROMIUM}; CI=true, so the browser tests may not be skipped")
        pytest.skip(MISSING_CHROMIUM)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield pg
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def login(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.fixture
def add_dose_level():
    """Add a dose level to a cohort from the trial page's inline form (the trial set-up path)."""

    def add(page, cohort: str, level: str, dose: str, *, agent: str, schedule: str) -> None:
        block = page.locator("[data-testid=cohort]", has_text=cohort)
        block.locator("summary", has_text="Add a dose level").click()
        form = block.locator("[data-testid=dose-level-form]")
        form.locator("input[name$=-level]").fill(level)
        form.locator("input[name$=-agent]").fill(agent)
        form.locator("input[name$=-dose]").fill(dose)
        form.locator("input[name$=-unit]").fill("mg")
        form.locator("input[name$=-schedule]").fill(schedule)
        with page.expect_navigation():
            form.locator("button[type=submit]").click()

    return add
