"""Every list exports as CSV (``?format=csv``) through one streaming helper, with the page's
filters and the page's visibility: an out-of-scope persona's file has no out-of-scope rows, and a
cell a spreadsheet would read as a formula is neutralised."""

from __future__ import annotations

import csv
import io

from oncotrials.apps.accounts.view_helpers import csv_cell


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_formula_cells_are_neutralised():
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("+1") == "'+1"
    assert csv_cell("-2+3") == "'-2+3"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("Colitis") == "Colitis"
    assert csv_cell(-12.5) == -12.5  # a number is no formula
    assert csv_cell(None) == ""
    assert csv_cell(True) == "yes"


def test_portfolio_csv_follows_filters_and_scope(unit, client_for):
    rows = _csv(client_for("admin").get("/trials/?format=csv"))
    assert rows[0][:3] == ["protocol", "title", "phase"]
    codes = {r[0] for r in rows[1:]}
    assert {"T-MAIN", "T-SHARED", "T-PARTNER", "T-OTHER"} <= codes
    filtered = _csv(client_for("admin").get("/trials/?format=csv&phase=III"))
    assert {r[0] for r in filtered[1:]} == {"T-PARTNER"}
    # The monitor limited to T-MAIN gets T-MAIN only.
    monitor = _csv(client_for("monitor").get("/trials/?format=csv"))
    assert {r[0] for r in monitor[1:]} == {"T-MAIN"}
    page = client_for("admin").get("/trials/?phase=III").content.decode()
    assert "phase=III&amp;format=csv" in page


def test_patient_csv_follows_search_and_scope(journey, enrol, client_for):
    main = enrol(1)[0]
    partner = enrol(1, site="partner")[0]
    rows = _csv(client_for("admin").get("/patients/?format=csv"))
    assert rows[0][0] == "research_id"
    ids = {r[0] for r in rows[1:]}
    assert {main.patient.research_id, partner.patient.research_id} <= ids
    only = _csv(client_for("admin").get(f"/patients/?format=csv&q={main.patient.research_id}"))
    assert [r[0] for r in only[1:]] == [main.patient.research_id]
    assert "T-SHARED" in only[1][7]
    outsider = _csv(client_for("partner_investigator").get("/patients/?format=csv"))
    assert main.patient.research_id not in {r[0] for r in outsider[1:]}
    assert partner.patient.research_id in {r[0] for r in outsider[1:]}
    assert 'data-testid="patients-csv"' in client_for("admin").get("/patients/").content.decode()


def test_screening_log_csv_and_printable_page_keep_scope(journey, enrol, client_for):
    main = enrol(1)[0]
    partner = enrol(1, site="partner")[0]
    trial = journey.cohort.trial
    rows = _csv(client_for("admin").get(f"/trials/{trial.pk}/screening-log/?format=csv"))
    assert rows[0] == ["patient", "site", "kind", "started_on", "outcome", "reason"]
    assert {r[0] for r in rows[1:]} == {main.patient.research_id, partner.patient.research_id}
    partner_rows = _csv(
        client_for("partner_investigator").get(f"/trials/{trial.pk}/screening-log/?format=csv")
    )
    assert {r[0] for r in partner_rows[1:]} == {partner.patient.research_id}
    page = client_for("partner_investigator").get(f"/trials/{trial.pk}/screening-log/")
    html = page.content.decode()
    assert partner.patient.research_id in html
    assert main.patient.research_id not in html
    assert "data-print" in html
    # A trial one may not see: 404, as CSV too.
    other = journey.unit.trial_other.pk
    assert (
        client_for("partner_investigator").get(f"/trials/{other}/screening-log/").status_code == 404
    )
    assert (
        client_for("partner_investigator")
        .get(f"/trials/{other}/screening-log/?format=csv")
        .status_code
        == 404
    )
