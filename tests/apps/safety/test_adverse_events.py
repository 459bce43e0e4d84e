"""Adverse events: CTCAE terms and grades from the catalogue, dates, drafts, completion, conflicts."""

from __future__ import annotations

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.safety.models import AdverseEvent
from oncotrials.apps.safety.services import adverse_event_create, adverse_event_update
from oncotrials.core.errors import ConflictError, ValidationError

API = "/api/v1/safety/adverse-events"


def _audit_count() -> int:
    return AuditEvent.objects.filter(object_type="safety.adverseevent").count()


def test_a_complete_ae_takes_its_meddra_code_and_soc_from_the_catalogue(safety, complete_ae):
    ae = adverse_event_create(
        registration=safety.registration,
        data=complete_ae(),
        by=safety.users["nurse"],
        complete=True,
    )
    # NCI CTCAE v5.0 term list: Colitis, MedDRA 10009887, Gastrointestinal disorders.
    assert (ae.term, ae.meddra_code, ae.soc) == ("Colitis", 10009887, "Gastrointestinal disorders")
    assert ae.status == "complete"
    assert ae.version == 1
    assert AuditEvent.objects.get(object_type="safety.adverseevent", action="create").changes[
        "grade"
    ] == [None, 3]


def test_grade_not_defined_for_the_term_is_refused_and_nothing_saved(safety, client_for, send):
    before = _audit_count()
    # CTCAE v5.0: Nausea is graded 1-3 only; grade 4 does not exist.
    r = send(
        client_for("nurse"),
        API,
        {"registration_id": safety.registration.pk, "term": "Nausea", "grade": 4},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["extra"]["field"] == "grade"
    assert "Grade 4 does not exist" in body["message"]
    assert "1, 2, 3" in body["message"]
    assert not AdverseEvent.objects.exists()
    assert _audit_count() == before


def test_resolution_before_onset_is_refused_even_for_a_draft(safety, client_for, send):
    r = send(
        client_for("nurse"),
        API,
        {
            "registration_id": safety.registration.pk,
            "term": "Fatigue",
            "grade": 2,
            "onset_date": "2026-11-15",
            "resolution_date": "2026-11-14",
        },
    )
    assert r.status_code == 422
    assert r.json()["extra"]["field"] == "resolution_date"
    assert not AdverseEvent.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("onset_date", "2026-11-21", "in the future"),  # TODAY is 2026-11-20
        ("onset_date", "2026-10-30", "before the start of AE collection"),  # consent 2026-11-02
        ("term", "Colitits", "Did you mean 'Colitis'"),
        ("seriousness", ["very_bad"], "Unknown seriousness criterion"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(safety, complete_ae, field, value, why):
    with pytest.raises(ValidationError) as exc:
        adverse_event_create(
            registration=safety.registration,
            data=complete_ae(**{field: value}),
            by=safety.users["nurse"],
        )
    assert why in exc.value.message
    assert exc.value.extra["field"] == field
    assert not AdverseEvent.objects.exists()


def test_attribution_names_only_agents_of_the_regimen(safety, complete_ae):
    with pytest.raises(ValidationError, match="'Drug Z' is not an agent of this regimen"):
        adverse_event_create(
            registration=safety.registration,
            data=complete_ae(attribution={"Drug Z": "possible"}),
            by=safety.users["nurse"],
        )


def test_a_draft_with_gaps_is_saved_with_its_issues_but_cannot_be_completed(
    safety, client_for, send
):
    c = client_for("nurse")
    r = send(c, API, {"registration_id": safety.registration.pk, "term": "Pneumonitis"})
    assert r.status_code == 201
    draft = r.json()
    assert draft["status"] == "draft"
    assert any(i.startswith("grade:") for i in draft["issues"])
    assert any("Drug B" in i for i in draft["issues"])
    r = send(
        c,
        f"{API}/{draft['id']}",
        {"term": "Pneumonitis", "grade": 2, "version": 1, "complete": True},
        "put",
    )
    assert r.status_code == 422
    assert "cannot be completed" in r.json()["message"]
    ae = AdverseEvent.objects.get()
    assert (ae.status, ae.version, ae.grade) == ("draft", 1, None)  # nothing saved


def test_after_completion_a_change_needs_a_reason(safety, complete_ae):
    nurse = safety.users["nurse"]
    ae = adverse_event_create(
        registration=safety.registration, data=complete_ae(), by=nurse, complete=True
    )
    with pytest.raises(ValidationError, match="give a reason"):
        adverse_event_update(ae=ae, data=complete_ae(grade=2), version=1, by=nurse, complete=True)
    ae = adverse_event_update(
        ae=ae,
        data=complete_ae(grade=2),
        version=1,
        by=nurse,
        complete=True,
        reason="source document says grade 2",
    )
    assert (ae.grade, ae.version) == (2, 2)
    event = AuditEvent.objects.filter(object_type="safety.adverseevent", action="update").get()
    assert event.changes == {"grade": [3, 2]}
    assert event.reason == "source document says grade 2"


def test_two_users_editing_one_ae_one_wins_the_other_gets_a_conflict(
    safety, client_for, send, complete_ae
):
    nurse, investigator = client_for("nurse"), client_for("investigator")
    created = send(
        nurse, API, {"registration_id": safety.registration.pk, **complete_ae(), "complete": True}
    ).json()
    url = f"{API}/{created['id']}"
    mine = investigator.get(url).json()
    theirs = nurse.get(url).json()
    assert mine["version"] == theirs["version"] == 1
    r1 = send(
        nurse,
        url,
        {**complete_ae(grade=4), "version": 1, "reason": "worsened", "complete": True},
        "put",
    )
    assert r1.status_code == 200
    assert r1.json()["version"] == 2
    r2 = send(
        investigator,
        url,
        {**complete_ae(grade=2), "version": 1, "reason": "typo", "complete": True},
        "put",
    )
    assert r2.status_code == 409
    assert r2.json()["extra"]["current_version"] == 2
    assert r2.json()["extra"]["current"]["grade"] == 4  # the other user's change is shown
    assert AdverseEvent.objects.get().grade == 4  # never a lost update


def test_stale_version_from_the_service_is_a_conflict(safety, complete_ae):
    nurse = safety.users["nurse"]
    ae = adverse_event_create(registration=safety.registration, data=complete_ae(), by=nurse)
    adverse_event_update(ae=ae, data=complete_ae(grade=2), version=1, by=nurse)
    with pytest.raises(ConflictError, match="now version 2"):
        adverse_event_update(ae=ae, data=complete_ae(grade=1), version=1, by=nurse)


def test_an_ae_is_voided_with_a_reason_never_deleted(safety, client_for, send, complete_ae):
    c = client_for("nurse")
    draft = send(c, API, {"registration_id": safety.registration.pk, "term": "Rash acneiform"})
    ae_id = draft.json()["id"]
    assert send(c, f"{API}/{ae_id}", {"version": 1, "reason": " "}, "delete").status_code == 422
    r = send(c, f"{API}/{ae_id}", {"version": 1, "reason": "entered twice"}, "delete")
    assert r.status_code == 204
    voided = AdverseEvent.objects.get(pk=ae_id)
    assert voided.voided_at is not None
    assert (voided.void_reason, voided.voided_by, voided.version) == (
        "entered twice",
        safety.users["nurse"],
        2,
    )
    got = c.get(f"{API}/{ae_id}").json()
    assert got["void_reason"] == "entered twice"
    assert send(c, f"{API}/{ae_id}", {"version": 2, "reason": "again"}, "delete").status_code == 409
    edit = send(c, f"{API}/{ae_id}", {"version": 2, "term": "Rash acneiform", "reason": "x"}, "put")
    assert edit.status_code == 409
    done = send(
        c, API, {"registration_id": safety.registration.pk, **complete_ae(), "complete": True}
    ).json()
    r = send(c, f"{API}/{done['id']}", {"version": 1, "reason": "wrong patient"}, "delete")
    assert r.status_code == 204
    assert AdverseEvent.objects.count() == 2


def test_the_form_page_uses_the_same_validation(safety, client_for):
    c = client_for("nurse")
    url = f"/safety/registrations/{safety.registration.pk}/adverse-events/new/"
    assert c.get(url).status_code == 200
    r = c.post(url, {"term": "Nausea", "grade": "5", "action": "draft"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 422
    assert "Grade 5 does not exist" in r.content.decode()
    assert not AdverseEvent.objects.exists()
    r = c.post(
        url,
        {
            "term": "Nausea",
            "grade": "2",
            "onset_date": "2026-11-15",
            "attribution__Drug B": "possible",
            "action_taken": "none",
            "outcome": "recovering",
            "expected": "on",
            "action": "complete",
        },
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 204
    assert r["HX-Redirect"].endswith("/adverse-events/")
    ae = AdverseEvent.objects.get()
    assert (ae.status, ae.attribution) == ("complete", {"Drug B": "possible"})
    page = c.get(f"/patients/{safety.journey.patient.pk}/adverse-events/").content.decode()
    assert "Nausea" in page


def test_trial_summary_counts_patients_by_worst_grade(safety, complete_ae, client_for):
    nurse = safety.users["nurse"]
    for grade in (2, 3):
        adverse_event_create(
            registration=safety.registration,
            data=complete_ae(grade=grade),
            by=nurse,
            complete=True,
        )
    trial_id = safety.registration.trial_id
    got = client_for("investigator").get(f"/api/v1/safety/trials/{trial_id}/ae-summary").json()
    assert got["patients"] == 1
    assert got["rows"] == [
        {
            "term": "Colitis",
            "soc": "Gastrointestinal disorders",
            "by_grade": [0, 0, 1, 0, 0],  # one patient, counted once at the worst grade
            "any": 1,
            "grade3plus": 1,
        }
    ]
    page = client_for("investigator").get(f"/trials/{trial_id}/safety/")
    assert page.status_code == 200
    assert "Colitis" in page.content.decode()
    csv = client_for("investigator").get(f"/trials/{trial_id}/safety/ae-summary.csv")
    assert csv["Content-Type"].startswith("text/csv")
    content = b"".join(csv.streaming_content).decode()
    assert "Colitis,Gastrointestinal disorders,0,0,1,0,0,1" in content


def test_the_form_shows_the_other_users_change_on_a_stale_save(safety, client_for, complete_ae):
    nurse = safety.users["nurse"]
    ae = adverse_event_create(registration=safety.registration, data=complete_ae(), by=nurse)
    adverse_event_update(ae=ae, data=complete_ae(grade=4), version=1, by=nurse)
    r = client_for("investigator").post(
        f"/safety/adverse-events/{ae.pk}/",
        {"term": "Colitis", "grade": "2", "version": "1", "action": "draft"},
    )
    assert r.status_code == 409
    body = r.content.decode()
    assert "now version 2" in body
    assert "<dt>grade</dt><dd>4</dd>" in body
    assert AdverseEvent.objects.get().grade == 4


def test_trial_ae_listing_exports_every_visible_event_as_csv(safety, complete_ae, client_for):
    import csv as csv_module
    import io

    nurse = safety.users["nurse"]
    adverse_event_create(
        registration=safety.registration,
        data=complete_ae(grade=3, verbatim="=cmd|' /C calc'!A0"),
        by=nurse,
        complete=True,
    )
    trial_id = safety.registration.trial_id
    r = client_for("investigator").get(f"/trials/{trial_id}/safety/?format=csv")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    rows = list(csv_module.reader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert rows[0][:3] == ["patient", "site", "term"]
    assert len(rows) == 2
    assert rows[1][0] == safety.registration.patient.research_id
    assert rows[1][2] == "Colitis"
    assert rows[1][5].startswith("'=")  # formula injection neutralised
    # The partner investigator sees the trial but not the main site's events.
    partner = client_for("partner_investigator").get(f"/trials/{trial_id}/safety/?format=csv")
    assert b"".join(partner.streaming_content).decode().strip().count("\n") == 0
    page = client_for("investigator").get(f"/trials/{trial_id}/safety/").content.decode()
    assert 'data-testid="ae-listing-csv"' in page


def test_an_unknown_field_in_an_ae_body_is_refused_and_nothing_saved(safety, client_for, send):
    """The AE body is validated once: an unknown field is still refused, before anything runs."""
    before = _audit_count()
    body = {"registration_id": safety.registration.pk, "term": "Nausea", "grade": 1}
    r = send(client_for("nurse"), API, {**body, "grade_override": 4})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid"
    assert r.json()["extra"]["errors"][0]["loc"][-1] == "grade_override"
    assert not AdverseEvent.objects.exists()
    assert _audit_count() == before


def test_the_ae_body_validated_once_gives_the_values_of_the_ninja_schema(safety):
    """The single validation of a JSON body gives what ninja's two passes give (the schema's
    defaults, coerced dates and choices, aware times in UTC) and refuses what they refuse."""
    import pydantic
    from ninja import Schema
    from pydantic import ConfigDict

    from oncotrials.apps.safety.schemas import SafetyAdverseEventIn

    class Twice(SafetyAdverseEventIn):
        @pydantic.model_validator(mode="wrap")
        @classmethod
        def _run_root_validator(cls, values, handler, info):
            return Schema._run_root_validator.__func__(cls, values, handler, info)

        model_config = ConfigDict(extra="forbid")

    body = {
        "registration_id": 7,
        "term": "Colitis",
        "grade": "3",
        "onset_date": "2026-11-14",
        "seriousness": ["hospitalisation"],
        "attribution": {"Drug A": "possible"},
        "awareness_at": "2026-11-15T09:30:00+01:00",
        "complete": True,
    }
    once = SafetyAdverseEventIn.model_validate(body)
    assert once.model_dump() == Twice.model_validate(body).model_dump()
    assert once.awareness_at.isoformat() == "2026-11-15T08:30:00+00:00"
    assert once.expected is True
    for bad in ({"grade": 6}, {"extra": 1}, {"awareness_at": "2026-11-15T09:30:00"}):
        with pytest.raises(pydantic.ValidationError):
            SafetyAdverseEventIn.model_validate({**body, **bad})
        with pytest.raises(pydantic.ValidationError):
            Twice.model_validate({**body, **bad})


def test_the_row_digest_of_an_ae_is_that_of_each_field_converted(safety, complete_ae, monkeypatch):
    """Texts, whole numbers and flags already of their field's type are taken as they are in
    the audited row's digest: the digest is the one of every value passed through its field."""
    from oncotrials.apps.audit import sealing
    from oncotrials.apps.safety.models import RecordStatus

    ae = adverse_event_create(
        registration=safety.registration,
        data=complete_ae(),
        by=safety.users["nurse"],
        complete=True,
    )
    ae.status = RecordStatus.COMPLETE  # an enum member, a str subclass: converted as before
    fast = sealing.row_digest(ae)
    fresh = AdverseEvent.objects.get(pk=ae.pk)
    # The general way: every value through its field's conversion, no shortcut, no kept plan.
    monkeypatch.setattr(sealing, "_row_plans", {})
    monkeypatch.setattr(sealing, "_passes_through", lambda field: None)
    monkeypatch.setattr(sealing, "_converter", lambda field: sealing._converted)
    assert fast == sealing.row_digest(ae) == sealing.row_digest(fresh)
    assert len(fast) == 64
    event = AuditEvent.objects.get(object_type="safety.adverseevent", action="create")
    assert event.row_digest == fast
