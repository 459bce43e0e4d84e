"""The home page shows the lists each of the user's roles calls for (decided through the rights
table, never role names), each capped with a link to the full list, within the user's scope."""

from __future__ import annotations

import pytest

SECTIONS = {
    "dlt": 'data-testid="home-dlt-window"',
    "escalations": 'data-testid="home-escalations"',
    "saes": 'data-testid="home-sae-clocks"',
    "visits": 'data-testid="home-visits-today"',
    "queries": 'data-testid="home-open-queries"',
    "missing": 'data-testid="home-missing-forms"',
    "sdv": 'data-testid="home-sdv"',
}


def _shown(page: str) -> set[str]:
    return {name for name, marker in SECTIONS.items() if marker in page}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("investigator", {"dlt", "escalations", "saes", "visits"}),
        ("nurse", {"visits"}),
        ("datamanager", {"queries", "missing"}),
        ("monitor", {"queries", "missing", "sdv"}),
        ("outsider", set()),
        ("admin", set(SECTIONS)),
    ],
)
def test_home_sections_follow_the_roles(unit, client_for, persona, expected):
    page = client_for(persona).get("/").content.decode()
    assert _shown(page) == expected


def test_todays_visits_and_dlt_window_stay_in_scope(journey, enrol, client_for):
    main = enrol(2)
    partner = enrol(1, site="partner")[0]
    nurse = client_for("nurse").get("/").content.decode()
    visits = nurse.split(SECTIONS["visits"], 1)[1].split("</section>", 1)[0]
    for reg in main:
        assert reg.patient.research_id in visits
    assert partner.patient.research_id not in visits
    other = client_for("partner_investigator").get("/").content.decode()
    assert partner.patient.research_id in other
    for reg in main:
        assert reg.patient.research_id not in other
    inv = client_for("investigator").get("/").content.decode()
    dlt = inv.split(SECTIONS["dlt"], 1)[1].split("</section>", 1)[0]
    assert main[0].patient.research_id in dlt
    assert partner.patient.research_id not in dlt


def test_home_lists_are_capped(journey, enrol, client_for):
    enrol(12)
    page = client_for("nurse").get("/").content.decode()
    visits = page.split(SECTIONS["visits"], 1)[1].split("</section>", 1)[0]
    assert visits.count("<li>") == 10
    assert "(12)" in visits
    assert 'href="/worklists/"' in visits


def test_data_manager_sees_open_queries_and_monitor_sdv_to_do(journey, enrol, client_for):
    from oncotrials.apps.crfs.services import form_save, query_raise

    reg = enrol(1)[0]
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
        text="Source says 62?",
        by=journey.unit.users["datamanager"],
    )
    dm = client_for("datamanager").get("/").content.decode()
    assert "Source says 62?" in dm.split(SECTIONS["queries"], 1)[1].split("</section>", 1)[0]
    admin = client_for("admin").get("/").content.decode()
    sdv = admin.split(SECTIONS["sdv"], 1)[1].split("</section>", 1)[0]
    assert reg.patient.research_id in sdv
    assert "vital_signs" in sdv
    # The monitor of T-MAIN sees neither: the form belongs to T-SHARED.
    monitor = client_for("monitor").get("/").content.decode()
    assert reg.patient.research_id not in monitor
    assert "Source says 62?" not in monitor
