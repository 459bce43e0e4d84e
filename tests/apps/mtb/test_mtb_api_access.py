"""The tumour-board API and pages: roles and site scoping (an outsider, a monitor of a trial and
of another trial, partner-site staff see nothing of the main site's board), bad input answered
with the field and nothing saved, and the case view's content."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from mtb_board_helpers import (
    G12C,
    PASSWORD,
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
STRANGERS = ["partner_investigator", "monitor", "monitor_other", "outsider"]


@dataclass
class Setup:
    board: Any
    meeting: Any
    case: Any
    rec: Any
    patient: Any


@pytest.fixture
def setup(unit, tmp_path) -> Setup:
    from oncotrials.apps.mtb.services import agenda_build

    board = make_board(unit)
    patient = make_patient(unit.main, unit.users["nurse"])
    import_report(tmp_path, patient, imported_at=aware(dt.date(2026, 9, 12)), variants=G12C)
    meeting = held_meeting(board, dt.date(2026, 9, 17), chair=unit.users["investigator"])
    (case,) = agenda_build(meeting=meeting, by=board.coordinator)
    rec = signed_referral(board, case, cohort=board.cohort)
    return Setup(board, meeting, case, rec, patient)


def _send(client, url, body, method="post"):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def test_reads_are_limited_to_the_board_of_ones_own_site(setup, client_for):
    m, c, r = setup.meeting.pk, setup.case.pk, setup.rec.pk
    ref = setup.rec.referral.pk
    for who in ("investigator", "nurse", "coordinator", "admin"):
        client = client_for(who)
        assert [x["id"] for x in client.get("/api/v1/mtb/meetings").json()] == [m]
        assert client.get(f"/api/v1/mtb/meetings/{m}/cases").json()[0]["id"] == c
        assert client.get(f"/api/v1/mtb/cases/{c}").status_code == 200
        assert client.get(f"/api/v1/mtb/recommendations/{r}").status_code == 200
        assert [x["id"] for x in client.get("/api/v1/mtb/referrals").json()] == [ref]
    for who in STRANGERS:
        client = client_for(who)
        assert client.get("/api/v1/mtb/meetings").json() == []
        assert client.get("/api/v1/mtb/referrals").json() == []
        for url in (
            f"/api/v1/mtb/meetings/{m}",
            f"/api/v1/mtb/meetings/{m}/cases",
            f"/api/v1/mtb/cases/{c}",
            f"/api/v1/mtb/recommendations/{r}",
            f"/api/v1/mtb/referrals/{ref}",
            f"/mtb/meetings/{m}/",
            f"/mtb/cases/{c}/",
        ):
            assert client.get(url).status_code == 404, (who, url)


def test_writes_need_an_organiser_of_the_site(setup, client_for):
    from oncotrials.apps.mtb.models import MtbCase, MtbMeeting, MtbRecommendation

    m, c = setup.meeting.pk, setup.case.pk
    other = make_patient(setup.board.unit.main, setup.board.unit.users["nurse"])
    meeting_body = {"site": "main", "held_on": "2026-09-24"}
    rec_body = {"kind": "no_action", "rationale": "VUS only"}
    nurse = client_for("nurse")
    assert _send(nurse, "/api/v1/mtb/meetings", meeting_body).status_code == 403
    assert _send(nurse, f"/api/v1/mtb/meetings/{m}/agenda", {}).status_code == 403
    assert (
        _send(nurse, f"/api/v1/mtb/meetings/{m}/cases", {"patient_id": other.pk, "reason": "x"})
    ).status_code == 403
    assert _send(nurse, f"/api/v1/mtb/cases/{c}/recommendations", rec_body).status_code == 403
    for who in STRANGERS:
        client = client_for(who)
        assert _send(client, "/api/v1/mtb/meetings", meeting_body).status_code == 404
        assert _send(client, f"/api/v1/mtb/meetings/{m}/agenda", {}).status_code == 404
        assert _send(client, f"/api/v1/mtb/cases/{c}/recommendations", rec_body).status_code == 404
    assert MtbMeeting.objects.count() == 1
    assert MtbCase.objects.count() == 1
    assert MtbRecommendation.objects.count() == 1
    coordinator = client_for("coordinator")
    created = _send(coordinator, "/api/v1/mtb/meetings", meeting_body | {"chair": "investigator"})
    assert created.status_code == 201
    assert created.json()["chair"] == "investigator"
    added = _send(coordinator, f"/api/v1/mtb/cases/{c}/recommendations", rec_body)
    assert added.status_code == 201
    assert added.json()["signature"]["signed"] is False


def test_signing_through_the_api(setup, client_for):
    from oncotrials.apps.mtb.services import recommendation_create

    rec = recommendation_create(
        case=setup.case,
        kind="germline_testing",
        rationale="BRCA2 variant at VAF 0.5",
        by=setup.board.coordinator,
    )
    url = f"/api/v1/mtb/recommendations/{rec.pk}/sign"
    body = {"meaning": "I approve", "password": PASSWORD}
    assert _send(client_for("coordinator"), url, body).status_code == 403
    assert _send(client_for("partner_investigator"), url, body).status_code == 404
    wrong = _send(client_for("investigator"), url, body | {"password": "wrong"})
    assert wrong.status_code == 403
    rec.refresh_from_db()
    assert rec.signed_at is None
    ok = _send(client_for("investigator"), url, body)
    assert ok.status_code == 200
    assert ok.json()["signature"]["valid"] is True
    changed = _send(
        client_for("coordinator"),
        f"/api/v1/mtb/recommendations/{rec.pk}",
        {"version": rec.version, "rationale": "BRCA2 at VAF 0.48", "reason": "typo"},
        method="patch",
    )
    assert changed.status_code == 200
    assert changed.json()["signature"] == {
        "signed": True,
        "valid": False,
        "name": "investigator",
        "at": ok.json()["signature"]["at"],
        "meaning": "I approve",
    }


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"kind": "trial_referral", "rationale": "x", "extra": 1}, "extra"),
        ({"kind": "surgery", "rationale": "x"}, "kind"),
        ({"kind": "no_action", "rationale": ""}, "rationale"),
        ({"kind": "trial_referral", "rationale": "x", "trial_id": 999999}, "trial_id"),
        ({"kind": "trial_referral", "rationale": "x"}, "trial"),
        ({"kind": "approved_therapy", "rationale": "x\x00"}, "NUL"),
    ],
)
def test_bad_recommendation_input_names_the_field_and_saves_nothing(setup, client_for, body, where):
    from oncotrials.apps.mtb.models import MtbRecommendation

    before = MtbRecommendation.objects.count()
    resp = _send(
        client_for("coordinator"), f"/api/v1/mtb/cases/{setup.case.pk}/recommendations", body
    )
    assert resp.status_code == 422
    err = resp.json()
    assert err["code"] == "invalid"
    assert where in err["message"] or err["extra"].get("field") == where
    assert MtbRecommendation.objects.count() == before


def test_anonymous_callers_get_401(setup, client):
    assert client.get("/api/v1/mtb/meetings").status_code == 401
    assert client.get("/mtb/").status_code == 302


def test_the_case_view_holds_summary_alterations_and_referral_state(setup, client_for):
    from django.utils import timezone

    from oncotrials.apps.crfs.models import FormInstance

    board, patient = setup.board, setup.patient
    screen(board, patient, dt.date(2026, 10, 1), outcome="eligible")
    reg = include(board, patient, dt.date(2026, 10, 12))
    nurse = board.unit.users["nurse"]
    now = aware(dt.date(2026, 10, 12))
    for form, data in (
        ("ecog", {"assessed_on": "2026-10-10", "performance_status": "1"}),
        ("medical_history", {"diagnosed_on": "2024-02-01", "prior_lines": 2, "metastatic": True}),
    ):
        FormInstance.objects.create(
            registration=reg,
            visit_code="SCR",
            form_name=form,
            data=data,
            status="complete",
            created_at=now,
            created_by=nurse,
            updated_at=now,
            updated_by=nurse,
        )
    body = client_for("investigator").get(f"/api/v1/mtb/cases/{setup.case.pk}").json()
    s = body["summary"]
    assert s["diagnosis"] == "LUAD"
    assert s["diagnosis_name"] == "Lung Adenocarcinoma"
    assert s["age"] == timezone.localdate().year - 1958
    assert s["ecog"] == "1"
    assert s["prior_lines"] == 2
    assert s["journey"].startswith("Registered")
    kras = [a for a in body["alterations"] if a["gene"] == "KRAS"]
    assert kras[0]["tier"] == "II-B"
    assert any("Mosele" in e for e in kras[0]["evidence"])
    assert body["actionable"] is True
    (rec,) = body["recommendations"]
    assert rec["referral_state"]["state"] == "included"
    page = client_for("investigator").get(f"/mtb/cases/{setup.case.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Lung Adenocarcinoma" in text
    assert "II-B" in text
    assert 'data-testid="mtb-referral-state">included<' in text
    assert s["prior_therapy_lines"] == []
    # prior lines recorded at referral replace the casebook's count (advanced setting only)
    from oncotrials.apps.subjects.services import prior_line_record

    for line, setting, agents, start, end in (
        (1, "adjuvant", "cisplatin + vinorelbine", dt.date(2024, 3, 1), dt.date(2024, 6, 30)),
        (2, "metastatic", "carboplatin + pemetrexed", dt.date(2025, 1, 6), None),
    ):
        prior_line_record(
            patient=patient,
            line=line,
            agents=agents,
            setting=setting,
            started_on=start,
            ended_on=end,
            best_response="SD" if end else "",
            by=nurse,
        )
    s = client_for("investigator").get(f"/api/v1/mtb/cases/{setup.case.pk}").json()["summary"]
    assert s["prior_lines"] == 1
    assert [
        (t["line"], t["agents"], t["setting"], t["started_on"], t["ended_on"])
        for t in s["prior_therapy_lines"]
    ] == [
        (1, ["cisplatin", "vinorelbine"], "adjuvant", "2024-03-01", "2024-06-30"),
        (2, ["carboplatin", "pemetrexed"], "metastatic", "2025-01-06", None),
    ]
    text = client_for("investigator").get(f"/mtb/cases/{setup.case.pk}/").content.decode()
    dd = text.split('data-testid="mtb-prior-lines"', 1)[1].split("</dd>", 1)[0]
    assert dd.count('data-testid="mtb-prior-line"') == 2
    assert "Line 1: cisplatin + vinorelbine · Adjuvant · 2024-03-01 – 2024-06-30" in dd
    assert "best response SD" in dd
    assert "Line 2: carboplatin + pemetrexed · Metastatic · 2025-01-06 – …" in dd


def test_pages_render_for_the_board(setup, client_for, tmp_path):
    c = client_for("coordinator")
    assert c.get("/mtb/").status_code == 200
    page = c.get(f"/mtb/meetings/{setup.meeting.pk}/")
    assert page.status_code == 200
    assert setup.patient.research_id in page.content.decode()
    assert c.get("/mtb/referrals/?state=referred").status_code == 200
    # Adding a case by hand from the page, with a clear error when the reason is missing.
    other = make_patient(setup.board.unit.main, setup.board.unit.users["nurse"])
    bad = c.post(
        f"/mtb/meetings/{setup.meeting.pk}/",
        {"action": "add", "research_id": other.research_id, "reason": ""},
    )
    assert bad.status_code == 422
    assert 'id="id_reason-error"' in bad.content.decode()
    ok = c.post(
        f"/mtb/meetings/{setup.meeting.pk}/",
        {"action": "add", "research_id": other.research_id, "reason": "asked by Dr X"},
    )
    assert ok.status_code == 302
    assert setup.meeting.cases.count() == 2
    # The build button says how many new reports wait; building from the page adds them.
    import_report(tmp_path, other, imported_at=aware(dt.date(2026, 9, 16)))
    assert (
        "Add the 1 new genomic report to the agenda"
        in c.get(f"/mtb/meetings/{setup.meeting.pk}/").content.decode()
    )
    assert c.post(f"/mtb/meetings/{setup.meeting.pk}/", {"action": "build"}).status_code == 302
    assert setup.meeting.cases.get(patient=other).reports.count() == 1


def test_agenda_and_meeting_lists_keep_a_query_budget(
    setup, client_for, tmp_path, django_assert_max_num_queries
):
    from oncotrials.apps.mtb.services import agenda_build, meeting_create

    board = setup.board
    for _ in range(8):
        p = make_patient(board.unit.main, board.unit.users["nurse"])
        import_report(tmp_path, p, imported_at=aware(dt.date(2026, 9, 20)))
    later = meeting_create(site=board.unit.main, held_on=dt.date(2026, 9, 24), by=board.coordinator)
    assert len(agenda_build(meeting=later, by=board.coordinator)) == 8
    c = client_for("coordinator")
    with django_assert_max_num_queries(12):
        assert len(c.get(f"/api/v1/mtb/meetings/{later.pk}/cases").json()) == 8
    with django_assert_max_num_queries(12):
        assert len(c.get("/api/v1/mtb/meetings").json()) == 2
    with django_assert_max_num_queries(14):
        assert c.get(f"/mtb/meetings/{later.pk}/").status_code == 200


def test_referral_list_filters_by_state_and_names_a_bad_one(setup, client_for):
    c = client_for("investigator")
    rows = c.get("/api/v1/mtb/referrals?state=referred").json()
    assert [r["research_id"] for r in rows] == [setup.patient.research_id]
    assert rows[0]["state"]["state"] == "referred"
    assert rows[0]["cohort"] == "EXP"
    assert c.get("/api/v1/mtb/referrals?state=included").json() == []
    bad = c.get("/api/v1/mtb/referrals?state=cured")
    assert bad.status_code == 422
    assert bad.json()["extra"]["field"] == "state"
    assert "got 'cured'" in bad.json()["message"]
    assert c.get("/api/v1/mtb/referrals?site=partner").status_code == 404


def test_the_funnel_page_names_a_reversed_period(setup, client_for):
    page = client_for("investigator").get("/mtb/funnel/?date_from=2026-10-01&date_to=2026-09-01")
    assert page.status_code == 422
    assert "The end of the period is before its start." in page.content.decode()


def test_prior_lines_and_ecog_before_registration_follow_the_patient_pages_right(setup, client_for):
    """What was recorded outside any registration (prior lines, ECOG at referral) is for the
    clinical staff of the patient's site, on the case as on the patient page: a tumour-board
    coordinator and a molecular biologist of the board's site see the case without them."""
    from oncotrials.apps.subjects.services import baseline_observation_record, prior_line_record

    nurse = setup.board.unit.users["nurse"]
    prior_line_record(
        patient=setup.patient,
        line=1,
        agents="carboplatin + pemetrexed",
        setting="metastatic",
        started_on=dt.date(2025, 1, 6),
        by=nurse,
    )
    baseline_observation_record(
        patient=setup.patient, kind="ecog", observed_on=dt.date(2026, 9, 2), value="2", by=nurse
    )
    url, page_url = f"/api/v1/mtb/cases/{setup.case.pk}", f"/mtb/cases/{setup.case.pk}/"
    s = client_for("investigator").get(url).json()["summary"]
    assert (s["prior_lines"], s["ecog"]) == (1, "2")
    assert [t["agents"] for t in s["prior_therapy_lines"]] == [["carboplatin", "pemetrexed"]]
    for persona in ("coordinator", "mtb_biologist"):
        c = client_for(persona)
        r = c.get(url)
        assert r.status_code == 200, persona
        s = r.json()["summary"]
        assert (s["prior_lines"], s["ecog"], s["prior_therapy_lines"]) == (None, None, []), persona
        assert "pemetrexed" not in r.content.decode(), persona
        page = c.get(page_url).content.decode()
        assert "pemetrexed" not in page, persona
        dd = page.split('data-testid="mtb-prior-lines"', 1)[1].split("</dd>", 1)[0]
        assert "none that you may see" in dd, persona
        # the patient page applies the same right
        patient_page = c.get(f"/patients/{setup.patient.pk}/")
        assert patient_page.status_code == 200, persona
        assert "pemetrexed" not in patient_page.content.decode(), persona
