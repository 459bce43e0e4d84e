"""The casebook prints (a print stylesheet hides navigation, buttons and forms; a "Print" link) and
costs a fixed number of queries whatever the number of registrations in the trial."""

from __future__ import annotations

from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[3] / "src/oncotrials/web/static/css/oncotrials.css"

CASEBOOK_BUDGET = 26  # 23 measured: session, scope, registration, schedule, forms, panel


def test_print_stylesheet_hides_navigation_and_buttons():
    css = CSS.read_text()
    assert "@media print" in css
    rules = css.split("@media print", 1)[1]
    for selector in (".topbar", "nav", "button", "a.button", "form", ".no-print"):
        assert selector in rules


def test_casebook_has_a_print_link_and_no_inline_script(enrol, client_for):
    reg = enrol(1)[0]
    page = client_for("nurse").get(f"/crfs/registrations/{reg.pk}/").content.decode()
    assert 'data-print data-testid="print"' in page
    assert 'class="print-meta"' in page
    assert "onclick" not in page
    assert "<script>" not in page


@pytest.mark.parametrize("n", [3, 30])
def test_casebook_queries_do_not_grow_with_registrations(
    enrol, client_for, django_assert_max_num_queries, n
):
    regs = enrol(n)
    c = client_for("nurse")
    url = f"/crfs/registrations/{regs[-1].pk}/"
    c.get(url)  # warm the session and the parsed-schedule cache
    with django_assert_max_num_queries(CASEBOOK_BUDGET):
        r = c.get(url)
    assert r.status_code == 200
    assert "C1D8" in r.content.decode()
