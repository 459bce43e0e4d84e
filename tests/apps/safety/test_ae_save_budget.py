"""Query budget of one adverse-event save through the API (issue 8: p95 <= 100 ms at 32 clients).

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
# Authentication 2 (token, memberships), registration with its consent date 1, agents, AE insert
# 1, DLT review 8 (rules, registration lock, AEs, labs, CRS/ICANS, administrations, cases, case
# insert), audit chain.
CREATE_BUDGET = 12 + AGENTS + AUDIT
# Authentication 2, AE with its registration and consent date 1, AE lock 1, agents 1, AE update 1,
# DLT review 7 (the case exists and is unchanged: no insert), audit chain.
UPDATE_BUDGET = 13 + AUDIT


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
