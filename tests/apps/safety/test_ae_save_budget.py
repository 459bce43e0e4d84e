"""Query budget of one adverse-event save through the API (issue 8: p95 <= 100 ms at 32 clients;
issue 15: <= 10 statements per save, the DLT case it proposes included).

Each statement is a round trip to the database; the benchmark (bench/crf_api.py) showed them to
be about half of the time of a save. The budget fails when a change adds one, and the audit
trail is checked in the same save: one append per save, nothing lost.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.audit.services import audit_verify
from oncotrials.apps.safety.models import AdverseEvent, DltCase

PG = connection.vendor == "postgresql"
# The audit chain's append: head lock, events insert, head update (the last two in one statement
# on PostgreSQL).
AUDIT = 2 if PG else 3
# The agents of the regimen are read with the registration on PostgreSQL, by a query elsewhere.
AGENTS = 0 if PG else 1
# Authentication: the token with its user, and the user's memberships (read with the token on
# PostgreSQL, by a second query elsewhere).
AUTH = 1 if PG else 2
# The DLT review's reads of the AEs, the lab values, the administrations and its locked read of
# the DLT cases: one statement on PostgreSQL (its result is checked against the separate reads in
# test_dlt_inputs), four elsewhere.
REVIEW_READS = 1 if PG else 4
# Authentication; the registration read and locked with its consent date, the identity of the
# trial's DLT rules (parsed rules cached by it) and whether it has CRS/ICANS assessments 1;
# agents; AE insert 1; DLT review (AEs, labs, administrations and cases; case insert 1: the
# registration was locked by its read, no CRS/ICANS query when it has none); audit chain.
# 7 on PostgreSQL (6 when the save proposes no new DLT case), 9 with BEGIN and COMMIT.
CREATE_BUDGET = AUTH + 3 + REVIEW_READS + AGENTS + AUDIT
# Authentication, AE and its registration read and locked with the same context 1, agents,
# AE update 1, DLT review (the reads and the cases: the case exists and is unchanged, no
# insert), audit chain: 6 on PostgreSQL.
UPDATE_BUDGET = AUTH + 2 + REVIEW_READS + AGENTS + AUDIT


def _audit_appends(statements: list[str]) -> int:
    """How many times the chain head was read (locked): once per append."""
    return sum(s.startswith("SELECT") and "audit_auditchainhead" in s for s in statements)


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    """What reaches the server, without the test's savepoints (BEGIN/COMMIT in production)."""
    skip = ("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT")
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(skip)]


@pytest.fixture
def api_nurse(safety) -> Client:
    """The research nurse's API client with a personal access token, as the benchmark's."""
    from oncotrials.apps.accounts.services import token_create

    _, raw = token_create(user=safety.users["nurse"], name="budget")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _post(client: Client, body: dict) -> dict:
    r = client.post("/api/v1/safety/adverse-events", json.dumps(body), "application/json")
    assert r.status_code == 201, r.content
    return r.json()


@pytest.mark.django_db
def test_saving_a_complete_ae_that_proposes_a_dlt_stays_within_its_query_budget(
    safety, rules, api_nurse, complete_ae
):
    body = {"registration_id": safety.registration.pk, "complete": True}
    _post(api_nurse, {**body, **complete_ae(term="Nausea", grade=1)})  # warm caches, token use
    events_before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with CaptureQueriesContext(connection) as ctx:
        saved = _post(api_nurse, {**body, **complete_ae()})  # grade 3 colitis in the DLT window
    statements = _statements(ctx)
    assert len(statements) <= CREATE_BUDGET, "\n".join(statements)
    # One append to the audit chain per save: the head is read and moved once.
    assert _audit_appends(statements) == 1
    assert sum('INSERT INTO "audit_auditevent"' in s for s in statements) == 1
    # Nothing lost: the AE and the DLT case it proposed are both in the chain, which verifies.
    case = DltCase.objects.get(adverse_event_id=saved["id"])
    new = AuditEvent.objects.filter(id__gt=events_before).order_by("id")
    assert [(e.object_type, e.object_id, e.action) for e in new] == [
        ("safety.adverseevent", str(saved["id"]), "create"),
        ("safety.dltcase", str(case.pk), "create"),
    ]
    assert new[0].changes["grade"] == [None, 3]
    assert new[0].actor_username == "nurse"
    assert new[0].channel == "api"
    assert audit_verify().ok


