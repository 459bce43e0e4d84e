"""The tumour-board case shows acquired resistance between the patient's serial samples (every
pair, with the therapy of its interval, the mechanism and the evidence), to the board of the
patient's site only; the resistance atlas links the patient to the case."""

from __future__ import annotations

import datetime as dt

import pytest
from mtb_board_helpers import held_meeting, make_board, make_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(unit, tmp_path):
    from oncotrials.apps.mtb.services import case_add
    from serial_resistance import four_samples

    board = make_board(unit)
    patient = make_patient(unit.main, unit.users["nurse"])
    four_samples(unit, patient, tmp_path)
    meeting = held_meeting(board, dt.date(2026, 11, 20))
    return case_add(
        meeting=meeting, patient=patient, reason="Second progression", by=board.coordinator
    )


def test_the_case_page_shows_every_serial_pair_with_its_drug_and_mechanism(case, client_for):
    page = client_for("coordinator").get(f"/mtb/cases/{case.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    section = html[
        html.index('data-testid="mtb-resistance"') : html.index('data-testid="mtb-matches"')
    ]
    assert section.count('data-testid="serial-pair"') == 5
    rid = case.patient.research_id
    # Progression 1 -> progression 2: trametinib alone, MAP2K1 K57N on target.
    articles = section.split("<article")[1:]
    s3_s4 = next(a for a in articles if f"<h3>{rid}-S3 " in a)
    assert 'data-testid="serial-pair-drugs">trametinib<' in s3_s4
    assert "MAP2K1 p.K57N" in s3_s4
    assert "on_target_secondary" in s3_s4
    assert "new alteration in target gene MAP2K1" in s3_s4
    assert "registration T-OTHER" in s3_s4
    assert "KRAS p.Y96D" in section
    body = client_for("coordinator").get(f"/api/v1/mtb/cases/{case.pk}").json()
    assert [
        (p["later_sample"][-2:], p["consecutive"], p["drugs"]) for p in body["serial_pairs"]
    ] == [
        ("S2", True, ["Drug A"]),
        ("S3", True, ["Drug A"]),
        ("S3", False, ["Drug A"]),
        ("S4", True, ["trametinib"]),
        ("S4", False, ["Drug A", "trametinib"]),
    ]


def test_members_limited_to_a_trial_see_no_case_and_the_atlas_links_the_board(
    case, unit, client_for
):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create

    board_other = user_create(username="board_other", password="a-long-test-password-42")
    membership_grant(
        user=board_other,
        role=Role.TUMOUR_BOARD_COORDINATOR,
        site=unit.main,
        trial=unit.trial_other,
    )
    unit.users["board_other"] = board_other
    # The patient is registered in T-OTHER, yet a member limited to that trial (or a monitor of
    # it, or anyone of the partner site) never sees the board's case.
    for who in ("board_other", "monitor_other", "partner_investigator", "outsider"):
        c = client_for(who)
        assert c.get(f"/mtb/cases/{case.pk}/").status_code == 404, who
        assert c.get(f"/api/v1/mtb/cases/{case.pk}").status_code == 404, who
        assert f"/mtb/cases/{case.pk}/" not in c.get("/genomics/resistance/").content.decode()
    atlas = client_for("coordinator").get("/genomics/resistance/").content.decode()
    assert f'href="/mtb/cases/{case.pk}/" data-testid="atlas-case"' in atlas
