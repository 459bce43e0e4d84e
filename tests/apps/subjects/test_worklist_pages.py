"""The visit work list staff can use: paged (50 a page), filtered by trial, site and target
dates, sorted on target date, exported as CSV; it and the patient page cost a fixed number of
queries whatever the number of registrations."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest


def _rows(page: str) -> int:
    table = page.split('data-testid="visits-due"', 1)[1].split("</table>", 1)[0]
    return table.count("<tr>") - 1  # the header row


def test_work_list_is_paged_by_50(enrol, client_for):
    enrol(55)
    c = client_for("nurse")
    first = c.get("/worklists/").content.decode()
    assert _rows(first) == 50
    assert "55 visits" in first
    assert "Page 1 of 2" in first
    second = c.get("/worklists/?page=2").content.decode()
    assert _rows(second) == 5
    assert _rows(c.get("/worklists/?page=99").content.decode()) == 5  # past the end: the last


def test_work_list_filters_by_trial_site_and_target_dates(journey, enrol, client_for):
    enrol(2)
    partner = enrol(1, site="partner")[0]
    c = client_for("admin")
    assert "3 visits" in c.get("/worklists/").content.decode()
    only = c.get(f"/worklists/?site={journey.unit.partner.pk}").content.decode()
    assert "1 visit" in only
    assert partner.patient.research_id in only
    other_trial = journey.unit.trial_other.pk
    assert "0 visits" in c.get(f"/worklists/?trial={other_trial}").content.decode()
    shared = journey.cohort.trial_id
    assert "3 visits" in c.get(f"/worklists/?trial={shared}").content.decode()
    assert "0 visits" in c.get("/worklists/?target_from=2026-11-21").content.decode()
    assert "3 visits" in c.get("/worklists/?target_to=2026-11-20").content.decode()
    # A bad value is dropped, not an error; a trial one may not see is not a choice.
    assert c.get("/worklists/?target_from=yesterday&trial=999999").status_code == 200
    # The partner's investigator never sees the main site's patients, whatever the filter.
    p = client_for("partner_investigator")
    assert "1 visit" in p.get(f"/worklists/?site={journey.unit.main.pk}").content.decode()


def _targets(page: str) -> list[str]:
    table = page.split('data-testid="visits-due"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"</td><td>[A-Z0-9]+</td><td>(\d{4}-\d\d-\d\d)</td>", table)


def test_work_list_sorts_on_target_date(enrol, client_for, monkeypatch):
    from django.utils import timezone

    enrol(2)
    # On 11-26: C1D8 (11-20) is overdue and C1D15 (11-27) due, for each patient.
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 11, 26))
    c = client_for("nurse")
    oldest = _targets(c.get("/worklists/").content.decode())
    newest = _targets(c.get("/worklists/?sort=-target").content.decode())
    assert oldest == ["2026-11-20", "2026-11-20", "2026-11-27", "2026-11-27"]
    assert newest == oldest[::-1]


def test_work_list_exports_csv_with_the_same_filters(journey, enrol, client_for):
    enrol(2)
    partner = enrol(1, site="partner")[0]
    c = client_for("admin")
    r = c.get(f"/worklists/?format=csv&site={journey.unit.partner.pk}")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    assert r.streaming
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert rows[0][:4] == ["patient", "site", "trial", "visit"]
    assert rows[1:] == [
        [
            partner.patient.research_id,
            "partner",
            "T-SHARED",
            "C1D8",
            "2026-11-20",
            "2026-11-19",
            "2026-11-21",
            "due",
        ]
    ]
    everything = b"".join(c.get("/worklists/?format=csv").streaming_content).decode()
    assert len(everything.strip().splitlines()) == 1 + 3


# ----------------------------------------------------------------------------- query budgets

WORKLIST_BUDGET = 20  # 19 measured: session, scope, filters, 1 + 3 prefetches (trials shared), 3 evidence providers...
PATIENT_PAGE_BUDGET = 24  # 24 measured: the registrations, consents and screenings read once for the page and its forms; constant with 3 or 30 registrations


@pytest.mark.parametrize("n", [3, 30])
def test_work_list_queries_do_not_grow_with_registrations(
    enrol, client_for, django_assert_max_num_queries, n
):
    enrol(n)
    c = client_for("nurse")
    c.get("/worklists/")  # warm the session and the parsed-schedule cache
    with django_assert_max_num_queries(WORKLIST_BUDGET):
        page = c.get("/worklists/").content.decode()
    assert f"{n} visits" in page
    with django_assert_max_num_queries(WORKLIST_BUDGET):
        assert c.get("/worklists/?format=csv").status_code == 200


@pytest.mark.parametrize("n", [3, 30])
def test_patient_page_queries_do_not_grow_with_registrations(
    journey, enrol, client_for, django_assert_max_num_queries, n
):
    regs = enrol(n)
    c = client_for("nurse")
    url = f"/patients/{regs[0].patient_id}/"
    c.get(url)
    with django_assert_max_num_queries(PATIENT_PAGE_BUDGET):
        page = c.get(url).content.decode()
    assert "C1D8" in page
