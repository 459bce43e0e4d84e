"""Accessible page structure that does not need a browser: the skip link comes first, the
language switch acts on a button, page parts that htmx loads have a language and a title when
opened directly, and so has the API documentation page."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def _focusables(html: str) -> list[str]:
    body = html.split("<body", 1)[1]
    return re.findall(r"<(?:a|button|select|input(?![^>]*type=\"hidden\")|textarea)\b[^>]*>", body)


def test_the_skip_link_is_the_first_focusable_element_and_targets_main(unit, client_for):
    html = client_for("nurse").get("/trials/").content.decode()
    first = _focusables(html)[0]
    assert 'class="skip-link"' in first
    assert 'href="#main"' in first
    assert '<main id="main" tabindex="-1">' in html
    assert 'role="status" aria-live="polite"' in html  # where htmx result counts are announced
    assert "data-live-count" in html


def test_the_menu_button_controls_the_navigation_and_the_language_needs_a_button(unit, client_for):
    html = client_for("nurse").get("/").content.decode()
    assert re.search(
        r'<button type="button" class="menu-toggle" aria-expanded="false" '
        r'aria-controls="site-menu"',
        html,
    )
    assert 'id="site-menu"' in html
    language_form = html.split('class="lang"', 1)[1].split("</form>", 1)[0]
    assert "data-autosubmit" not in language_form
    assert '<button class="lang-apply">Change language</button>' in language_form


def test_a_page_part_opened_directly_has_a_language_a_title_and_the_page_around_it(
    unit, client_for
):
    c = client_for("investigator")
    url = f"/trials/{unit.trial_main.pk}/patients/"
    c.cookies["django_language"] = "fr"
    part = c.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in part
    page = c.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<html") == 1
    assert '<html lang="fr"' in html
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title is not None
    assert title.group(1).strip().endswith("· oncotrials")
    assert len(title.group(1).strip()) > len("· oncotrials")
    assert part.strip()[:40] in html  # the part itself, unchanged
    assert '<h1 class="visually-hidden">' in html


def test_an_api_answer_or_a_download_is_never_wrapped(unit, client_for):
    c = client_for("investigator")
    api = c.get("/api/v1/trials")
    assert api.status_code == 200
    assert b"<html" not in api.content
    csv = c.get("/trials/?format=csv")
    assert b"<html" not in b"".join(csv.streaming_content)


def test_the_api_docs_page_has_a_language_and_a_title(unit, client_for):
    c = client_for("investigator")
    c.cookies["django_language"] = "fr"
    html = c.get("/api/v1/docs").content.decode()
    assert '<html lang="fr">' in html
    assert "<title>Documentation de l'API · " in html
