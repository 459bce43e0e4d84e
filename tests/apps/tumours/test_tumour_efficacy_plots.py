"""The trial's efficacy page: waterfall, spider, swimmer and Kaplan-Meier PFS as SVG, from a small
data set whose PFS times are derived by hand from the FDA censoring table."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from oncotrials.apps.subjects.services import registration_change_status
from oncotrials.apps.tumours.selectors import DAYS_PER_MONTH
from oncotrials.apps.tumours.services import assessment_save, baseline_save

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def trial_data(registered, tm):
    c = registered(4)
    nurse = c.journey.unit.users["nurse"]
    p1, p2, p3, _p4 = c.registrations
    for reg in (p1, p2, p3):
        baseline_save(
            registration=reg, date=tm.BASELINE, method="CT", lesions=tm.lesions(), by=nurse
        )

    def scan(reg, date, t1, t2, **kw):
        assessment_save(registration=reg, date=date, measurements=tm.visit(t1, t2), by=nurse, **kw)

    # P1: PR (-30 %), confirmed, then a new lesion: PD on 2027-03-19 (day 126 from 2026-11-13).
    scan(p1, dt.date(2027, 1, 8), "20", "15")
    scan(p1, dt.date(2027, 2, 12), "19", "15")
    scan(p1, dt.date(2027, 3, 19), "19", "15", new_lesions=[{"lesion_id": "N1", "organ": "liver"}])
    # P2: SD twice; no event: censored at the last adequate assessment, 2027-03-05 (day 112).
    scan(p2, dt.date(2027, 1, 8), "28", "19")
    scan(p2, dt.date(2027, 3, 5), "27", "20")
    # P3: PR (-50 %), then death on 2027-02-01 (day 80): an event (FDA table, death row).
    scan(p3, dt.date(2027, 1, 8), "15", "10")
    for status in ("end_of_treatment", "off_study"):
        registration_change_status(
            registration=p3, to_status=status, on=dt.date(2027, 2, 1), by=nurse, reason="death"
        )
    # P4: no tumour assessment: censored at day 0 (FDA table, no baseline row).
    return c


def _svg(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)  # noqa: S314  # our own server's output
    assert root.tag == f"{SVG}svg"
    return root, {el.get("id") for el in root.iter() if el.get("id")}, response.content.decode()


def test_pfs_is_derived_from_assessments_and_registration_status(trial_data, client_for):
    body = client_for("nurse").get(f"/api/v1/trials/{trial_data.reg.trial_id}/efficacy").json()
    got = {p["research_id"]: (p["pfs_days"], p["pfs_event"]) for p in body["patients"]}
    ids = [r.patient.research_id for r in trial_data.registrations]
    assert got == {
        ids[0]: (126, True),
        ids[1]: (112, False),
        ids[2]: (80, True),
        ids[3]: (0, False),
    }
    # Kaplan-Meier by hand: 4 at risk, one censored at 0; S(80) = 2/3; P2 censored at 112;
    # S(126) = 0, so the median is 126 days and 1-year PFS is 0.
    assert body["pfs_events"] == 2
    assert body["pfs_median_months"] * DAYS_PER_MONTH == pytest.approx(126)
    assert body["pfs_one_year"] == 0.0
    best = {p["research_id"]: p["best_change_pct"] for p in body["patients"]}
    assert best[ids[0]] == "-32.00"  # 34 mm of 50 (Decimal serialised exactly)
    assert best[ids[2]] == "-50.00"
    assert best[ids[3]] is None


def test_plots_are_valid_svg_with_one_mark_per_patient(trial_data, client_for):
    c = client_for("nurse")
    trial = trial_data.reg.trial_id
    ids = [r.patient.research_id for r in trial_data.registrations]
    _, marks, _ = _svg(c.get(f"/trials/{trial}/efficacy/waterfall.svg"))
    assert {f"waterfall-{i}" for i in ids[:3]} <= marks
    assert f"waterfall-{ids[3]}" not in marks  # nothing measured
    _, marks, _ = _svg(c.get(f"/trials/{trial}/efficacy/spider.svg"))
    assert {f"spider-{i}" for i in ids[:3]} <= marks
    _, marks, text = _svg(c.get(f"/trials/{trial}/efficacy/swimmer.svg"))
    assert {f"swimmer-{i}" for i in ids} <= marks
    assert "Months from start of treatment" in text
    _, marks, text = _svg(c.get(f"/api/v1/trials/{trial}/efficacy/pfs.svg"))
    assert {"km-curve", "km-censored", "km-summary"} <= marks
    assert "Median PFS: 4.1 months" in text  # 126 days / 30.44
    assert "1-year PFS: 0 %" in text


def test_plots_download_as_files(trial_data, client_for):
    r = client_for("nurse").get(
        f"/trials/{trial_data.reg.trial_id}/efficacy/waterfall.svg?download=1"
    )
    assert r["Content-Disposition"] == 'attachment; filename="T-SHARED-waterfall.svg"'
    assert (
        client_for("nurse").get(f"/trials/{trial_data.reg.trial_id}/efficacy/pie.svg").status_code
        == 404
    )


def test_efficacy_page_shows_the_four_plots_and_the_pfs_summary(trial_data, client_for):
    page = (
        client_for("investigator")
        .get(f"/trials/{trial_data.reg.trial_id}/efficacy/")
        .content.decode()
    )
    for plot in ("waterfall", "spider", "swimmer", "pfs"):
        assert f"/efficacy/{plot}.svg" in page
    assert "4.1 months" in page
    assert 'style="' not in page  # the Content-Security-Policy forbids inline styles


def test_empty_trial_gives_a_message_not_an_error(unit, client_for):
    c = client_for("investigator")
    page = c.get(f"/trials/{unit.trial_main.pk}/efficacy/")
    assert page.status_code == 200
    assert "No patient that you may see is registered" in page.content.decode()
    for plot in ("waterfall", "spider", "swimmer", "pfs"):
        _, marks, _ = _svg(c.get(f"/trials/{unit.trial_main.pk}/efficacy/{plot}.svg"))
        assert "empty-state" in marks
    assert c.get("/efficacy/").status_code == 200


def test_registered_without_assessments_shows_empty_waterfall(registered, client_for):
    c = registered(1)
    client = client_for("nurse")
    _, marks, text = _svg(client.get(f"/trials/{c.reg.trial_id}/efficacy/waterfall.svg"))
    assert "empty-state" in marks
    assert "No patient has a measured target sum" in text
    _, marks, _ = _svg(client.get(f"/trials/{c.reg.trial_id}/efficacy/swimmer.svg"))
    assert f"swimmer-{c.reg.patient.research_id}" in marks
    page = client.get(f"/patients/{c.reg.patient_id}/tumours/").content.decode()
    assert "No baseline assessment recorded yet" in page


def test_efficacy_queries_do_not_grow_with_patients(
    trial_data, client_for, django_assert_max_num_queries
):
    c = client_for("nurse")
    # trial lookup, scope, registrations, status history, evaluations and time points, baselines,
    # overrides: a fixed number whatever the number of patients.
    with django_assert_max_num_queries(16):
        assert c.get(f"/api/v1/trials/{trial_data.reg.trial_id}/efficacy").status_code == 200
    with django_assert_max_num_queries(9):
        assert (
            c.get(f"/api/v1/registrations/{trial_data.reg.pk}/tumour-assessments").status_code
            == 200
        )


def test_recist_listing_exports_as_csv_within_scope(trial_data, client_for):
    import csv
    import io

    trial = trial_data.reg.trial_id
    r = client_for("nurse").get(f"/trials/{trial}/efficacy/?format=csv")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert rows[0][:3] == ["patient", "treatment_start", "treatment_end"]
    assert len(rows) == 1 + 4
    by_patient = {row[0]: row for row in rows[1:]}
    first = by_patient[trial_data.registrations[0].patient.research_id]
    assert first[5] == "PR"  # best overall response: confirmed PR before the progression
    assert first[6].startswith("-")  # a negative change stays a number, not a quoted text
    assert first[9] == "yes"  # PFS event
    # The partner investigator sees none of the main site's patients.
    partner = client_for("partner_investigator").get(f"/trials/{trial}/efficacy/?format=csv")
    assert b"".join(partner.streaming_content).decode().strip().count("\n") == 0
    assert (
        'data-testid="recist-csv"'
        in client_for("nurse").get(f"/trials/{trial}/efficacy/").content.decode()
    )
