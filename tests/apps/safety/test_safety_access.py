"""Who sees and changes safety data: partner-site staff and outsiders see nothing, monitors only read."""

from __future__ import annotations

import pytest

from oncotrials.apps.accounts.models import Role
from oncotrials.apps.accounts.services import membership_grant
from oncotrials.apps.safety.models import AdverseEvent, ToxicityBoardCase
from oncotrials.apps.safety.services import adverse_event_create
from oncotrials.apps.safety.toxicity_board import toxicity_cases_build, toxicity_meeting_create

API = "/api/v1/safety"


@pytest.fixture
def recorded(safety, complete_ae):
    return adverse_event_create(
        registration=safety.registration,
        data=complete_ae(),
        by=safety.users["nurse"],
        complete=True,
    )


@pytest.fixture
def shared_monitor(safety):
    """A sponsor monitor of T-SHARED (the trial of the registered patient)."""
    u = safety.users["monitor"]
    membership_grant(
        user=u,
        role=Role.SPONSOR_MONITOR,
        site=safety.journey.unit.main,
        trial=safety.registration.trial,
    )
    return u


@pytest.mark.parametrize("persona", ["partner_investigator", "outsider", "monitor_other"])
def test_other_sites_and_outsiders_get_404_everywhere(
    safety, recorded, client_for, send, complete_ae, persona
):
    c = client_for(persona)
    ae_url = f"{API}/adverse-events/{recorded.pk}"
    assert c.get(ae_url).status_code == 404
    assert (
        send(c, ae_url, {**complete_ae(grade=1), "version": 1, "reason": "x"}, "put").status_code
        == 404
    )
    r = send(
        c, f"{API}/adverse-events", {"registration_id": safety.registration.pk, **complete_ae()}
    )
    assert r.status_code == 404
    assert c.get(f"{API}/adverse-events").json() == {"items": [], "count": 0}
    assert c.get(f"{API}/irae").json() == []
    assert c.get(f"{API}/sae-worklist").json() == []
    assert c.get(f"/safety/adverse-events/{recorded.pk}/").status_code == 404
    assert c.get(f"/patients/{safety.journey.patient.pk}/adverse-events/").status_code == 404
    assert (
        c.get(f"/safety/registrations/{safety.registration.pk}/adverse-events/new/").status_code
        == 404
    )
    ae = AdverseEvent.objects.get()
    assert (ae.grade, ae.version) == (3, 1)


def test_partner_investigator_sees_the_shared_trial_but_not_our_patients_events(
    safety, recorded, client_for
):
    c = client_for("partner_investigator")
    summary = c.get(f"{API}/trials/{safety.registration.trial_id}/ae-summary").json()
    assert summary == {"patients": 0, "rows": []}


def test_monitor_reads_but_cannot_write(
    safety, recorded, shared_monitor, client_for, send, complete_ae
):
    c = client_for("monitor")
    ae_url = f"{API}/adverse-events/{recorded.pk}"
    assert c.get(ae_url).json()["term"] == "Colitis"
    r = send(c, ae_url, {**complete_ae(grade=1), "version": 1, "reason": "x"}, "put")
    assert r.status_code == 403
    r = send(
        c, f"{API}/adverse-events", {"registration_id": safety.registration.pk, **complete_ae()}
    )
    assert r.status_code == 403
    page = c.get(f"/safety/adverse-events/{recorded.pk}/")
    assert page.status_code == 200
    assert "disabled" in page.content.decode()
    r = c.post(
        f"/safety/adverse-events/{recorded.pk}/", {"term": "Colitis", "grade": "1", "version": "1"}
    )
    assert r.status_code == 403
    assert AdverseEvent.objects.count() == 1
    assert AdverseEvent.objects.get().grade == 3


def test_irae_register_lists_immune_related_events_of_visible_trials(
    safety, recorded, complete_ae, client_for
):
    adverse_event_create(
        registration=safety.registration,
        data=complete_ae(term="Fatigue", grade=2, immune_related=False),
        by=safety.users["nurse"],
        complete=True,
    )
    got = client_for("investigator").get(f"{API}/irae").json()
    assert [e["term"] for e in got] == ["Colitis"]
    page = client_for("investigator").get("/safety/irae/").content.decode()
    assert "Colitis" in page
    assert "Fatigue" not in page