@pytest.mark.django_db
def test_correcting_a_complete_ae_stays_within_its_query_budget(
    safety, rules, api_nurse, complete_ae
):
    body = {"registration_id": safety.registration.pk, "complete": True}
    saved = _post(api_nurse, {**body, **complete_ae()})
    url = f"/api/v1/safety/adverse-events/{saved['id']}"
    change = {**complete_ae(outcome="not_recovered"), "complete": True, "reason": "source"}
    with CaptureQueriesContext(connection) as ctx:
        r = api_nurse.put(url, json.dumps({**change, "version": 1}), "application/json")
    assert r.status_code == 200, r.content
    statements = _statements(ctx)
    assert len(statements) <= UPDATE_BUDGET, "\n".join(statements)
    assert _audit_appends(statements) == 1
    event = AuditEvent.objects.filter(object_type="safety.adverseevent", action="update").get()
    assert event.changes == {"outcome": ["recovering", "not_recovered"]}
    assert event.reason == "source"
    assert AdverseEvent.objects.get(pk=saved["id"]).version == 2
    assert audit_verify().ok


@pytest.mark.django_db
def test_the_registration_read_for_a_save_carries_its_agents_and_consent_date(safety):
    from oncotrials.apps.safety.rights import agents_for_registration
    from oncotrials.apps.safety.selectors import registration_get_for_user
    from oncotrials.apps.safety.services import _collection_start
    from oncotrials.apps.subjects.models import Consent, Registration
    from oncotrials.apps.trials.services import dose_level_create

    reg = safety.registration
    admin = safety.users["admin"]
    # A second agent on a lower level and the first again on a higher one: unique, by level.
    dose_level_create(cohort=reg.cohort, level=0, agent="Drug C", dose="5", unit="mg", by=admin)
    dose_level_create(cohort=reg.cohort, level=9, agent="Drug B", dose="50", unit="mg", by=admin)
    fresh = Registration.objects.get(pk=reg.pk)
    read = registration_get_for_user(user=safety.users["nurse"], registration_id=reg.pk)
    with CaptureQueriesContext(connection) as ctx:
        agents, start = agents_for_registration(read), _collection_start(read)
    assert len(ctx.captured_queries) == (0 if PG else 1)
    assert agents == agents_for_registration(fresh) == ["Drug C", "Drug B"]
    signed = Consent.objects.filter(patient=reg.patient, form__trial=reg.trial).get().signed_on
    assert start == _collection_start(fresh) == signed


@pytest.mark.django_db
def test_a_save_reviews_the_crs_of_a_patient_who_has_some(safety, rules, api_nurse, complete_ae):
    """Whether the patient has CRS/ICANS assessments is read with the registration; when they
    have some, the review of an AE save still reads and weighs them."""
    from django.utils import timezone

    from oncotrials.apps.safety.services import astct_assessment_record
    from oncotrials.apps.trials.models import Trial

    Trial.objects.filter(pk=safety.registration.trial_id).update(modality="cell_therapy")
    safety.registration.trial.refresh_from_db()
    astct_assessment_record(
        registration=safety.registration,
        scale="ASTCT_CRS",
        assessed_at=timezone.now().replace(year=2026, month=11, day=14, hour=8),
        parameters={"temperature_c": 39.2, "hypotension": True, "vasopressors": ["norepinephrine"]},
        attribution="probable",
        by=safety.users["nurse"],
    )
    assert not DltCase.objects.filter(registration=safety.registration).exists()
    body = {"registration_id": safety.registration.pk, "complete": True}
    _post(api_nurse, {**body, **complete_ae(term="Nausea", grade=1)})
    keys = set(
        DltCase.objects.filter(registration=safety.registration).values_list(
            "event_key", "proposed_outcome"
        )
    )
    assert ("ASTCT_CRS", "dlt") in keys


@pytest.mark.django_db
def test_the_rules_a_save_uses_follow_a_change_of_the_rules(safety, rules):
    """The parsed rules are cached by the rule set's identity read with the registration: a
    change of the rules (a new version) is read once, then served from the cache."""
    from oncotrials.apps.safety.dlt_review import _rules_of, dlt_rules_save
    from oncotrials.apps.safety.selectors import registration_get_for_user

    nurse, investigator = safety.users["nurse"], safety.users["investigator"]
    pk = safety.registration.pk
    first = _rules_of(registration_get_for_user(user=nurse, registration_id=pk))
    assert first is not None
    assert first[0].version == rules.version
    dlt = {**rules.document["dlt"], "window": {"anchor": "first_dose", "days": 14}}
    document = {**rules.document, "dlt": dlt}
    dlt_rules_save(
        trial=safety.registration.trial,
        document=document,
        by=investigator,
        version=rules.version,
        reason="window",
    )
    reg = registration_get_for_user(user=nurse, registration_id=pk)
    with CaptureQueriesContext(connection) as ctx:
        changed = _rules_of(reg)
    assert len(ctx.captured_queries) == 1  # the new version is read once
    assert changed is not None
    assert changed[0].version == rules.version + 1
    assert first[1].window_days == 21
    assert changed[1].window_days == 14
    reg = registration_get_for_user(user=nurse, registration_id=pk)
    with CaptureQueriesContext(connection) as ctx:
        again = _rules_of(reg)
    assert len(ctx.captured_queries) == 0
    assert again is not None
    assert again[1].window_days == 14
