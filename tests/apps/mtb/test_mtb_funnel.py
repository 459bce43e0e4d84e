"""The funnel on a known fixture: screened → actionable → referred → included per site, and the
median time from report to inclusion."""

from __future__ import annotations

import datetime as dt

import pytest
from mtb_board_helpers import (
    G12C,
    TP53,
    aware,
    held_meeting,
    import_report,
    include,
    make_board,
    make_patient,
    screen,
    signed_referral,
)

pytestmark = pytest.mark.django_db
SEPT = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))


def _report(tmp_path, patient, day, variants):
    return import_report(
        tmp_path, patient, imported_at=aware(day), reported_on=day, variants=variants
    )


@pytest.fixture
def fixture_unit(unit, tmp_path):
    """Main site, September 2026 (reports; referrals at the board of 17 September):

    P1 G12C (ESCAT II-B) 09-05, referred, included 10-12 (37 days)
    P2 G12C 09-10, referred, screen failure
    P3 TP53 09-12, documented actionable by the board
    P4 G12C 09-15, documented not actionable by the board
    P5 TP53 09-20
    P6 G12C 10-05 (outside the period)
    P7 G12C 09-01, referred, included 10-21 (50 days)
    P9 G12C 09-03, report superseded
    Partner site: P8 G12C 09-08.
    """
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.mtb.services import case_add, case_update

    board = make_board(unit)
    nurse = unit.users["nurse"]
    p = {i: make_patient(unit.main, nurse) for i in (1, 2, 3, 4, 5, 6, 7, 9)}
    p[8] = make_patient(unit.partner, unit.users["partner_investigator"])
    for i, day, variants in [
        (1, dt.date(2026, 9, 5), G12C),
        (2, dt.date(2026, 9, 10), G12C),
        (3, dt.date(2026, 9, 12), TP53),
        (4, dt.date(2026, 9, 15), G12C),
        (5, dt.date(2026, 9, 20), TP53),
        (6, dt.date(2026, 10, 5), G12C),
        (7, dt.date(2026, 9, 1), G12C),
        (8, dt.date(2026, 9, 8), G12C),
        (9, dt.date(2026, 9, 3), G12C),
    ]:
        r = _report(tmp_path, p[i], day, variants)
        if i == 9:
            GenomicReport.objects.filter(pk=r.pk).update(superseded=True)
    meeting = held_meeting(board, dt.date(2026, 9, 17))
    cases = {
        i: case_add(meeting=meeting, patient=p[i], reason="report", by=board.coordinator)
        for i in (1, 2, 3, 4, 7)
    }
    for i, answer in ((3, True), (4, False)):
        case_update(
            case=cases[i], version=1, actionable=answer, reason="board", by=board.coordinator
        )
    for i in (1, 2, 7):
        signed_referral(board, cases[i])
    screen(board, p[1], dt.date(2026, 10, 1), outcome="eligible")
    include(board, p[1], dt.date(2026, 10, 12))
    screen(board, p[2], dt.date(2026, 10, 1), outcome="failed", reason="biomarker_negative")
    screen(board, p[7], dt.date(2026, 10, 15), outcome="eligible")
    include(board, p[7], dt.date(2026, 10, 21))
    return unit


def _counts(row):
    return (row.screened, row.actionable, row.referred, row.included)


def test_funnel_counts_and_median_time_per_site(fixture_unit):
    from oncotrials.apps.mtb.selectors import funnel

    f = funnel(user=fixture_unit.users["admin"], date_from=SEPT[0], date_to=SEPT[1])
    rows = {r.site_code: r for r in f.rows}
    assert _counts(rows["main"]) == (6, 4, 3, 2)
    assert rows["main"].days_to_inclusion == [37, 50]
    assert rows["main"].median_days_to_inclusion == 43.5
    assert _counts(rows["partner"]) == (1, 1, 0, 0)
    assert rows["partner"].median_days_to_inclusion is None
    assert _counts(f.total) == (7, 5, 3, 2)
    assert f.total.median_days_to_inclusion == 43.5


def test_the_period_and_site_filter_the_screened_patients(fixture_unit):
    from oncotrials.apps.accounts.models import Site
    from oncotrials.apps.mtb.selectors import funnel

    admin = fixture_unit.users["admin"]
    october = funnel(user=admin, date_from=dt.date(2026, 10, 1), date_to=dt.date(2026, 10, 31))
    assert _counts(october.total) == (1, 1, 0, 0)
    everything = funnel(user=admin, site=Site.objects.get(code="main"))
    assert [r.site_code for r in everything.rows] == ["main"]
    assert _counts(everything.total) == (7, 5, 3, 2)


@pytest.mark.parametrize(
    ("who", "sites"),
    [
        ("investigator", ["main"]),
        ("partner_investigator", ["partner"]),
        ("monitor", []),
        ("outsider", []),
    ],
)
def test_each_user_sees_the_funnel_of_their_own_sites(fixture_unit, who, sites):
    from oncotrials.apps.mtb.selectors import funnel

    f = funnel(user=fixture_unit.users[who], date_from=SEPT[0], date_to=SEPT[1])
    assert [r.site_code for r in f.rows] == sites
    if not sites:
        assert _counts(f.total) == (0, 0, 0, 0)


def test_funnel_api_and_page(fixture_unit, client_for):
    c = client_for("investigator")
    body = c.get("/api/v1/mtb/funnel?date_from=2026-09-01&date_to=2026-09-30").json()
    assert [r["site"] for r in body["rows"]] == ["main"]
    assert body["total"]["screened"] == 6
    assert body["total"]["median_days_to_inclusion"] == 43.5
    bad = c.get("/api/v1/mtb/funnel?date_from=2026-09-30&date_to=2026-09-01")
    assert bad.status_code == 422
    assert bad.json()["extra"]["field"] == "date_to"
    page = c.get("/mtb/funnel/?date_from=2026-09-01&date_to=2026-09-30")
    assert page.status_code == 200
    assert b'data-testid="mtb-funnel-table"' in page.content
    svg = c.get("/mtb/funnel.svg?date_from=2026-09-01&date_to=2026-09-30")
    assert svg["Content-Type"] == "image/svg+xml"
    assert b'id="funnel-main-included"' in svg.content


def test_the_funnel_plot_speaks_the_page_language(fixture_unit, client_for):
    c = client_for("investigator")
    c.cookies["django_language"] = "fr"
    svg = c.get("/mtb/funnel.svg?date_from=2026-09-01&date_to=2026-09-30").content.decode()
    assert "Inclus" in svg
    assert "Pré-sélectionnés" in svg
    assert "jours du compte rendu" in svg
    assert "Included" not in svg
    assert "days from report" not in svg
