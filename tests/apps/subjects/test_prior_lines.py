"""Prior lines of therapy of a referred or screened patient, recorded at referral or
pre-screening beside the ECOG and labs: audited, refused by field with nothing written, listed
on the patient page, counted by matching (advanced setting only) and their agents read as prior
therapies."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from form_markup import form_html as _form
from form_markup import refused as _refused
from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.subjects.models import PriorTherapyLine
from oncotrials.apps.subjects.services import prior_line_agents, prior_line_record
from oncotrials.core.errors import PermissionDeniedError, ValidationError

FIRST = {
    "line": 1,
    "agents": "FOLFOX ;  bevacizumab",
    "setting": "metastatic",
    "started_on": dt.date(2025, 3, 1),
    "ended_on": dt.date(2025, 9, 15),
    "best_response": "PR",
    "stop_reason": "progression",
}


def test_a_prior_line_is_recorded_with_its_agents_and_audited(journey):
    nurse = journey.unit.users["nurse"]
    line = prior_line_record(patient=journey.patient, by=nurse, **FIRST)
    assert line.agents == "FOLFOX + bevacizumab"
    assert line.agent_list == ["FOLFOX", "bevacizumab"]
    (event,) = AuditEvent.objects.filter(
        object_type="subjects.priortherapyline", action="create", object_id=str(line.pk)
    )
    assert event.actor_username == "nurse"
    assert event.changes["agents"] == [None, "FOLFOX + bevacizumab"]
    assert event.changes["setting"] == [None, "metastatic"]


def test_agents_are_split_on_plus_or_semicolon():
    assert prior_line_agents(" carboplatin+pemetrexed ;pembrolizumab ") == [
        "carboplatin",
        "pemetrexed",
        "pembrolizumab",
    ]
    assert prior_line_agents("5-FU  (bolus)") == ["5-FU (bolus)"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"line": 0}, "line"),
        ({"line": 31}, "line"),
        ({"agents": "  "}, "agents"),
        ({"agents": "carboplatin + + pemetrexed"}, "agents"),
        ({"agents": "x" * 81}, "agents"),
        ({"agents": " + ".join(f"a{i}" for i in range(11))}, "agents"),
        ({"agents": " + ".join("x" * 80 for _ in range(4))}, "agents"),  # 329 characters
        ({"setting": "palliative"}, "setting"),
        ({"best_response": "MR"}, "best_response"),
        ({"stop_reason": "r" * 201}, "stop_reason"),
        ({"started_on": dt.date(2026, 11, 21), "ended_on": None}, "started_on"),
        ({"ended_on": dt.date(2026, 11, 21)}, "ended_on"),
        ({"started_on": dt.date(1960, 5, 1)}, "started_on"),  # born 1961
        ({"ended_on": dt.date(2025, 2, 28)}, "ended_on"),  # before the start
    ],
)
def test_a_wrong_prior_line_is_refused_by_field_and_nothing_written(journey, change, field):
    with pytest.raises(ValidationError) as exc:
        prior_line_record(
            patient=journey.patient, by=journey.unit.users["nurse"], **{**FIRST, **change}
        )
    assert exc.value.extra["field"] == field
    assert not PriorTherapyLine.objects.exists()
    assert not AuditEvent.objects.filter(object_type="subjects.priortherapyline").exists()


def test_a_line_number_is_recorded_once_per_patient(journey):
    nurse = journey.unit.users["nurse"]
    prior_line_record(patient=journey.patient, by=nurse, **FIRST)
    with pytest.raises(ValidationError) as exc:
        prior_line_record(patient=journey.patient, by=nurse, **{**FIRST, "agents": "FOLFIRI"})
    assert exc.value.extra["field"] == "line"
    assert PriorTherapyLine.objects.get().agents == "FOLFOX + bevacizumab"


def test_only_clinical_staff_of_the_patient_site_record_prior_lines(journey, client_for):
    with pytest.raises(PermissionDeniedError):
        prior_line_record(
            patient=journey.patient, by=journey.unit.users["partner_investigator"], **FIRST
        )
    # the other site's investigator does not reach the patient page at all
    c = client_for("partner_investigator")
    r = c.post(
        f"/patients/{journey.patient.pk}/journey/prior-line/",
        {"line": "1", "agents": "FOLFOX", "setting": "metastatic", "started_on": "2025-03-01"},
    )
    assert r.status_code == 404
    assert not PriorTherapyLine.objects.exists()


def test_the_patient_page_records_and_lists_prior_lines(journey, client_for):
    c = client_for("nurse")
    url = f"/patients/{journey.patient.pk}/"
    page = c.get(url).content.decode()
    assert 'data-testid="form-prior-line"' in page
    assert "No prior line recorded." in page
    posted = {
        "line": "1",
        "agents": "FOLFOX + bevacizumab",
        "setting": "metastatic",
        "started_on": "2025-03-01",
        "ended_on": "2025-02-01",
        "best_response": "PR",
        "stop_reason": "progression",
    }
    r = c.post(f"{url}journey/prior-line/", posted)
    assert r.status_code == 422
    form = _form(r.content.decode(), "form-prior-line")
    _refused(form, "prior-line-ended_on", kept='value="FOLFOX + bevacizumab"')
    assert "before it started" in form
    r = c.post(f"{url}journey/prior-line/", {**posted, "setting": "", "agents": "FOLFOX ++"})
    assert r.status_code == 422
    assert set(r.context["prior_line_form"].errors) == {"setting"}
    assert not PriorTherapyLine.objects.exists()
    r = c.post(f"{url}journey/prior-line/", {**posted, "ended_on": "2025-09-15"})
    assert r.status_code == 302
    r = c.post(
        f"{url}journey/prior-line/",
        {"line": "2", "agents": "FOLFIRI; panitumumab", "setting": "metastatic"}
        | {"started_on": "2025-10-01"},
    )
    assert r.status_code == 302
    page = c.get(url).content.decode()
    table = page.split('data-testid="prior-lines"', 1)[1].split("</table>", 1)[0]
    assert table.count('data-testid="prior-line"') == 2
    assert "FOLFOX + bevacizumab" in table
    assert "2025-03-01 – 2025-09-15" in table
    assert "FOLFIRI + panitumumab" in table
    assert "2025-10-01 – …" in table
    assert 'value="3"' in _form(page, "form-prior-line")  # the next line number is offered


def test_matching_counts_the_advanced_lines_of_a_referred_patient(journey):
    from oncotrials.apps.matching.criteria import match_criteria_set
    from oncotrials.apps.matching.engine import matches_for_patient, reset_matching_cache

    admin, nurse = journey.unit.users["admin"], journey.unit.users["nurse"]
    trial = journey.cohort.trial
    trial.refresh_from_db()
    match_criteria_set(
        trial=trial,
        cohort_id=journey.cohort.pk,
        criteria={"and": [{"prior_lines": {"gte": 2}}, {"prior_therapy": "bevacizumab"}]},
        by=admin,
        reason="protocol v1",
        expected_version=trial.version,
    )
    reset_matching_cache()
    inv = journey.unit.users["investigator"]
    today = dt.date(2026, 11, 20)

    def matched() -> bool:
        found = matches_for_patient(
            user=inv, patient=journey.patient, today=today, include_non_matches=True
        )
        (level,) = [m for m in found if m.cohort == journey.cohort]
        return bool(level.matched)

    assert matched() is False  # no prior line recorded: unknown, not a match
    prior_line_record(
        patient=journey.patient,
        by=nurse,
        **{**FIRST, "setting": "adjuvant", "agents": "FOLFOX", "best_response": ""},
    )
    prior_line_record(patient=journey.patient, by=nurse, **{**FIRST, "line": 2})
    assert matched() is False  # the adjuvant line does not count: one advanced line
    prior_line_record(
        patient=journey.patient,
        by=nurse,
        line=3,
        agents="FOLFIRI",
        setting="metastatic",
        started_on=dt.date(2025, 10, 1),
    )
    assert matched() is True
    reset_matching_cache()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_entries_of_the_same_line_number_keep_one(journey):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def record(user, agents):
        try:
            barrier.wait()
            prior_line_record(patient=journey.patient, by=user, **{**FIRST, "agents": agents})
            outcomes.append("recorded")
        except ValidationError as exc:
            outcomes.append(f"refused: {exc.extra['field']}")
        finally:
            connection.close()  # this thread's own connection

    users = journey.unit.users
    threads = [
        threading.Thread(target=record, args=(users["nurse"], "FOLFOX")),
        threading.Thread(target=record, args=(users["investigator"], "FOLFIRI")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["recorded", "refused: line"]
    assert PriorTherapyLine.objects.filter(patient=journey.patient).count() == 1
    assert AuditEvent.objects.filter(object_type="subjects.priortherapyline").count() == 1