def test_toxicity_board_lists_grade_3_immune_related_or_unexpected_events(
    safety, recorded, complete_ae, client_for, send
):
    nurse = safety.users["nurse"]
    adverse_event_create(
        registration=safety.registration,
        data=complete_ae(term="Fatigue", grade=3, immune_related=False, expected=False),
        by=nurse,
        complete=True,
    )
    adverse_event_create(  # grade 2 irAE: not for the board
        registration=safety.registration,
        data=complete_ae(term="Hypothyroidism", grade=2),
        by=nurse,
        complete=True,
    )
    meeting = toxicity_meeting_create(
        site=safety.journey.unit.main,
        held_on=safety.registration.registered_on,
        title="ToxBoard",
        by=nurse,
    )
    cases = toxicity_cases_build(meeting=meeting, by=nurse)
    assert sorted((c.adverse_event.term, c.why) for c in cases) == [
        ("Colitis", "grade 3 immune-related"),
        ("Fatigue", "grade 3 unexpected"),
    ]
    assert toxicity_cases_build(meeting=meeting, by=nurse) == []  # not listed twice
    case = next(c for c in cases if c.adverse_event.term == "Colitis")
    url = f"{API}/toxicity-board/cases/{case.pk}/recommendation"
    body = {"recommendation": "steroids; hold drug until grade 1", "version": 1}
    assert send(client_for("nurse"), url, body).status_code == 403
    assert send(client_for("partner_investigator"), url, body).status_code == 404
    r = send(client_for("investigator"), url, body)
    assert r.status_code == 200
    assert ToxicityBoardCase.objects.get(pk=case.pk).recommendation.startswith("steroids")
    page = client_for("investigator").get(f"/safety/toxicity-board/{meeting.pk}/")
    assert "steroids" in page.content.decode()
    assert (
        client_for("partner_investigator").get(f"/safety/toxicity-board/{meeting.pk}/").status_code
        == 404
    )


@pytest.mark.parametrize(
    "url", ["/safety/", "/safety/dlt/", "/safety/toxicity-board/", "/safety/irae/"]
)
def test_pages_open_for_staff(safety, recorded, client_for, url):
    assert client_for("investigator").get(url).status_code == 200
    assert client_for("outsider").get(url).status_code == 200  # empty lists, nothing leaks
    assert "Colitis" not in client_for("outsider").get(url).content.decode()


@pytest.mark.django_db
def test_a_read_by_id_and_the_lists_apply_the_same_visibility_rule(safety, shared_monitor):
    """The save reads one registration by id and checks it with ``accounts.access.sees``; the
    lists filter with ``scope_condition``: both give the same answer for every persona."""
    from oncotrials.apps.accounts.access import forget_scope
    from oncotrials.apps.safety.selectors import (
        adverse_event_get_for_user,
        registration_get_for_user,
    )
    from oncotrials.apps.subjects.selectors import registrations_visible_to
    from oncotrials.core.errors import NotFoundError

    reg = safety.registration
    ae = adverse_event_create(
        registration=reg, data={"term": "Nausea"}, by=safety.users["nurse"], complete=False
    )
    seen = {}
    for name, user in safety.users.items():
        forget_scope(user)
        listed = registrations_visible_to(user).filter(pk=reg.pk).exists()
        try:
            by_id = registration_get_for_user(user=user, registration_id=reg.pk).pk == reg.pk
        except NotFoundError:
            by_id = False
        try:
            ae_by_id = adverse_event_get_for_user(user=user, ae_id=ae.pk).pk == ae.pk
        except NotFoundError:
            ae_by_id = False
        assert by_id == ae_by_id == listed, name
        seen[name] = listed
    assert [n for n, v in seen.items() if v] == [
        "admin",
        "investigator",
        "datamanager",
        "nurse",
        "monitor",
    ]
