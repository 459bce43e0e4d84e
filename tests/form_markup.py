"""Reading the markup of one form of a page in tests: the form itself, and the signs of a refused
submit that the shared field rendering (accounts/templatetags/formfields.py) gives."""

from __future__ import annotations

import re


def form_html(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    start = html.rindex("<form", 0, start)
    return html[start : html.index("</form>", start)]


def refused(form: str, field_id: str, *, kept: str = "") -> None:
    """The summary links to the field, the field says it is invalid and points to its error."""
    assert 'role="alert"' in form
    assert 'data-testid="error-summary"' in form
    assert f'href="#{field_id}"' in form
    tag = re.search(rf'<(?:input|select|textarea)[^>]*id="{field_id}"[^>]*>', form)
    assert tag is not None, field_id
    assert 'aria-invalid="true"' in tag.group(0)
    assert f'aria-describedby="{field_id}-error"' in tag.group(0)
    assert f'id="{field_id}-error"' in form
    if kept:
        assert kept in form
