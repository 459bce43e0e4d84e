"""The long lists (patients, casebooks, data queries, the trial portfolio) show one page of rows
and a pager; the count names every row the user may see, and a page costs the same number of
queries whatever the number of rows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

PAGE = 2  # rows a page shows in these tests (50 in use)


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch: Any) -> None:
    from oncotrials.apps.accounts import view_helpers

    monkeypatch.setattr(view_helpers, "LIST_PAGE_SIZE", PAGE)


def _raise_queries(journey: Any, regs: list[Any]) -> None:
    from oncotrials.apps.crfs.services import form_save, query_raise

    for reg in regs:
        form = form_save(
            registration=reg,
            visit_code="C1D1",
            form_name="vital_signs",
            data={"assessed_on": "2026-11-13", "systolic_bp": "120", "heart_rate": 72},
            version=0,
            complete=True,
            by=journey.unit.users["nurse"],
        )
        query_raise(
            record=form,
            field="heart_rate",
            text=f"Source says 62 for {reg.patient.research_id}?",
            by=journey.unit.users["datamanager"],
        )


def _rows(html: str, testid: str) -> list[str]:
    table = html.split(f'data-testid="{testid}"', 1)[1]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def _get(client: Any, url: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode(), len(ctx.captured_queries)


def test_patient_list_pages_count_every_visible_patient(journey, enrol, client_for):
    from oncotrials.apps.subjects.selectors import patients_visible_to

    nurse = client_for("nurse")
    enrol(3)
    first, small = _get(nurse, "/patients/")
    enrol(3)
    first, large = _get(nurse, "/patients/")
    assert large == small, (small, large)
    total = patients_visible_to(journey.unit.users["nurse"]).count()
    assert total > 2 * PAGE
    assert f"{total} patients" in first
    ids = re.findall(r'href="/patients/(\d+)/"', first)
    assert len(ids) == PAGE
    assert f"Page 1 of {-(-total // PAGE)}" in first
    second, _ = _get(nurse, "/patients/?page=2")
    assert not set(re.findall(r'href="/patients/(\d+)/"', second)) & set(ids)
    # Beyond the last page: the last page; not a number: the first.
    last, _ = _get(nurse, "/patients/?page=999")
    assert f"Page {-(-total // PAGE)} of" in last
    assert re.findall(r'href="/patients/(\d+)/"', _get(nurse, "/patients/?page=x")[0]) == ids
    # The pager keeps the search; the CSV link has every row, not a page.
    searched, _ = _get(nurse, "/patients/?q=OTP&page=2")
    assert 'href="?q=OTP&amp;page=1" rel="prev"' in searched
    assert "/patients/?q=OTP&amp;format=csv" in searched
    csv = b"".join(nurse.get("/patients/?format=csv").streaming_content).decode()
    assert len(csv.strip().splitlines()) == total + 1


def test_casebook_list_pages(journey, enrol, client_for):
    from oncotrials.apps.subjects.selectors import registrations_visible_to

    dm = client_for("datamanager")
    enrol(3)
    _, small = _get(dm, "/crfs/")
    enrol(3)
    html, large = _get(dm, "/crfs/")
    assert large == small, (small, large)
    total = registrations_visible_to(journey.unit.users["datamanager"]).count()
    assert total > 2 * PAGE
    assert len(_rows(html, "casebooks")) == PAGE
    assert 'data-testid="casebook-pages"' in html
    seen = set()
    for n in range(1, -(-total // PAGE) + 1):
        seen |= set(
            re.findall(r'href="/crfs/registrations/(\d+)/"', _get(dm, f"/crfs/?page={n}")[0])
        )
    assert len(seen) == total


def test_query_list_pages(journey, enrol, client_for):
    dm = client_for("datamanager")
    _raise_queries(journey, enrol(3))
    _, small = _get(dm, "/crfs/queries/")
    _raise_queries(journey, enrol(3))
    html, large = _get(dm, "/crfs/queries/")
    assert large == small, (small, large)
    assert len(_rows(html, "queries")) == PAGE
    assert "Page 1 of 3" in html
    # The status filter stays on the pager's links.
    answered, _ = _get(dm, "/crfs/queries/?status=all&page=3")
    assert 'href="?status=all&amp;page=2" rel="prev"' in answered
    assert len(_rows(answered, "queries")) == PAGE


def test_portfolio_pages(journey, client_for):
    from oncotrials.apps.trials.selectors import trials_visible_to

    investigator = client_for("investigator")
    total = trials_visible_to(journey.unit.users["investigator"]).count()
    assert total > PAGE
    html, _ = _get(investigator, "/trials/")
    assert f"{total} trials" in html
    assert 'data-testid="trial-pages"' in html
    codes = []
    for n in range(1, -(-total // PAGE) + 1):
        page, _ = _get(investigator, f"/trials/?page={n}")
        codes += re.findall(r'href="/trials/\d+/">([^<]+)</a>', page)
    assert len(codes) == total
    assert codes == sorted(codes)
