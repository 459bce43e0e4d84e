"""The API docs page works offline: Swagger UI comes from our own static files, under the same
Content-Security-Policy as every other page."""

from __future__ import annotations

import re

from django.conf import settings


def test_api_docs_load_nothing_from_outside_and_carry_the_csp(client_for):
    r = client_for("investigator").get("/api/v1/docs")
    assert r.status_code == 200
    page = r.content.decode()
    assert r["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert re.findall(r"(?:src|href)=[\"'](?:https?:)?//", page) == []
    assert "cdn" not in page.lower()
    assets = re.findall(r"(?:src|href)=[\"'](/static/[^\"']+)", page)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-init.js",
    }
    client = client_for("investigator")
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content if served.streaming else [served.content])
    # Scripts only from files: the settings travel as JSON data, never as inline code.
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert all('type="application/json"' in attrs for attrs in inline), inline
