"""htmx and refused forms: the one ``htmx-config`` of base.html swaps a 422 (refused form) and a
409 (the record changed meanwhile) into their target like a 200, so that a panel answers a
refusal with its real status and still shows the errors where the user typed; every other
error swaps nothing and shows the page's request-error message instead. Each panel's own tests
post invalid input with ``HX-Request`` and check the 422 or 409 (tests/apps/...)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

STATIC = Path(__file__).resolve().parents[2] / "src" / "oncotrials"


def _htmx_config(page: str) -> dict:
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert meta is not None, "base.html declares no htmx-config"
    return json.loads(html.unescape(meta.group(1)))


def _handling(config: dict, status: int) -> dict:
    """The rule htmx 2 applies to ``status``: the first whose code (a regular expression)
    matches the status written in decimal (htmx's ``resolveResponseHandling``)."""
    for rule in config["responseHandling"]:
        if re.search(rule["code"], str(status)):
            return rule
    return {"swap": False}


def test_the_vendored_htmx_reads_response_handling_from_its_config():
    source = (STATIC / "web" / "static" / "vendor" / "htmx" / "htmx.min.js").read_text()
    assert re.search(r'version:"2\.\d+\.\d+"', source)
    assert "responseHandling" in source


def test_a_refused_form_is_swapped_like_a_saved_one_and_other_errors_are_not(client):
    config = _htmx_config(client.get("/login/").content.decode())
    assert config["allowEval"] is False  # kept: the Content-Security-Policy forbids eval
    for status in (200, 201, 422, 409):
        rule = _handling(config, status)
        assert rule["swap"] is True, status
        assert not rule.get("error"), status
    assert _handling(config, 204)["swap"] is False
    for status in (400, 401, 403, 404, 405, 410, 413, 423, 429, 500, 502, 503):
        rule = _handling(config, status)
        assert rule["swap"] is False, status
        assert rule.get("error") is True, status


def test_every_page_can_say_that_a_request_failed(client):
    page = client.get("/login/").content.decode()
    alert = re.search(r"<div class=\"request-error\"[^>]*>", page)
    assert alert is not None
    assert 'role="alert"' in alert.group(0)
    assert "hidden" in alert.group(0)
    script = (STATIC / "web" / "static" / "js" / "oncotrials.js").read_text()
    assert "htmx:responseError" in script
    assert "[data-request-error]" in script


def test_no_page_script_overrides_the_swap_rule_of_its_own():
    """One rule, one home: the site-wide config decides what htmx swaps."""
    scripts = [
        p
        for p in STATIC.rglob("*.js")
        if "vendor" not in p.parts and "htmx:beforeSwap" in p.read_text()
    ]
    assert scripts == []
