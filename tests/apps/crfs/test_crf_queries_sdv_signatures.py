"""Queries, source-data verification and e-signatures on any versioned record."""

from __future__ import annotations

import datetime as dt

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.crfs.selectors import queries_for_user, record_status
from oncotrials.apps.crfs.services import (
    form_save,
    lab_result_create,
    query_answer,
    query_close,
    query_raise,
    sdv_is_current,
    sdv_record,
    signature_is_valid,
    signature_sign,
)
from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError

PASSWORD = "a-long-test-password-42"  # tests/conftest.py

VITALS = {"assessed_on": "2026-11-13", "systolic_bp": "120", "heart_rate": 72}


def _vitals(cb, *, version=0, data=VITALS, reason=""):
    return form_save(
        registration=cb.registration,
        visit_code="C1D1",
        form_name="vital_signs",
        data=data,
        version=version,
        complete=True,
        reason=reason,
        by=cb.users["nurse"],
    )


def test_a_query_is_raised_answered_and_closed_with_a_trail(cb):
    form = _vitals(cb)
    q = query_raise(
        record=form, field="heart_rate", text="Source says 62?", by=cb.users["datamanager"]
    )
    assert [r.pk for r in queries_for_user(user=cb.users["nurse"])] == [q.pk]
    assert list(queries_for_user(user=cb.users["partner_investigator"])) == []
    assert list(queries_for_user(user=cb.users["monitor"])) == []  # another trial's monitor
    with pytest.raises(PermissionDeniedError):
        query_close(query=q, text="", by=cb.users["nurse"])  # the site does not close
    query_answer(query=q, text="Confirmed 72 in the notes.", by=cb.users["nurse"])
    with pytest.raises(ConflictError):
        query_answer(query=q, text="again", by=cb.users["nurse"])
    closed = query_close(query=q, text="OK", by=cb.users["datamanager"])
    assert closed.status == "closed"
    assert [(e.action, e.by.username) for e in closed.events.all()] == [
        ("raised", "datamanager"),
        ("answered", "nurse"),
        ("closed", "datamanager"),
    ]
    assert list(queries_for_user(user=cb.users["nurse"])) == []
    assert AuditEvent.objects.filter(object_type="crfs.dataquery").count() == 3


def test_a_query_must_name_a_field_of_the_record(cb):
    form = _vitals(cb)
    with pytest.raises(ValidationError, match="no field 'pulse'"):
        query_raise(record=form, field="pulse", text="?", by=cb.users["datamanager"])


def test_monitor_verifies_source_data_but_cannot_edit(cb):
    form = _vitals(cb)
    monitor = cb.users["shared_monitor"]
    sdv = sdv_record(record=form, by=monitor, note="checked against chart")
    assert sdv.record_version == form.version
    assert sdv_is_current(form)
    with pytest.raises(ConflictError, match="already verified"):
        sdv_record(record=form, by=monitor)
    with pytest.raises(PermissionDeniedError):
        form_save(
            registration=cb.registration,
            visit_code="C1D1",
            form_name="vital_signs",
            data=VITALS,
            version=form.version,
            complete=True,
            reason="x",
            by=monitor,
        )
    with pytest.raises(PermissionDeniedError):
        sdv_record(record=form, by=cb.users["nurse"])  # site staff do not verify themselves
    # The monitor may raise a query.
    query_raise(record=form, field="heart_rate", text="Chart says 62", by=monitor)
    changed = _vitals(cb, version=form.version, data={**VITALS, "heart_rate": 62}, reason="query")
    assert not sdv_is_current(changed)
    assert record_status(changed).verified_current is False


def test_a_signature_is_invalidated_by_any_later_change_of_the_signed_record(cb):
    form = _vitals(cb)
    investigator = cb.users["investigator"]
    with pytest.raises(PermissionDeniedError, match="password"):
        signature_sign(record=form, meaning="reviewed", password="wrong", by=investigator)
    sig = signature_sign(record=form, meaning="reviewed", password=PASSWORD, by=investigator)
    assert sig.signer_name == "Ines Vidal"
    assert signature_is_valid(form)
    # Queries and verification do not change the record.
    query_raise(record=form, field="", text="fine", by=cb.users["datamanager"])
    sdv_record(record=form, by=cb.users["shared_monitor"])
    assert signature_is_valid(sig)
    _vitals(cb, version=form.version, data={**VITALS, "heart_rate": 73}, reason="re-read")
    assert not signature_is_valid(sig)
    assert not signature_is_valid(form)
    assert record_status(form).signatures[0].valid is False


def test_only_investigators_sign(cb):
    form = _vitals(cb)
    for name in ("nurse", "shared_monitor", "datamanager"):
        with pytest.raises(PermissionDeniedError):
            signature_sign(record=form, meaning="reviewed", password=PASSWORD, by=cb.users[name])
    with pytest.raises(ValidationError, match="meaning"):
        signature_sign(
            record=form, meaning="whatever", password=PASSWORD, by=cb.users["investigator"]
        )


def test_a_casebook_signature_is_invalidated_by_a_new_record_in_the_casebook(cb):
    _vitals(cb)
    sig = signature_sign(
        record=cb.registration, meaning="approved", password=PASSWORD, by=cb.users["investigator"]
    )
    assert signature_is_valid(sig)
    lab_result_create(
        registration=cb.registration,
        analyte="ALT",
        value="30",
        unit="U/L",
        uln="40",
        sampled_on=dt.date(2026, 11, 13),
        by=cb.users["nurse"],
    )
    assert not signature_is_valid(sig)
