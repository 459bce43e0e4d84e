"""Adverse events of registrations read with what their saves check against
(``with_ae_save_context``: the demo's many saves) read neither the trial consent nor the DLT
rules again; what was read with them is what a save reads for itself."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oncotrials.apps.safety.models import AdverseEvent
from oncotrials.apps.safety.selectors import CONSENT_SIGNED_ON, with_ae_save_context
from oncotrials.apps.safety.services import _collection_start, adverse_event_create
from oncotrials.apps.subjects.models import Registration


def _with_context(registration: Registration) -> Registration:
    return with_ae_save_context(
        Registration.objects.select_related("trial", "patient", "cohort").filter(pk=registration.pk)
    ).get()


@pytest.mark.django_db
def test_saves_read_neither_the_consent_nor_the_rules_again(safety, rules, complete_ae):
    reg = _with_context(safety.registration)
    nurse = safety.users["nurse"]
    adverse_event_create(
        registration=reg, data=complete_ae(term="Nausea", grade=1), by=nurse, complete=True
    )
    with CaptureQueriesContext(connection) as ctx:
        adverse_event_create(
            registration=reg, data=complete_ae(term="Fatigue", grade=1), by=nurse, complete=True
        )
    statements = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "subjects_consent" not in statements
    assert "safety_dltruleset" not in statements
    assert AdverseEvent.objects.filter(registration=reg).count() == 2


@pytest.mark.django_db
def test_the_collection_start_read_with_the_registration_is_the_one_a_save_reads(safety):
    reg = _with_context(safety.registration)
    assert getattr(reg, CONSENT_SIGNED_ON) is not None  # the trial consent of the screening
    assert _collection_start(reg) == _collection_start(
        Registration.objects.get(pk=safety.registration.pk)
    )
